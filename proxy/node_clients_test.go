package proxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The official Node.js clients (build/e2e/openai-client.mjs with openai@6.49.0 and
// build/e2e/genai-client.mjs with @google/genai@2.32.0) against the running proxy in
// front of the fake Gemini. The scripts check what the clients see; these tests check
// their JSON results and what the fake upstream received.

// Fixtures the tool-call tests serve.
const (
	fxToolCallJSON = "native/generateContent.thinking+functionCall.gemini-2.5-pro.json"
	fxToolCallSSE  = "native/streamGenerateContent.thinking+functionCall.sse.txt"
	fxTextJSON     = "native/generateContent.text.gemini-2.0-flash.json"
	fxBasicSSE     = "native/streamGenerateContent.basic.sse.txt"
)

// nodePart is the part of a Gemini request part the tests read.
type nodePart struct {
	Text         string `json:"text"`
	FunctionCall *struct {
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall"`
	FunctionResponse *struct {
		Name     string         `json:"name"`
		Response map[string]any `json:"response"`
	} `json:"functionResponse"`
	InlineData *struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	} `json:"inlineData"`
	ThoughtSignature string `json:"thoughtSignature"`
}

type nodeContent struct {
	Role  string     `json:"role"`
	Parts []nodePart `json:"parts"`
}

// nodeGenerate is a generateContent request as the fake received it.
type nodeGenerate struct {
	Contents          []nodeContent `json:"contents"`
	SystemInstruction *nodeContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name string `json:"name"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	GenerationConfig map[string]any `json:"generationConfig"`
}

func nodeDecodeUpstream(t *testing.T, req proxytest.Request) nodeGenerate {
	t.Helper()
	var g nodeGenerate
	if err := json.Unmarshal(req.Body, &g); err != nil {
		t.Fatalf("upstream %s body is not JSON: %v\n%s", req.Path, err, req.Body)
	}
	return g
}

// nodeFixtureSignature returns the thoughtSignature of the functionCall in a captured answer
// (a JSON body or an SSE stream).
func nodeFixtureSignature(t *testing.T, name string) string {
	t.Helper()
	body := proxytest.FixtureBody(name)
	var sig string
	for _, chunk := range bytes.Split(body, []byte("\n")) {
		chunk = bytes.TrimPrefix(bytes.TrimSpace(chunk), []byte("data: "))
		if !bytes.Contains(chunk, []byte("functionCall")) {
			continue
		}
		var resp struct {
			Candidates []struct {
				Content nodeContent `json:"content"`
			} `json:"candidates"`
		}
		if json.Unmarshal(chunk, &resp) != nil {
			continue
		}
		for _, c := range resp.Candidates {
			for _, p := range c.Content.Parts {
				if p.FunctionCall != nil {
					sig = p.ThoughtSignature
				}
			}
		}
	}
	if sig == "" {
		// A pretty-printed JSON body: decode it whole.
		var resp struct {
			Candidates []struct {
				Content nodeContent `json:"content"`
			} `json:"candidates"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
		for _, c := range resp.Candidates {
			for _, p := range c.Content.Parts {
				if p.FunctionCall != nil {
					sig = p.ThoughtSignature
				}
			}
		}
	}
	if sig == "" {
		t.Fatalf("fixture %s has no functionCall with a thoughtSignature", name)
	}
	return sig
}

// nodeCheckKeys checks that every upstream request carried one of the pool keys in
// x-goog-api-key only, and that neither the access key nor a bearer token went upstream.
func nodeCheckKeys(t *testing.T, e *env) {
	t.Helper()
	reqs := e.fake.Requests()
	if len(reqs) == 0 {
		t.Fatalf("the fake upstream received no request")
	}
	for _, r := range reqs {
		if !slices.Contains(e.keys, r.Key) || r.KeyInURL || r.Header.Get("X-Goog-Api-Key") != r.Key {
			t.Errorf("upstream %s %s: key (in URL %v) is not a pool key sent as x-goog-api-key", r.Method, r.Path, r.KeyInURL)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("upstream %s %s carried an Authorization header", r.Method, r.Path)
		}
		for name, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, e.accessKey) {
					t.Errorf("upstream %s %s: header %s carried the access key", r.Method, r.Path, name)
				}
			}
		}
		if bytes.Contains(r.Body, []byte(e.accessKey)) {
			t.Errorf("upstream %s %s: the body carried the access key", r.Method, r.Path)
		}
	}
}

// nodeRequests returns the upstream requests of one Gemini method, in order.
func nodeRequests(e *env, action string) []proxytest.Request {
	var out []proxytest.Request
	for _, r := range e.fake.Requests() {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// runNodeClient runs a build/e2e client script and decodes its JSON result.
func runNodeClient(t *testing.T, script string, env map[string]string, out any) {
	t.Helper()
	stdout := e2etest.RunNode(t, script, env)
	if err := json.Unmarshal(bytes.TrimSpace(stdout), out); err != nil {
		t.Fatalf("node %s printed %q: %v", script, stdout, err)
	}
}

// nodePNG returns a small real PNG.
func nodePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for x := 0; x < 3; x++ {
		img.Set(x, 0, color.RGBA{R: 200, A: 255})
		img.Set(x, 1, color.RGBA{B: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// nodeImageServer serves png at /cat.png and records the requests' headers.
type nodeImageServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newNodeImageServer(t *testing.T, img []byte) *nodeImageServer {
	s := &nodeImageServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		if r.URL.Path != "/cat.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *nodeImageServer) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.headers)
}

// nodeToolCall is the tool call openai-client.mjs reports.
type nodeToolCall struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Arguments        string `json:"arguments"`
	ThoughtSignature string `json:"thoughtSignature"`
}

// nodeRunTools is what the runTools cases of openai-client.mjs report.
type nodeRunTools struct {
	Call        nodeToolCall `json:"call"`
	Completions int          `json:"completions"`
	Answer      string       `json:"answer"`
	// ClientSentSignature: the SDK replayed extra_content (then the proxy had nothing to
	// restore and the case tests nothing).
	ClientSentSignature bool `json:"clientSentSignature"`
}

type nodeUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// nodeOpenAIResult is what openai-client.mjs prints.
type nodeOpenAIResult struct {
	Chat *struct {
		Model        string    `json:"model"`
		Content      string    `json:"content"`
		FinishReason string    `json:"finishReason"`
		Usage        nodeUsage `json:"usage"`
	} `json:"chat"`
	Stream *struct {
		Text           string    `json:"text"`
		Chunks         int       `json:"chunks"`
		Usage          nodeUsage `json:"usage"`
		UsageChunkLast bool      `json:"usageChunkLast"`
	} `json:"stream"`
	Tools *struct {
		Call      nodeToolCall `json:"call"`
		Reasoning int          `json:"reasoning"`
		Usage     struct {
			nodeUsage
			CompletionTokensDetails struct {
				ReasoningTokens int `json:"reasoning_tokens"`
			} `json:"completion_tokens_details"`
		} `json:"usage"`
		Answer string `json:"answer"`
	} `json:"tools"`
	ToolsStream *struct {
		Call            nodeToolCall `json:"call"`
		ReasoningDeltas int          `json:"reasoningDeltas"`
		Usage           nodeUsage    `json:"usage"`
		Answer          string       `json:"answer"`
	} `json:"tools_stream"`
	RunTools       *nodeRunTools `json:"run_tools"`
	RunToolsStream *nodeRunTools `json:"run_tools_stream"`
	ReplayStripped *struct {
		ID     string `json:"id"`
		Answer string `json:"answer"`
	} `json:"replay_stripped"`
	ImageData *struct {
		Content string `json:"content"`
	} `json:"image_data"`
	ImageURL *struct {
		Content string `json:"content"`
	} `json:"image_url"`
	Embeddings *struct {
		Model string `json:"model"`
		Data  []struct {
			Index  int       `json:"index"`
			Length int       `json:"length"`
			Head   []float64 `json:"head"`
		} `json:"data"`
	} `json:"embeddings"`
	Error429 *struct {
		Status     int    `json:"status"`
		Type       string `json:"type"`
		Code       string `json:"code"`
		Message    string `json:"message"`
		RetryAfter string `json:"retryAfter"`
	} `json:"error_429"`
	StreamBreak *struct {
		Text  string `json:"text"`
		Error string `json:"error"`
	} `json:"stream_break"`
	Models *struct {
		IDs       []string `json:"ids"`
		Retrieved struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			OwnedBy string `json:"owned_by"`
		} `json:"retrieved"`
	} `json:"models"`
}

func (e *env) runNodeOpenAI(t *testing.T, cases string, extra map[string]string) nodeOpenAIResult {
	t.Helper()
	vars := map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": cases}
	for k, v := range extra {
		vars[k] = v
	}
	var res nodeOpenAIResult
	runNodeClient(t, "openai-client.mjs", vars, &res)
	return res
}

// nodeCheckToolRoundTrip checks the two upstream calls of a tool round trip: the first
// declares now(), the second replays the model's functionCall with signature and answers
// it with a functionResponse.
func nodeCheckToolRoundTrip(t *testing.T, reqs []proxytest.Request, wantSig string) {
	t.Helper()
	if len(reqs) != 2 {
		t.Fatalf("upstream calls = %d, want 2 (the tool call and the answer)", len(reqs))
	}
	first := nodeDecodeUpstream(t, reqs[0])
	if len(first.Tools) != 1 || len(first.Tools[0].FunctionDeclarations) != 1 || first.Tools[0].FunctionDeclarations[0].Name != "now" {
		t.Errorf("turn 1 tools = %+v, want one declaration of now", first.Tools)
	}
	second := nodeDecodeUpstream(t, reqs[1])
	if len(second.Contents) != 3 {
		t.Fatalf("turn 2 contents = %d, want user, model, user:\n%s", len(second.Contents), reqs[1].Body)
	}
	roles := []string{second.Contents[0].Role, second.Contents[1].Role, second.Contents[2].Role}
	if !slices.Equal(roles, []string{"user", "model", "user"}) {
		t.Errorf("turn 2 roles = %v, want [user model user]", roles)
	}
	var call *nodePart
	for i, p := range second.Contents[1].Parts {
		if p.FunctionCall != nil {
			call = &second.Contents[1].Parts[i]
		}
	}
	switch {
	case call == nil:
		t.Errorf("turn 2 model turn = %+v, want the functionCall replayed", second.Contents[1].Parts)
	case call.FunctionCall.Name != "now":
		t.Errorf("turn 2 functionCall name = %q, want now", call.FunctionCall.Name)
	case call.ThoughtSignature != wantSig:
		t.Errorf("turn 2 functionCall thoughtSignature = %.40q…, want %.40q…", call.ThoughtSignature, wantSig)
	}
	if call != nil && !bytes.Equal(bytes.TrimSpace(call.FunctionCall.Args), []byte("{}")) {
		t.Errorf("turn 2 functionCall args = %s, want {}", call.FunctionCall.Args)
	}
	parts := second.Contents[2].Parts
	if len(parts) != 1 || parts[0].FunctionResponse == nil || parts[0].FunctionResponse.Name != "now" ||
		parts[0].FunctionResponse.Response["now"] != "2025-12-30T10:00:00Z" {
		t.Errorf("turn 2 tool turn = %s, want functionResponse now {now: 2025-12-30T10:00:00Z}", nodeJSON(second.Contents[2]))
	}
}

// nodeCheckRunTools checks a runTools case's report: two completions, the signature on
// the first, and a replay that really dropped it.
func nodeCheckRunTools(t *testing.T, name string, got *nodeRunTools, wantSig string) {
	t.Helper()
	switch {
	case got == nil:
		t.Fatalf("%s: no result", name)
	case got.Completions != 2 || got.Call.ThoughtSignature != wantSig || got.Answer == "":
		t.Errorf("%s = %+v, want 2 completions, the signature on the first and an answer", name, got)
	case got.ClientSentSignature:
		t.Errorf("%s: the SDK replayed extra_content, so the proxy's restore is not exercised; change the case", name)
	}
}

func nodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNodeOpenAIClient(t *testing.T) {
	t.Run("chat", func(t *testing.T) {
		e := newEnv(t, 2)
		res := e.runNodeOpenAI(t, "chat", nil)
		if res.Chat == nil || !strings.Contains(res.Chat.Content, "Mountain View") || res.Chat.FinishReason != "stop" ||
			res.Chat.Usage.TotalTokens != 29 || res.Chat.Model != "gemini-2.5-flash" {
			t.Errorf("chat = %+v, want the fixture's answer, stop, 29 tokens, model gemini-2.5-flash", res.Chat)
		}
		reqs := nodeRequests(e, "generateContent")
		if len(reqs) != 1 || reqs[0].Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
			t.Fatalf("upstream = %d generateContent calls, want 1 to gemini-2.5-flash", len(reqs))
		}
		g := nodeDecodeUpstream(t, reqs[0])
		if g.SystemInstruction == nil || len(g.SystemInstruction.Parts) != 1 || g.SystemInstruction.Parts[0].Text != "Be brief." {
			t.Errorf("upstream systemInstruction = %s, want \"Be brief.\"", nodeJSON(g.SystemInstruction))
		}
		if len(g.Contents) != 1 || g.Contents[0].Role != "user" || g.Contents[0].Parts[0].Text != "Hi" {
			t.Errorf("upstream contents = %s, want one user turn \"Hi\"", nodeJSON(g.Contents))
		}
		nodeCheckKeys(t, e)
	})

	t.Run("stream", func(t *testing.T) {
		e := newEnv(t, 2)
		res := e.runNodeOpenAI(t, "stream", nil)
		if res.Stream == nil || res.Stream.Text != "The capital of Wyoming is **Cheyenne**.\n" || !res.Stream.UsageChunkLast ||
			res.Stream.Usage.TotalTokens != 17 || res.Stream.Usage.PromptTokens != 7 || res.Stream.Usage.CompletionTokens != 10 {
			t.Errorf("stream = %+v, want the fixture's text and a last usage chunk of 7+10=17 tokens", res.Stream)
		}
		reqs := nodeRequests(e, "streamGenerateContent")
		if len(reqs) != 1 || reqs[0].RawQuery != "alt=sse" {
			t.Fatalf("upstream stream calls = %+v, want 1 with alt=sse", reqs)
		}
		nodeCheckKeys(t, e)
	})

	t.Run("tools", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.Fixture(http.StatusOK, "application/json; charset=UTF-8", proxytest.FixtureBody(fxToolCallJSON)))
		res := e.runNodeOpenAI(t, "tools", nil)
		sig := nodeFixtureSignature(t, fxToolCallJSON)
		if res.Tools == nil || res.Tools.Call.ThoughtSignature != sig || res.Tools.Call.Name != "now" || res.Tools.Reasoning == 0 ||
			res.Tools.Usage.CompletionTokensDetails.ReasoningTokens != 501 || !strings.Contains(res.Tools.Answer, "Mountain View") {
			t.Errorf("tools = %+v, want now() with the fixture's signature, reasoning, 501 reasoning tokens and the second answer", res.Tools)
		}
		nodeCheckToolRoundTrip(t, nodeRequests(e, "generateContent"), sig)
		nodeCheckKeys(t, e)
	})

	t.Run("tools_stream", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.StreamFixture(proxytest.FixtureBody(fxToolCallSSE)))
		res := e.runNodeOpenAI(t, "tools_stream", nil)
		sig := nodeFixtureSignature(t, fxToolCallSSE)
		if res.ToolsStream == nil || res.ToolsStream.Call.ThoughtSignature != sig || res.ToolsStream.ReasoningDeltas == 0 ||
			res.ToolsStream.Usage.TotalTokens != 212 || !strings.Contains(res.ToolsStream.Answer, "Cheyenne") {
			t.Errorf("tools_stream = %+v, want now() with the stream's signature, reasoning deltas, 212 tokens and the streamed answer", res.ToolsStream)
		}
		reqs := nodeRequests(e, "streamGenerateContent")
		nodeCheckToolRoundTrip(t, reqs, sig)
		for _, r := range reqs {
			if r.RawQuery != "alt=sse" {
				t.Errorf("upstream stream call query = %q, want alt=sse", r.RawQuery)
			}
		}
		nodeCheckKeys(t, e)
	})

	// The SDK's runTools loop replays only standard fields, so the signature is lost on
	// the client side; the proxy restores the one Gemini gave, by tool call id.
	t.Run("run_tools", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.Fixture(http.StatusOK, "application/json; charset=UTF-8", proxytest.FixtureBody(fxToolCallJSON)))
		res := e.runNodeOpenAI(t, "run_tools", nil)
		sig := nodeFixtureSignature(t, fxToolCallJSON)
		nodeCheckRunTools(t, "run_tools", res.RunTools, sig)
		nodeCheckToolRoundTrip(t, nodeRequests(e, "generateContent"), sig)
		nodeCheckKeys(t, e)
	})

	t.Run("run_tools_stream", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.StreamFixture(proxytest.FixtureBody(fxToolCallSSE)))
		res := e.runNodeOpenAI(t, "run_tools_stream", nil)
		sig := nodeFixtureSignature(t, fxToolCallSSE)
		nodeCheckRunTools(t, "run_tools_stream", res.RunToolsStream, sig)
		nodeCheckToolRoundTrip(t, nodeRequests(e, "streamGenerateContent"), sig)
		nodeCheckKeys(t, e)
	})

	// A proxy that never returned the call (restarted since, or the history came from
	// elsewhere) cannot know its signature: it sends Google's documented placeholder.
	t.Run("replay_stripped", func(t *testing.T) {
		first := newEnv(t, 1)
		first.fake.ScriptAll(proxytest.Fixture(http.StatusOK, "application/json; charset=UTF-8", proxytest.FixtureBody(fxToolCallJSON)))
		call := first.runNodeOpenAI(t, "run_tools", nil).RunTools
		if call == nil || call.Call.ID == "" {
			t.Fatalf("run_tools on the first proxy = %+v, want a tool call id", call)
		}
		// The same history, sent to a fresh proxy.
		e := newEnv(t, 2)
		res := e.runNodeOpenAI(t, "replay_stripped", map[string]string{"TOOL_CALL_ID": call.Call.ID})
		if res.ReplayStripped == nil || res.ReplayStripped.ID != call.Call.ID || res.ReplayStripped.Answer == "" {
			t.Errorf("replay_stripped = %+v, want an answer for call %s", res.ReplayStripped, call.Call.ID)
		}
		reqs := nodeRequests(e, "generateContent")
		if len(reqs) != 1 {
			t.Fatalf("upstream generateContent calls = %d, want 1", len(reqs))
		}
		g := nodeDecodeUpstream(t, reqs[0])
		var sigs []string
		for _, c := range g.Contents {
			for _, p := range c.Parts {
				if p.FunctionCall != nil {
					sigs = append(sigs, p.ThoughtSignature)
				}
			}
		}
		if !slices.Equal(sigs, []string{"skip_thought_signature_validator"}) {
			t.Errorf("upstream functionCall thoughtSignatures = %.60q, want [skip_thought_signature_validator]", sigs)
		}
		nodeCheckKeys(t, e)
	})

	t.Run("image_data", func(t *testing.T) {
		e := newEnv(t, 1)
		img := nodePNG(t)
		b64 := base64.StdEncoding.EncodeToString(img)
		res := e.runNodeOpenAI(t, "image_data", map[string]string{"IMAGE_B64": b64})
		if res.ImageData == nil || res.ImageData.Content == "" {
			t.Errorf("image_data = %+v, want an answer", res.ImageData)
		}
		nodeCheckInlineImage(t, e, b64)
		nodeCheckKeys(t, e)
	})

	t.Run("image_url", func(t *testing.T) {
		// The image server is on loopback, which the fetcher refuses
		// unless the user allows it.
		e := newEnv(t, 1, func(c *Config) { c.ImageFetchAllowHosts = []string{"127.0.0.1"} })
		img := nodePNG(t)
		srv := newNodeImageServer(t, img)
		res := e.runNodeOpenAI(t, "image_url", map[string]string{"IMAGE_URL": srv.URL + "/cat.png"})
		if res.ImageURL == nil || res.ImageURL.Content == "" {
			t.Errorf("image_url = %+v, want an answer", res.ImageURL)
		}
		nodeCheckInlineImage(t, e, base64.StdEncoding.EncodeToString(img))
		hits := srv.requests()
		if len(hits) != 1 {
			t.Fatalf("image server hits = %d, want 1", len(hits))
		}
		for name, vs := range hits[0] {
			for _, v := range vs {
				if strings.Contains(v, e.accessKey) || slices.ContainsFunc(e.keys, func(k string) bool { return strings.Contains(v, k) }) {
					t.Errorf("image fetch header %s carried a key", name)
				}
			}
		}
		nodeCheckKeys(t, e)
	})

	t.Run("embeddings", func(t *testing.T) {
		e := newEnv(t, 1)
		res := e.runNodeOpenAI(t, "embeddings", map[string]string{"EMBED_MODEL": "text-embedding-004", "EMBED_DIMS": "768"})
		if res.Embeddings == nil || len(res.Embeddings.Data) != 2 {
			t.Fatalf("embeddings = %+v, want 2 vectors", res.Embeddings)
		}
		reqs := nodeRequests(e, "batchEmbedContents")
		if len(reqs) != 1 || reqs[0].Path != "/v1beta/models/text-embedding-004:batchEmbedContents" {
			t.Fatalf("upstream batchEmbedContents calls = %d, want 1 to text-embedding-004", len(reqs))
		}
		var sent struct {
			Requests []struct {
				Model   string      `json:"model"`
				Content nodeContent `json:"content"`
			} `json:"requests"`
		}
		if err := json.Unmarshal(reqs[0].Body, &sent); err != nil || len(sent.Requests) != 2 ||
			sent.Requests[0].Model != "models/text-embedding-004" || sent.Requests[1].Content.Parts[0].Text != "second text" {
			t.Errorf("upstream batchEmbedContents body = %s", reqs[0].Body)
		}
		// The SDK asked for base64 and decoded it; the float answer must hold the same values.
		resp, body := e.openAI("POST", "/v1/embeddings", `{"model":"text-embedding-004","input":["first text","second text"],"encoding_format":"float"}`)
		e.wantStatus(resp, body, 200)
		var floats struct {
			Data []struct {
				Embedding []float64 `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &floats); err != nil || len(floats.Data) != 2 {
			t.Fatalf("float embeddings = %.300s", body)
		}
		for i, d := range res.Embeddings.Data {
			if d.Length != 768 || d.Index != i || len(d.Head) != 4 {
				t.Errorf("embeddings data[%d] = %+v, want 768 values at index %d", i, d, i)
				continue
			}
			for j, v := range d.Head {
				if want := float32(floats.Data[i].Embedding[j]); float32(v) != want || math.IsNaN(v) {
					t.Errorf("embeddings data[%d][%d] = %v (SDK-decoded base64), want %v (float answer)", i, j, v, want)
				}
			}
		}
		nodeCheckKeys(t, e)
	})

	t.Run("models", func(t *testing.T) {
		e := newEnv(t, 1)
		res := e.runNodeOpenAI(t, "models", nil)
		want := nodeFakeModelIDs(t)
		if res.Models == nil || !slices.Equal(nodeSorted(res.Models.IDs), want) {
			t.Errorf("models = %+v, want every model of both upstream pages %v", res.Models, want)
		}
		if res.Models != nil && (res.Models.Retrieved.ID != "gemini-2.5-flash" || res.Models.Retrieved.OwnedBy != "google") {
			t.Errorf("models.retrieve = %+v", res.Models.Retrieved)
		}
		if lists := nodeRequests(e, "models.list"); len(lists) < 2 {
			t.Errorf("upstream models.list calls = %d, want every page (≥ 2)", len(lists))
		}
		if gets := nodeRequests(e, "models.get"); len(gets) != 1 || gets[0].Path != "/v1beta/models/gemini-2.5-flash" {
			t.Errorf("upstream models.get calls = %+v, want 1 for gemini-2.5-flash", gets)
		}
		nodeCheckKeys(t, e)
	})

	t.Run("error_429", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("20s")))
		res := e.runNodeOpenAI(t, "error_429", nil)
		if res.Error429 == nil || res.Error429.Status != 429 || res.Error429.Type != "rate_limit_error" || res.Error429.RetryAfter == "" {
			t.Errorf("error_429 = %+v, want a RateLimitError of type rate_limit_error with Retry-After", res.Error429)
		}
		if n := len(e.fake.Requests()); n != 2 {
			t.Errorf("upstream calls = %d, want 2 (each key once; the SDK itself must not retry)", n)
		}
		nodeCheckKeys(t, e)
	})

	t.Run("stream_break", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.StreamFailAfter(1))
		res := e.runNodeOpenAI(t, "stream_break", nil)
		if res.StreamBreak == nil || res.StreamBreak.Text != "chunk 1 " || !strings.Contains(res.StreamBreak.Error, "partial") {
			t.Errorf("stream_break = %+v, want the first chunk's text, then an APIError saying the answer is partial", res.StreamBreak)
		}
		nodeCheckKeys(t, e)
	})
}

// nodeCheckInlineImage checks that the one upstream generateContent carried the image as
// inlineData next to the text.
func nodeCheckInlineImage(t *testing.T, e *env, wantB64 string) {
	t.Helper()
	reqs := nodeRequests(e, "generateContent")
	if len(reqs) != 1 {
		t.Fatalf("upstream generateContent calls = %d, want 1", len(reqs))
	}
	g := nodeDecodeUpstream(t, reqs[0])
	if len(g.Contents) != 1 || len(g.Contents[0].Parts) != 2 {
		t.Fatalf("upstream contents = %.500s, want one user turn with text and image", nodeJSON(g.Contents))
	}
	parts := g.Contents[0].Parts
	if parts[0].Text == "" {
		t.Errorf("upstream part 0 = %+v, want the text", parts[0])
	}
	if d := parts[1].InlineData; d == nil || d.MimeType != "image/png" || d.Data != wantB64 {
		t.Errorf("upstream part 1 = %.200s, want inlineData image/png with the image's bytes", nodeJSON(parts[1]))
	}
}

// nodeFakeModelIDs returns the sorted ids of the models the fake lists on its two pages.
func nodeFakeModelIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, name := range []string{"native/models.list.v1beta.page1.EXCERPT.json", "synthesized/models.list.v1beta.page2.SHAPE.json"} {
		var page struct {
			Models []struct {
				Name string `json:"name"`
			} `json:"models"`
		}
		if err := json.Unmarshal(proxytest.FixtureBody(name), &page); err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
		for _, m := range page.Models {
			ids = append(ids, strings.TrimPrefix(m.Name, "models/"))
		}
	}
	slices.Sort(ids)
	return ids
}

func nodeSorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// nodeGenAIResult is what genai-client.mjs prints.
type nodeGenAIResult struct {
	Generate struct {
		Text          string `json:"text"`
		FinishReason  string `json:"finishReason"`
		UsageMetadata struct {
			TotalTokenCount int `json:"totalTokenCount"`
		} `json:"usageMetadata"`
	} `json:"generate"`
	Stream struct {
		Chunks        int    `json:"chunks"`
		Text          string `json:"text"`
		FinishReason  string `json:"finishReason"`
		UsageMetadata struct {
			TotalTokenCount int `json:"totalTokenCount"`
		} `json:"usageMetadata"`
	} `json:"stream"`
	Count struct {
		TotalTokens int `json:"totalTokens"`
	} `json:"count"`
	Embed struct {
		Count   int   `json:"count"`
		Lengths []int `json:"lengths"`
	} `json:"embed"`
	Models struct {
		Count int      `json:"count"`
		Pages int      `json:"pages"`
		Names []string `json:"names"`
	} `json:"models"`
}

func TestNodeGenAIClient(t *testing.T) {
	e := newEnv(t, 2)
	var res nodeGenAIResult
	runNodeClient(t, "genai-client.mjs", map[string]string{
		"BASE_URL": e.base, "API_KEY": e.accessKey, "EMBED_DIMS": "16", "PAGE_SIZE": "4",
	}, &res)

	if !strings.Contains(res.Generate.Text, "Mountain View") || res.Generate.FinishReason != "STOP" || res.Generate.UsageMetadata.TotalTokenCount != 29 {
		t.Errorf("generate = %+v, want the fixture's answer", res.Generate)
	}
	if res.Stream.Chunks != 3 || res.Stream.Text != "The capital of Wyoming is **Cheyenne**.\n" || res.Stream.FinishReason != "STOP" ||
		res.Stream.UsageMetadata.TotalTokenCount != 17 {
		t.Errorf("stream = %+v, want the fixture's 3 chunks", res.Stream)
	}
	if res.Count.TotalTokens != 11 {
		t.Errorf("count = %+v, want 11 tokens", res.Count)
	}
	if res.Embed.Count != 2 || !slices.Equal(res.Embed.Lengths, []int{16, 16}) {
		t.Errorf("embed = %+v, want 2 vectors of 16", res.Embed)
	}
	want := nodeFakeModelIDs(t)
	var got []string
	for _, n := range res.Models.Names {
		got = append(got, strings.TrimPrefix(n, "models/"))
	}
	if !slices.Equal(nodeSorted(got), want) || res.Models.Pages < 2 {
		t.Errorf("models = %d names on %d pages, want %v over several pages", res.Models.Count, res.Models.Pages, want)
	}

	// What Google received.
	gens := nodeRequests(e, "generateContent")
	if len(gens) != 1 || gens[0].Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Fatalf("upstream generateContent calls = %d, want 1 to gemini-2.5-flash", len(gens))
	}
	g := nodeDecodeUpstream(t, gens[0])
	if g.SystemInstruction == nil || len(g.SystemInstruction.Parts) != 1 || g.SystemInstruction.Parts[0].Text != "Be brief." {
		t.Errorf("upstream systemInstruction = %s, want \"Be brief.\"", nodeJSON(g.SystemInstruction))
	}
	if g.GenerationConfig["temperature"] != 0.2 {
		t.Errorf("upstream generationConfig = %v, want temperature 0.2", g.GenerationConfig)
	}
	if streams := nodeRequests(e, "streamGenerateContent"); len(streams) != 1 || streams[0].RawQuery != "alt=sse" {
		t.Errorf("upstream stream calls = %+v, want 1 with alt=sse", streams)
	}
	if counts := nodeRequests(e, "countTokens"); len(counts) != 1 {
		t.Errorf("upstream countTokens calls = %d, want 1", len(counts))
	}
	embeds := nodeRequests(e, "batchEmbedContents")
	if len(embeds) != 1 || embeds[0].Path != "/v1beta/models/text-embedding-004:batchEmbedContents" {
		t.Fatalf("upstream batchEmbedContents calls = %d, want 1 (the SDK's embedContent)", len(embeds))
	}
	var eb struct {
		Requests []struct {
			Model                string `json:"model"`
			TaskType             string `json:"taskType"`
			OutputDimensionality int    `json:"outputDimensionality"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(embeds[0].Body, &eb); err != nil || len(eb.Requests) != 2 || eb.Requests[0].OutputDimensionality != 16 ||
		eb.Requests[1].TaskType != "RETRIEVAL_DOCUMENT" {
		t.Errorf("upstream batchEmbedContents body = %s", embeds[0].Body)
	}
	lists := nodeRequests(e, "models.list")
	if len(lists) < 2 {
		t.Fatalf("upstream models.list calls = %d, want one per page", len(lists))
	}
	for i, r := range lists {
		if !strings.Contains(r.RawQuery, "pageSize=4") || (i > 0) != strings.Contains(r.RawQuery, "pageToken=") {
			t.Errorf("upstream models.list call %d query = %q, want pageSize=4 and a pageToken after the first", i, r.RawQuery)
		}
	}
	nodeCheckKeys(t, e)
}
