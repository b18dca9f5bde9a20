package proxytest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// modelEntry is one Model object of the list fixtures, kept verbatim.
type modelEntry struct {
	name string
	raw  json.RawMessage
}

// parseModels reads the models of a ListModelsResponse fixture.
func parseModels(page []byte) []modelEntry {
	var list struct {
		Models []json.RawMessage `json:"models"`
	}
	if err := json.Unmarshal(page, &list); err != nil {
		panic("proxytest: models fixture: " + err.Error())
	}
	out := make([]modelEntry, 0, len(list.Models))
	for _, raw := range list.Models {
		var m struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			panic("proxytest: models fixture: " + err.Error())
		}
		out = append(out, modelEntry{name: m.Name, raw: raw})
	}
	return out
}

// pageToken encodes a page token the way Google's look: base64 of a
// protobuf message whose field 1 is the last model name of the page.
func pageToken(lastName string) string {
	b := append([]byte{0x0a}, binary.AppendUvarint(nil, uint64(len(lastName)))...)
	return base64.StdEncoding.EncodeToString(append(b, lastName...))
}

// pageTokenName decodes pageToken.
func pageTokenName(token string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(b) < 2 || b[0] != 0x0a {
		return "", false
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || uint64(len(b)-1-k) != n {
		return "", false
	}
	return string(b[1+k:]), true
}

// listModels answers GET /{ver}/models: without pageToken and with a page
// size of at least its 9 entries, the captured page 1 verbatim (with its
// nextPageToken); otherwise pages cut from page 1 + page 2.
func (c *call) listModels() {
	q := c.r.URL.Query()
	size := 50 // Google's default page size
	if v := q.Get("pageSize"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			size = min(n, 1000)
		}
	}
	models := c.s.models
	token := q.Get("pageToken")
	if token == "" && size >= c.s.page1Count {
		c.writeJSON(http.StatusOK, c.s.page1)
		return
	}
	start := 0
	if token != "" {
		name, ok := pageTokenName(token)
		start = -1
		for i, m := range models {
			if ok && m.name == name {
				start = i + 1
			}
		}
		if start < 0 {
			c.writeError(http.StatusBadRequest, FixtureBody(fxBadPageToken))
			return
		}
	}
	end := min(start+size, len(models))
	var page struct {
		Models        []json.RawMessage `json:"models"`
		NextPageToken string            `json:"nextPageToken,omitempty"`
	}
	page.Models = []json.RawMessage{}
	for _, m := range models[start:end] {
		page.Models = append(page.Models, m.raw)
	}
	if end < len(models) {
		page.NextPageToken = pageToken(models[end-1].name)
	}
	c.writeIndented(page)
}

// getModel answers GET /{ver}/models/{model}.
func (c *call) getModel() {
	name := "models/" + strings.TrimPrefix(c.rt.model, "models/")
	for _, m := range c.s.models {
		if m.name == name {
			var buf bytes.Buffer
			if json.Indent(&buf, m.raw, "", "  ") != nil {
				c.writeJSON(http.StatusOK, m.raw)
				return
			}
			buf.WriteByte('\n')
			c.writeJSON(http.StatusOK, buf.Bytes())
			return
		}
	}
	ModelNotFound().run(c)
}

// writeIndented answers 200 with v as indented JSON, as Google does.
func (c *call) writeIndented(v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		c.writeGoogleError(http.StatusInternalServerError, "INTERNAL", "proxytest: "+err.Error())
		return
	}
	c.writeJSON(http.StatusOK, append(b, '\n'))
}

// embedRequest is an EmbedContentRequest, as far as the fake reads it.
type embedRequest struct {
	Model                     string          `json:"model"`
	Content                   json.RawMessage `json:"content"`
	OutputDimensionality      int             `json:"outputDimensionality"`
	OutputDimensionalitySnake int             `json:"output_dimensionality"`
}

type embedding struct {
	Values []float32 `json:"values"`
}

// vector builds a deterministic embedding for req: the same content gives
// the same values; the size is outputDimensionality or the model's default
// (3072 for gemini-embedding-*, 768 otherwise).
func (req embedRequest) vector(urlModel string) embedding {
	model := req.Model
	if model == "" {
		model = urlModel
	}
	dims := req.OutputDimensionality
	if dims <= 0 {
		dims = req.OutputDimensionalitySnake
	}
	if dims <= 0 {
		dims = 768
		if strings.Contains(model, "gemini-embedding") {
			dims = 3072
		}
	}
	dims = min(dims, 3072)
	h := fnv.New64a()
	h.Write(compactJSON(req.Content))
	x := h.Sum64()
	v := make([]float32, dims)
	for i := range v {
		x += 0x9e3779b97f4a7c15 // splitmix64
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		f := float64(z>>11)/float64(1<<53)*0.2 - 0.1 // [-0.1, 0.1)
		v[i] = float32(math.Round(f*1e9) / 1e9)
	}
	return embedding{Values: v}
}

// embedContent answers :embedContent, shaped like embedContent.SHAPE.json.
func (c *call) embedContent() {
	var req embedRequest
	if json.Unmarshal(c.body, &req) != nil || len(req.Content) == 0 {
		c.writeError(http.StatusBadRequest, FixtureBody(fxBadJSON))
		return
	}
	c.writeIndented(struct {
		Embedding embedding `json:"embedding"`
	}{req.vector(c.rt.model)})
}

// batchEmbedContents answers :batchEmbedContents with one embedding per
// request, in order, shaped like batchEmbedContents.SHAPE.json.
func (c *call) batchEmbedContents() {
	var req struct {
		Requests []embedRequest `json:"requests"`
	}
	if json.Unmarshal(c.body, &req) != nil || len(req.Requests) == 0 {
		c.writeError(http.StatusBadRequest, FixtureBody(fxBadJSON))
		return
	}
	var resp struct {
		Embeddings []embedding `json:"embeddings"`
	}
	for _, r := range req.Requests {
		resp.Embeddings = append(resp.Embeddings, r.vector(c.rt.model))
	}
	c.writeIndented(resp)
}
