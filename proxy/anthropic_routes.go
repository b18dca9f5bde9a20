package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/proxy/anthropic"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// anthropicDialect is the Anthropic Messages API (POST /v1/messages and
// /v1/messages/count_tokens, as Claude Code and Anthropic's SDKs call them,
// ?beta=true included; GET /v1/models when the request carries
// anthropic-version), served by translation (proxy/anthropic). The access
// key comes as x-api-key or Authorization: Bearer; anthropic-version and
// anthropic-beta are accepted and not needed. Errors are
// {"type":"error","error":{"type","message"}}; a stream that breaks after
// its first event ends with an error event and no message_stop.
type anthropicDialect struct{}

func (anthropicDialect) serve(s *Server, rq *request) {
	r, res := rq.r, rq.res
	rq.w.Header().Set("request-id", res.ID)
	switch {
	case rq.path == "/messages" && r.Method == http.MethodPost:
		res.Route = "anthropic.messages"
		s.anthropicMessages(rq)
	case rq.path == "/messages/count_tokens" && r.Method == http.MethodPost:
		res.Route, res.Method = "anthropic.count_tokens", "countTokens"
		s.anthropicCountTokens(rq)
	case rq.path == "/models" && r.Method == http.MethodGet:
		res.Route, res.Method = "anthropic.models", "list"
		if pages, ok := s.geminiModels(rq); ok {
			rq.writeJSON(anthropic.FromGeminiModels(pages...))
		}
	case strings.HasPrefix(rq.path, "/models/") && r.Method == http.MethodGet:
		res.Route, res.Method = "anthropic.models", "get"
		if m, ok := s.geminiModel(rq, strings.TrimPrefix(rq.path, "/models/")); ok {
			rq.writeJSON(anthropic.FromGeminiModel(*m))
		}
	case rq.path == "/messages" || rq.path == "/messages/count_tokens":
		res.Route = "anthropic"
		rq.fail(&anthropic.Error{Status: http.StatusMethodNotAllowed, Message: fmt.Sprintf("%s %s is not supported", r.Method, "/v1"+rq.path)})
	default:
		res.Route = "anthropic"
		rq.fail(&anthropic.Error{Status: http.StatusNotFound, Type: "not_found_error", Message: fmt.Sprintf("unknown Anthropic route /v1%s; supported: /v1/messages, /v1/messages/count_tokens", rq.path)})
	}
}

// anthropicOptions are the translator's settings for this server.
func (s *Server) anthropicOptions(cfg *Config) anthropic.Options {
	return anthropic.Options{
		ResolveModel: func(name string) (string, error) { return openai.ResolveModel(name, cfg.Aliases) },
		Fetch:        s.imageFetcher(cfg),
		Signatures:   s.signatures,
	}
}

func (s *Server) anthropicMessages(rq *request) {
	req, ok := parseBody(rq, anthropic.ParseRequest)
	if !ok {
		return
	}
	tr, err := anthropic.ToGemini(rq.r.Context(), req, s.anthropicOptions(rq.cfg))
	if err != nil {
		rq.fail(err)
		return
	}
	gbody, err := json.Marshal(tr.Body)
	if err != nil {
		rq.fail(errEncode)
		return
	}
	meta := anthropic.Meta{Model: req.Model, Signatures: s.signatures, Decode: openai.DecodeAnswer}
	g := &generation{model: tr.Model, body: gbody, stream: tr.Stream}
	if tr.Stream {
		g.events = anthropicStream{anthropic.NewStreamTranslator(meta)}
	} else {
		g.reply = func(body []byte) ([]byte, error) {
			out, err := anthropic.FromGeminiJSON(body, meta)
			if err != nil {
				return nil, err
			}
			return out.AppendJSON(make([]byte, 0, len(body)/2+256)), nil
		}
	}
	s.generate(rq, g)
}

// anthropicStream adapts anthropic.StreamTranslator to the shared stream
// loop.
type anthropicStream struct{ st *anthropic.StreamTranslator }

func (a anthropicStream) translate(dst, data []byte) ([]byte, error) {
	return a.st.Translate(dst, data)
}
func (a anthropicStream) finish(dst []byte) []byte            { return a.st.Finish(dst) }
func (a anthropicStream) usage() (gemini.UsageMetadata, bool) { return a.st.Usage() }

func (s *Server) anthropicCountTokens(rq *request) {
	req, ok := parseBody(rq, anthropic.ParseRequest)
	if !ok {
		return
	}
	model, cbody, err := anthropic.ToCountTokens(rq.r.Context(), req, s.anthropicOptions(rq.cfg))
	if err != nil {
		rq.fail(err)
		return
	}
	gbody, err := json.Marshal(cbody)
	if err != nil {
		rq.fail(errEncode)
		return
	}
	rq.res.Model = model
	g := &generation{model: model, method: "countTokens", body: gbody, reply: func(body []byte) ([]byte, error) {
		out, err := anthropic.CountTokensFromGemini(body)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}}
	s.generate(rq, g)
}

// writeError answers in Anthropic's error shape.
func (anthropicDialect) writeError(w http.ResponseWriter, err error) {
	anthropic.WriteError(w, asAnthropicError(err))
}

// writeUpstreamError translates Google's error answer, keeping its HTTP
// status and Retry-After.
func (anthropicDialect) writeUpstreamError(w http.ResponseWriter, a *answer) {
	keepRetryAfter(w, a)
	e := anthropic.FromGeminiError(a.resp.StatusCode, a.body)
	if a.verdict.Class == gemini.ClassRegion {
		e.Message = gemini.WithRegionHint(e.Message)
	}
	anthropic.WriteError(w, e)
}

// writeStreamFailure ends the stream with an error event, which the SDKs
// raise as an API error; no message_stop follows.
func (anthropicDialect) writeStreamFailure(w *responseWriter, err error) {
	sse.NewWriter(w).WriteRaw(anthropic.ErrorEvent(asAnthropicError(err)))
}

// asAnthropicError returns err in Anthropic's shape: an *anthropic.Error as
// it is, a *localError with its status, anything else as a 400.
func asAnthropicError(err error) *anthropic.Error {
	var e *anthropic.Error
	if errors.As(err, &e) {
		return e
	}
	var le *localError
	if errors.As(err, &le) {
		return &anthropic.Error{Status: le.status, Message: le.message}
	}
	return &anthropic.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
}
