package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// serveOpenAI serves the OpenAI-compatible routes by translation. path is
// the route without its /v1 or /v1beta/openai prefix, e.g. "/chat/completions".
func (s *Server) serveOpenAI(w *responseWriter, r *http.Request, cfg *Config, res *Result, path, credential string) {
	var clientKey apikey.Secret
	if cfg.Passthrough {
		clientKey = apikey.NewSecret(credential)
	}
	switch {
	case path == "/chat/completions" && r.Method == http.MethodPost:
		res.Route, res.Method = "openai.chat", "generateContent"
		s.openAIChat(w, r, cfg, res, clientKey)
	case path == "/embeddings" && r.Method == http.MethodPost:
		res.Route, res.Method = "openai.embeddings", "batchEmbedContents"
		s.openAIEmbeddings(w, r, cfg, res, clientKey)
	case path == "/models" && r.Method == http.MethodGet:
		res.Route, res.Method = "openai.models", "list"
		s.openAIModels(w, r, cfg, res, clientKey)
	case strings.HasPrefix(path, "/models/") && r.Method == http.MethodGet:
		res.Route, res.Method = "openai.models", "get"
		s.openAIModel(w, r, cfg, res, clientKey, strings.TrimPrefix(path, "/models/"))
	case path == "/chat/completions" || path == "/embeddings" || path == "/models":
		writeOpenAIError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not supported", r.Method, path), "invalid_request_error", "")
	default:
		res.Route = "openai"
		writeOpenAIError(w, http.StatusNotFound, fmt.Sprintf("unknown OpenAI route %s; supported: /v1/chat/completions, /v1/embeddings, /v1/models", path), "not_found_error", "")
	}
}

// readOpenAIBody reads a request body under the size limit, answering the
// client itself when that fails.
func (s *Server) readOpenAIBody(w *responseWriter, r *http.Request, cfg *Config) ([]byte, bool) {
	body, err := readBody(w, r, cfg.MaxBodyBytes, cfg.BodyReadTimeout)
	if err != nil {
		s.writeBodyError(w, err, cfg, true)
		return nil, false
	}
	return body, true
}

// geminiCall builds the upstream call for model and method with a JSON body.
func geminiCall(model, method string, body []byte, clientKey apikey.Secret) *call {
	return &call{
		httpMethod: http.MethodPost,
		path:       "/v1beta/models/" + url.PathEscape(model) + ":" + method,
		query:      url.Values{},
		header:     http.Header{"Content-Type": {"application/json"}},
		body:       body,
		model:      model,
		method:     method,
		clientKey:  clientKey,
	}
}

func (s *Server) openAIChat(w *responseWriter, r *http.Request, cfg *Config, res *Result, clientKey apikey.Secret) {
	body, ok := s.readOpenAIBody(w, r, cfg)
	if !ok {
		return
	}
	req, err := openai.ParseChatRequest(body)
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	tr, err := openai.ToGemini(r.Context(), req, openai.RequestOptions{Aliases: cfg.Aliases, FetchImage: s.imageFetcher(cfg), Signatures: s.signatures})
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	res.Model, res.Stream = tr.Model, tr.Stream
	gbody, err := json.Marshal(tr.Body)
	if err != nil {
		writeOpenAIError(w, http.StatusInternalServerError, "could not encode the Gemini request", "server_error", "")
		return
	}
	c := geminiCall(tr.Model, "generateContent", gbody, clientKey)
	if tr.Stream {
		c.method, c.stream, c.sse = "streamGenerateContent", true, true
		c.path = "/v1beta/models/" + url.PathEscape(tr.Model) + ":streamGenerateContent"
		c.query.Set("alt", "sse")
		res.Method = c.method
	} else {
		c.checkEmpty = true
	}
	a, err := s.exchange(r.Context(), cfg, c, res)
	if err != nil {
		s.writeOpenAILocalError(w, err)
		return
	}
	defer a.close()
	if !a.ok() {
		writeUpstreamOpenAIError(w, a)
		return
	}
	meta := openai.ResponseMeta{Model: req.Model, Created: time.Now().Unix(), Signatures: s.signatures}
	if !tr.Stream {
		out, err := openai.FromGeminiJSON(a.body, meta)
		if err != nil {
			writeOpenAIErr(w, err)
			return
		}
		res.setUsage(a.body)
		writeJSON(w, http.StatusOK, out)
		return
	}
	s.openAIStream(w, r, res, a, openai.NewStreamTranslator(meta, tr.IncludeUsage))
}

// openAIStream translates an upstream SSE stream chunk by chunk, flushing
// each upstream event's chunks as it arrives. A failure after the first
// byte ends the stream with an error event and never with [DONE].
func (s *Server) openAIStream(w *responseWriter, r *http.Request, res *Result, a *answer, st *openai.StreamTranslator) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	buf := make([]byte, 0, 4096)
	emit := func(chunks []openai.ChatCompletionChunk) error {
		buf = buf[:0]
		for i := range chunks {
			var err error
			buf = append(buf, "data: "...)
			if buf, err = chunks[i].AppendJSON(buf); err != nil {
				return err
			}
			buf = append(buf, "\n\n"...)
		}
		if len(buf) == 0 {
			return nil
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	fail := func(e *openai.Error) {
		w.Write([]byte("data: " + string(openai.ErrorChunk(e)) + "\n\n"))
		w.Flush()
	}
	defer func() {
		if u, ok := st.Usage(); ok {
			res.PromptTokens = int64(u.PromptTokenCount)
			res.OutputTokens = int64(u.CandidatesTokenCount)
			res.ThoughtTokens = int64(u.ThoughtsTokenCount)
		}
	}()

	ev := a.first
	for {
		chunks, err := st.Translate(ev.Data)
		if err != nil {
			res.Class, res.Status = gemini.ClassTransient, http.StatusBadGateway
			fail(asOpenAIError(err))
			return
		}
		if err := emit(chunks); err != nil {
			res.Class, res.Status = gemini.ClassCanceled, 499
			return
		}
		ev, err = a.events.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if r.Context().Err() != nil {
				res.Class, res.Status = gemini.ClassCanceled, 499
				return
			}
			res.Class, res.Status = gemini.ClassTransient, http.StatusBadGateway
			s.log.Warn("upstream stream broke after the first byte; ending with an error event", "id", res.ID, "key", res.KeyID, "err", gemini.Redact(err.Error()))
			fail(&openai.Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream stream broke off before it was complete; the answer above is partial"})
			return
		}
	}
	if err := emit(st.Finish()); err != nil {
		return
	}
	w.Write([]byte("data: [DONE]\n\n"))
	w.Flush()
}

func (s *Server) openAIEmbeddings(w *responseWriter, r *http.Request, cfg *Config, res *Result, clientKey apikey.Secret) {
	body, ok := s.readOpenAIBody(w, r, cfg)
	if !ok {
		return
	}
	req, err := openai.ParseEmbeddingRequest(body)
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	model, err := openai.ResolveModel(req.Model, cfg.Aliases)
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	res.Model = model
	gbody, err := json.Marshal(openai.ToGeminiEmbeddings(req, model))
	if err != nil {
		writeOpenAIError(w, http.StatusInternalServerError, "could not encode the Gemini request", "server_error", "")
		return
	}
	a, err := s.exchange(r.Context(), cfg, geminiCall(model, "batchEmbedContents", gbody, clientKey), res)
	if err != nil {
		s.writeOpenAILocalError(w, err)
		return
	}
	defer a.close()
	if !a.ok() {
		writeUpstreamOpenAIError(w, a)
		return
	}
	var gresp gemini.BatchEmbedContentsResponse
	if err := json.Unmarshal(a.body, &gresp); err != nil {
		writeOpenAIError(w, http.StatusBadGateway, "the upstream embeddings answer is not valid JSON", "server_error", "")
		return
	}
	out, err := openai.FromGeminiEmbeddings(&gresp, req, req.Model)
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// maxModelPages bounds how many pages of the models list are merged.
const maxModelPages = 20

func (s *Server) openAIModels(w *responseWriter, r *http.Request, cfg *Config, res *Result, clientKey apikey.Secret) {
	var pages []gemini.ListModelsResponse
	token := ""
	for i := 0; i < maxModelPages; i++ {
		q := url.Values{"pageSize": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		c := &call{httpMethod: http.MethodGet, path: "/v1beta/models", query: q, header: http.Header{}, method: "list", clientKey: clientKey}
		a, err := s.exchange(r.Context(), cfg, c, res)
		if err != nil {
			s.writeOpenAILocalError(w, err)
			return
		}
		if !a.ok() {
			writeUpstreamOpenAIError(w, a)
			a.close()
			return
		}
		var page gemini.ListModelsResponse
		err = json.Unmarshal(a.body, &page)
		a.close()
		if err != nil {
			writeOpenAIError(w, http.StatusBadGateway, "the upstream models list is not valid JSON", "server_error", "")
			return
		}
		pages = append(pages, page)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	writeJSON(w, http.StatusOK, openai.FromGeminiModels(pages...))
}

func (s *Server) openAIModel(w *responseWriter, r *http.Request, cfg *Config, res *Result, clientKey apikey.Secret, id string) {
	model, err := openai.ResolveModel(id, cfg.Aliases)
	if err != nil {
		writeOpenAIErr(w, err)
		return
	}
	res.Model = model
	c := &call{httpMethod: http.MethodGet, path: "/v1beta/models/" + url.PathEscape(model), query: url.Values{}, header: http.Header{}, method: "get", clientKey: clientKey}
	a, err := s.exchange(r.Context(), cfg, c, res)
	if err != nil {
		s.writeOpenAILocalError(w, err)
		return
	}
	defer a.close()
	if !a.ok() {
		writeUpstreamOpenAIError(w, a)
		return
	}
	var m gemini.Model
	if err := json.Unmarshal(a.body, &m); err != nil {
		writeOpenAIError(w, http.StatusBadGateway, "the upstream model answer is not valid JSON", "server_error", "")
		return
	}
	writeJSON(w, http.StatusOK, openai.FromGeminiModel(m))
}

// writeUpstreamOpenAIError translates Google's error answer, keeping its
// HTTP status and Retry-After.
func writeUpstreamOpenAIError(w *responseWriter, a *answer) {
	if ra := a.resp.Header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	e := openai.FromGeminiError(a.resp.StatusCode, a.body)
	if a.verdict.Class == gemini.ClassRegion {
		e.Message = strings.TrimSpace(e.Message) + " " + gemini.RegionHint
	}
	openai.WriteError(w, e)
}

// writeOpenAILocalError answers an attempt-loop failure in OpenAI's shape.
func (s *Server) writeOpenAILocalError(w *responseWriter, err error) {
	le := asLocalError(err)
	if le == errClientGone {
		w.status = 499
		return
	}
	if le.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterValue(le.retryAfter))
	}
	openai.WriteError(w, &openai.Error{Status: le.status, Message: le.message, Code: strings.ToLower(le.grpcStatus)})
}

// asOpenAIError returns err as an *openai.Error (a 400 when it is not one).
func asOpenAIError(err error) *openai.Error {
	var e *openai.Error
	if errors.As(err, &e) {
		return e
	}
	return &openai.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
}

func writeOpenAIErr(w http.ResponseWriter, err error) { openai.WriteError(w, asOpenAIError(err)) }

// writeOpenAIError writes {"error":{"message","type","param","code"}}.
func writeOpenAIError(w http.ResponseWriter, status int, msg, typ, param string) {
	openai.WriteError(w, &openai.Error{Status: status, Message: msg, Type: typ, Param: param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeOpenAIError(w, http.StatusInternalServerError, "could not encode the answer", "server_error", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// imageFetcher returns the function that fetches http(s) image URLs of
// OpenAI requests: through the upstream proxy setting, with a timeout and a
// size cap, and with none of the client's credentials.
func (s *Server) imageFetcher(cfg *Config) openai.FetchFunc {
	return func(ctx context.Context, raw string) (string, []byte, error) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", nil, fmt.Errorf("image URL must be an absolute http(s) URL")
		}
		ctx, cancel := context.WithTimeout(ctx, cfg.ImageFetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", nil, fmt.Errorf("image URL: %v", err)
		}
		req.Header.Set("User-Agent", "gemini-balance-desktop")
		client := &http.Client{Transport: s.transport.Load()}
		resp, err := client.Do(req)
		if err != nil {
			return "", nil, fmt.Errorf("could not fetch the image at %s: %s", u.Redacted(), describeNetErr(err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", nil, fmt.Errorf("could not fetch the image at %s: HTTP %d", u.Redacted(), resp.StatusCode)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, cfg.ImageFetchMaxBytes+1))
		if err != nil {
			return "", nil, fmt.Errorf("could not fetch the image at %s: %s", u.Redacted(), describeNetErr(err))
		}
		if int64(len(data)) > cfg.ImageFetchMaxBytes {
			return "", nil, fmt.Errorf("the image at %s is larger than %s", u.Redacted(), humanBytes(cfg.ImageFetchMaxBytes))
		}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return mt, data, nil
	}
}
