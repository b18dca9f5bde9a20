package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// openAIDialect is the OpenAI API (Chat Completions, embeddings, models),
// served by translation (proxy/openai). Errors are
// {"error":{"message","type","param","code"}}; a stream that breaks after
// its first byte ends with an error event and never with [DONE].
type openAIDialect struct{}

// serve dispatches on rq.path, the route without its /v1 or
// /v1beta/openai prefix, e.g. "/chat/completions".
func (openAIDialect) serve(s *Server, rq *request) {
	r, res, path := rq.r, rq.res, rq.path
	switch {
	case path == "/chat/completions" && r.Method == http.MethodPost:
		res.Route, res.Method = "openai.chat", "generateContent"
		s.openAIChat(rq)
	case path == "/embeddings" && r.Method == http.MethodPost:
		res.Route, res.Method = "openai.embeddings", "batchEmbedContents"
		s.openAIEmbeddings(rq)
	case path == "/models" && r.Method == http.MethodGet:
		res.Route, res.Method = "openai.models", "list"
		s.openAIModels(rq)
	case strings.HasPrefix(path, "/models/") && r.Method == http.MethodGet:
		res.Route, res.Method = "openai.models", "get"
		s.openAIModel(rq, strings.TrimPrefix(path, "/models/"))
	case path == "/chat/completions" || path == "/embeddings" || path == "/models":
		rq.fail(&openai.Error{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Message: fmt.Sprintf("%s %s is not supported", r.Method, path)})
	default:
		res.Route = "openai"
		rq.fail(&openai.Error{Status: http.StatusNotFound, Type: "not_found_error", Message: fmt.Sprintf("unknown OpenAI route %s; supported: /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/models", path)})
	}
}

// writeError answers in OpenAI's error shape.
func (openAIDialect) writeError(w http.ResponseWriter, err error) {
	openai.WriteError(w, asOpenAIError(err))
}

// writeUpstreamError translates Google's error answer, keeping its HTTP
// status and Retry-After.
func (openAIDialect) writeUpstreamError(w http.ResponseWriter, a *answer) {
	keepRetryAfter(w, a)
	e := openai.FromGeminiError(a.resp.StatusCode, a.body)
	if a.verdict.Class == gemini.ClassRegion {
		e.Message = gemini.WithRegionHint(e.Message)
	}
	openai.WriteError(w, e)
}

// writeStreamFailure ends the stream with an error event, which the
// official SDKs raise as an API error; no [DONE] follows.
func (openAIDialect) writeStreamFailure(w *responseWriter, err error) {
	sse.WriteData(w, openai.ErrorChunk(asOpenAIError(err)))
}

// asOpenAIError returns err in OpenAI's shape: an *openai.Error as it is,
// a *localError with its status (Google's status word as the code), and
// anything else as a 400.
func asOpenAIError(err error) *openai.Error {
	var e *openai.Error
	if errors.As(err, &e) {
		return e
	}
	var le *localError
	if errors.As(err, &le) {
		e := &openai.Error{Status: le.status, Message: le.message, Code: strings.ToLower(le.grpcStatus)}
		switch le.status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestTimeout:
			e.Type, e.Code = "invalid_request_error", ""
		case http.StatusServiceUnavailable:
			e.Type = "service_unavailable"
		}
		return e
	}
	return &openai.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
}

func (s *Server) openAIChat(rq *request) {
	req, ok := parseBody(rq, openai.ParseChatRequest)
	if !ok {
		return
	}
	tr, err := openai.ToGemini(rq.r.Context(), req, openai.RequestOptions{Aliases: rq.cfg.Aliases, FetchImage: s.imageFetcher(rq.cfg), Signatures: s.signatures})
	if err != nil {
		rq.fail(err)
		return
	}
	rq.res.Model, rq.res.Stream = tr.Model, tr.Stream
	gbody, err := json.Marshal(tr.Body)
	if err != nil {
		rq.fail(errEncode)
		return
	}
	meta := openai.ResponseMeta{Model: req.Model, Created: time.Now().Unix(), Signatures: s.signatures}
	g := &generation{model: tr.Model, body: gbody, stream: tr.Stream}
	if tr.Stream {
		g.events = &openAIStream{st: openai.NewStreamTranslator(meta, tr.IncludeUsage)}
	} else {
		g.reply = func(body []byte) ([]byte, error) {
			out, err := openai.FromGeminiJSON(body, meta)
			if err != nil {
				return nil, err
			}
			return json.Marshal(out)
		}
	}
	s.generate(rq, g)
}

// openAIStream writes chat completion chunks as "data: {json}" events and
// ends a complete stream with "data: [DONE]".
type openAIStream struct{ st *openai.StreamTranslator }

func (o *openAIStream) translate(dst, data []byte) ([]byte, error) {
	chunks, err := o.st.Translate(data)
	if err != nil {
		return dst, err
	}
	return appendChunks(dst, chunks)
}

func (o *openAIStream) finish(dst []byte) []byte {
	dst, _ = appendChunks(dst, o.st.Finish())
	return append(dst, "data: [DONE]\n\n"...)
}

func (o *openAIStream) usage() (gemini.UsageMetadata, bool) { return o.st.Usage() }

func appendChunks(dst []byte, chunks []openai.ChatCompletionChunk) ([]byte, error) {
	for i := range chunks {
		var err error
		dst = append(dst, "data: "...)
		if dst, err = chunks[i].AppendJSON(dst); err != nil {
			return dst, err
		}
		dst = append(dst, "\n\n"...)
	}
	return dst, nil
}

func (s *Server) openAIEmbeddings(rq *request) {
	req, ok := parseBody(rq, openai.ParseEmbeddingRequest)
	if !ok {
		return
	}
	model, err := openai.ResolveModel(req.Model, rq.cfg.Aliases)
	if err != nil {
		rq.fail(err)
		return
	}
	rq.res.Model = model
	gbody, err := json.Marshal(openai.ToGeminiEmbeddings(req, model))
	if err != nil {
		rq.fail(errEncode)
		return
	}
	a, ok := s.answered(rq, generationCall(model, "batchEmbedContents", gbody, rq.clientKey))
	if !ok {
		return
	}
	defer a.close()
	var gresp gemini.BatchEmbedContentsResponse
	if err := json.Unmarshal(a.body, &gresp); err != nil {
		rq.fail(badUpstream("the upstream embeddings answer is not valid JSON"))
		return
	}
	out, err := openai.FromGeminiEmbeddings(&gresp, req, req.Model)
	if err != nil {
		rq.fail(err)
		return
	}
	rq.writeJSON(out)
}

// badUpstream is a 502 for an upstream answer that cannot be read.
func badUpstream(msg string) *localError {
	return &localError{status: http.StatusBadGateway, grpcStatus: "UNAVAILABLE", message: msg}
}

// maxModelPages bounds how many pages of the models list are merged.
const maxModelPages = 20

func (s *Server) openAIModels(rq *request) {
	if pages, ok := s.geminiModels(rq); ok {
		rq.writeJSON(openai.FromGeminiModels(pages...))
	}
}

// geminiModels reads every page of Google's models list (at most
// maxModelPages) through the attempt loop; on failure it has answered the
// client in rq's dialect and reports false.
func (s *Server) geminiModels(rq *request) ([]gemini.ListModelsResponse, bool) {
	var pages []gemini.ListModelsResponse
	token := ""
	for i := 0; i < maxModelPages; i++ {
		q := url.Values{"pageSize": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		c := &call{httpMethod: http.MethodGet, path: "/v1beta/models", query: q, header: http.Header{}, method: "list", clientKey: rq.clientKey}
		a, ok := s.answered(rq, c)
		if !ok {
			return nil, false
		}
		var page gemini.ListModelsResponse
		err := json.Unmarshal(a.body, &page)
		a.close()
		if err != nil {
			rq.fail(badUpstream("the upstream models list is not valid JSON"))
			return nil, false
		}
		pages = append(pages, page)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	return pages, true
}

func (s *Server) openAIModel(rq *request, id string) {
	if m, ok := s.geminiModel(rq, id); ok {
		rq.writeJSON(openai.FromGeminiModel(*m))
	}
}

// geminiModel reads one model (its id resolved through the aliases) through
// the attempt loop; on failure it has answered the client in rq's dialect
// and reports false.
func (s *Server) geminiModel(rq *request, id string) (*gemini.Model, bool) {
	model, err := openai.ResolveModel(id, rq.cfg.Aliases)
	if err != nil {
		rq.fail(err)
		return nil, false
	}
	rq.res.Model = model
	c := &call{httpMethod: http.MethodGet, path: "/v1beta/models/" + url.PathEscape(model), query: url.Values{}, header: http.Header{}, method: "get", clientKey: rq.clientKey}
	a, ok := s.answered(rq, c)
	if !ok {
		return nil, false
	}
	defer a.close()
	var m gemini.Model
	if err := json.Unmarshal(a.body, &m); err != nil {
		rq.fail(badUpstream("the upstream model answer is not valid JSON"))
		return nil, false
	}
	return &m, true
}
