package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// A dialect is one client API the proxy speaks: native Gemini (the identity
// dialect, nativeDialect), OpenAI Chat (openAIDialect), OpenAI Responses
// (responsesDialect) and Anthropic Messages (anthropicDialect). ServeHTTP picks
// the dialect once per request, from the path (routeOf), and from then on
// every answer of that request, success or error, is written by it. What
// does not depend on the dialect is shared: the attempt loop, the key pool,
// retries, statistics and logs (exchange, finish), and for dialects that
// translate, the whole generation flow (generate).
//
// To add a dialect:
//
//  1. Put its wire types and its pure translation (request → Gemini, Gemini
//     answer → response, a stream translator, its error shape) in a package
//     of its own under proxy/, like proxy/openai: no I/O there, golden tests
//     from real captures.
//  2. Implement dialect in a file of this package: serve reads the request
//     and, for a generation, turns it into a generation (Gemini model, body,
//     stream flag, reply and stream translators) and hands it to
//     s.generate; other operations build a call and run s.exchange
//     themselves. The four error methods put the proxy's own errors,
//     Google's errors and broken streams in the dialect's shape.
//  3. Give its paths a route kind in dialectRoutes (handler.go) and that
//     kind its dialect in dialectOf.
//  4. Test it with the real SDK of that API against proxytest's fake Gemini.
type dialect interface {
	// serve answers an authenticated request of this dialect.
	serve(s *Server, rq *request)
	// writeError answers with an error the proxy makes itself (access
	// denied, a body that cannot be read, a request the translator rejects,
	// no usable key, an unreachable upstream). err is a *localError, an
	// error of the dialect's translation package (which carries its own
	// status), or anything else (then a 400). Retry-After is already set.
	writeError(w http.ResponseWriter, err error)
	// writeUpstreamError answers with Google's error answer a, which the
	// attempt loop settled on, keeping its HTTP status and Retry-After.
	writeUpstreamError(w http.ResponseWriter, a *answer)
	// writeStreamFailure ends a stream that broke after its first byte so
	// that the client cannot take the part it got for a whole answer: an
	// error event, or, for dialects without one, an aborted response
	// (w.aborted). err is a *localError or an error of the translator.
	writeStreamFailure(w *responseWriter, err error)
}

// keepRetryAfter passes Google's Retry-After on to a translated error answer.
func keepRetryAfter(w http.ResponseWriter, a *answer) {
	if ra := a.resp.Header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
}

// dialectOf returns the dialect that serves requests of kind.
func dialectOf(kind route) dialect {
	switch kind {
	case routeOpenAI:
		return openAIDialect{}
	case routeResponses:
		return &responsesDialect{} // per request: it keeps the stream's state
	case routeAnthropic:
		return anthropicDialect{}
	}
	return nativeDialect{}
}

// request is one authenticated client request on its way through its
// dialect.
type request struct {
	w   *responseWriter
	r   *http.Request
	cfg *Config
	res *Result
	d   dialect
	// path is the route inside the dialect, e.g. "/chat/completions" for
	// /v1/chat/completions; "" for native requests.
	path string
	// credential is what the client presented; clientKey is the same as a
	// Gemini key in passthrough mode (zero otherwise).
	credential string
	clientKey  apikey.Secret
}

// deny answers before the body is read (access denied, paused): the
// connection closes after the answer.
func (rq *request) deny(status int, grpcStatus, msg string) {
	dropBody(rq.w, rq.r)
	rq.fail(&localError{status: status, grpcStatus: grpcStatus, message: msg})
}

// fail answers rq with err, an error the proxy makes itself, through the
// dialect. A client that left gets nothing (status 499 in the log).
func (rq *request) fail(err error) {
	var le *localError
	if errors.As(err, &le) {
		if le == errClientGone {
			rq.w.status = 499
			return
		}
		if le.retryAfter > 0 {
			rq.w.Header().Set("Retry-After", retryAfterValue(le.retryAfter))
		}
	}
	rq.d.writeError(rq.w, err)
}

// readBody reads the request body under the size and time limits; on
// failure it answers the client itself and reports false.
func (rq *request) readBody() ([]byte, bool) {
	body, err := readBody(rq.w, rq.r, rq.cfg.MaxBodyBytes, rq.cfg.BodyReadTimeout)
	if err != nil {
		rq.fail(bodyError(err))
		return nil, false
	}
	return body, true
}

// bodyError says why a request body could not be read.
func bodyError(err error) *localError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &localError{status: http.StatusRequestEntityTooLarge, grpcStatus: "INVALID_ARGUMENT",
			message: "request body is larger than the limit of " + humanBytes(mbe.Limit) + " (setting: max body size)"}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &localError{status: http.StatusRequestTimeout, grpcStatus: "INVALID_ARGUMENT", message: "the request body did not arrive in time"}
	}
	return &localError{status: http.StatusBadRequest, grpcStatus: "INVALID_ARGUMENT", message: "could not read the request body"}
}

// errEncode is the answer when a translated value cannot be encoded.
var errEncode = &localError{status: http.StatusInternalServerError, grpcStatus: "INTERNAL", message: "could not encode the answer"}

// writeJSON answers 200 with v as JSON.
func (rq *request) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		rq.fail(errEncode)
		return
	}
	writeJSONBytes(rq.w, b)
}

func writeJSONBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// generation is a dialect request translated into one Gemini
// generateContent (or streamGenerateContent) call, with what turns the
// answer back into the dialect.
type generation struct {
	model  string
	method string // "generateContent" when empty; the stream method is chosen by stream
	body   []byte // the Gemini request JSON
	stream bool
	// reply turns Gemini's whole 2xx answer into the client's JSON body
	// (non-stream). Its errors go to the dialect's writeError.
	reply func(geminiBody []byte) ([]byte, error)
	// events translates the stream (stream only).
	events streamTranslator
}

// streamTranslator turns the events of one Gemini SSE stream into the
// bytes of the client's stream.
type streamTranslator interface {
	// translate appends to dst the client's events for the data of one
	// Gemini event. An error ends the stream through writeStreamFailure.
	translate(dst, data []byte) ([]byte, error)
	// finish appends the events that close a complete stream.
	finish(dst []byte) []byte
	// usage returns the latest usage metadata seen.
	usage() (gemini.UsageMetadata, bool)
}

// generationCall builds the upstream call for model and method with a JSON
// body.
func generationCall(model, method string, body []byte, clientKey apikey.Secret) *call {
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

// generate runs g through the attempt loop and answers in rq's dialect:
// the reply, the translated stream (flushed per upstream event), or an
// error.
func (s *Server) generate(rq *request, g *generation) {
	method := g.method
	if method == "" {
		method = "generateContent"
	}
	if g.stream {
		method = "streamGenerateContent"
	}
	c := generationCall(g.model, method, g.body, rq.clientKey)
	if g.stream {
		c.stream, c.sse = true, true
		c.query.Set("alt", "sse")
	} else {
		c.checkEmpty = method == "generateContent"
	}
	rq.res.Model, rq.res.Stream, rq.res.Method = g.model, g.stream, method
	a, ok := s.answered(rq, c)
	if !ok {
		return
	}
	defer a.close()
	if !g.stream {
		out, err := g.reply(a.body)
		if err != nil {
			rq.fail(err)
			return
		}
		rq.res.setUsage(a.body)
		writeJSONBytes(rq.w, out)
		return
	}
	s.translateStream(rq, a, g.events)
}

// translateStream sends the translated upstream stream, one write and
// flush per upstream event. A failure after the first byte ends the stream
// through the dialect's writeStreamFailure, never with the closing events.
func (s *Server) translateStream(rq *request, a *answer, st streamTranslator) {
	w, res := rq.w, rq.res
	sse.SetHeaders(w.Header())
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	defer func() {
		if u, ok := st.usage(); ok {
			res.PromptTokens = int64(u.PromptTokenCount)
			res.OutputTokens = int64(u.CandidatesTokenCount)
			res.ThoughtTokens = int64(u.ThoughtsTokenCount)
		}
	}()
	out := sse.NewWriter(w)
	buf := make([]byte, 0, 4096)
	ev := a.first
	for {
		var err error
		buf, err = st.translate(buf[:0], ev.Data)
		if err != nil {
			res.Class, res.Status = gemini.ClassTransient, http.StatusBadGateway
			rq.d.writeStreamFailure(w, err)
			return
		}
		if len(buf) > 0 {
			if err := out.WriteRaw(buf); err != nil {
				res.Class, res.Status = gemini.ClassCanceled, 499
				return
			}
		}
		ev, err = a.events.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.streamBroke(rq, err)
			return
		}
	}
	out.WriteRaw(st.finish(buf[:0]))
}

// errStreamBroke ends a stream whose upstream broke off after the first
// byte reached the client.
var errStreamBroke = &localError{status: http.StatusBadGateway, grpcStatus: "UNAVAILABLE",
	message: "the upstream stream broke off before it was complete; the answer above is partial"}

// streamBroke notes a stream that broke after the client got its first
// byte and lets the dialect end it. A client that left is only logged.
func (s *Server) streamBroke(rq *request, err error) {
	if rq.r.Context().Err() != nil {
		rq.res.Class, rq.res.Status = gemini.ClassCanceled, 499
		return
	}
	rq.res.Class, rq.res.Status = gemini.ClassTransient, http.StatusBadGateway
	s.log.Warn("upstream stream broke after the first byte; ending the stream with the dialect's failure",
		"id", rq.res.ID, "key", rq.res.KeyID, "err", gemini.Redact(err.Error()))
	rq.d.writeStreamFailure(rq.w, errStreamBroke)
}

// answered runs c through the attempt loop for rq and returns the
// successful answer, for the caller to close; on failure it has answered
// the client in rq's dialect (a local or an upstream error) and reports
// false.
func (s *Server) answered(rq *request, c *call) (*answer, bool) {
	a, err := s.exchange(rq.r.Context(), rq.cfg, c, rq.res)
	if err != nil {
		rq.fail(asLocalError(err))
		return nil, false
	}
	if !a.ok() {
		rq.d.writeUpstreamError(rq.w, a)
		a.close()
		return nil, false
	}
	return a, true
}

// parseBody reads rq's body and parses it with parse (a dialect's request
// parser); on failure it has answered the client and reports false.
func parseBody[T any](rq *request, parse func([]byte) (T, error)) (T, bool) {
	var zero T
	body, ok := rq.readBody()
	if !ok {
		return zero, false
	}
	v, err := parse(body)
	if err != nil {
		rq.fail(err)
		return zero, false
	}
	return v, true
}
