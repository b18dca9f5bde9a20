package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
	"github.com/gemini-balance/desktop/proxy/responses"
)

// responsesDialect is the OpenAI Responses API (POST /v1/responses, also
// under /v1beta/openai/ and without /v1), served by translation
// (proxy/responses) on the shared generation flow. Errors before the first
// byte are OpenAI's {"error":{...}}; a stream that breaks after its first
// event ends with response.failed, never with response.completed. One value
// serves one request (dialectOf makes a new one): it keeps the stream's
// translator so that a failure can continue its sequence numbers.
type responsesDialect struct {
	stream *responses.StreamTranslator
}

// serve answers POST /responses; the other /responses paths need OpenAI's
// storage and are a local 404.
func (d *responsesDialect) serve(s *Server, rq *request) {
	rq.res.Route = "openai.responses"
	switch {
	case rq.path == "/responses" && rq.r.Method == http.MethodPost:
		s.responsesCreate(rq, d)
	case rq.path == "/responses":
		rq.fail(&openai.Error{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Message: fmt.Sprintf("%s /v1/responses is not supported; use POST", rq.r.Method)})
	default:
		rq.fail(&openai.Error{Status: http.StatusNotFound, Type: "not_found_error", Message: fmt.Sprintf("%s %s is not supported: this proxy creates responses (POST /v1/responses) but keeps no retrievable copies; continue a response with previous_response_id", rq.r.Method, rq.path)})
	}
}

// writeError answers in OpenAI's error shape.
func (*responsesDialect) writeError(w http.ResponseWriter, err error) {
	openai.WriteError(w, asOpenAIError(err))
}

// writeUpstreamError translates Google's error answer as the OpenAI Chat
// route does, keeping its HTTP status and Retry-After.
func (*responsesDialect) writeUpstreamError(w http.ResponseWriter, a *answer) {
	openAIDialect{}.writeUpstreamError(w, a)
}

// writeStreamFailure ends the stream with response.failed (its error code
// rate_limit_exceeded for a 429, else server_error) and the output so far.
func (d *responsesDialect) writeStreamFailure(w *responseWriter, err error) {
	e := asOpenAIError(err)
	st := d.stream
	if st == nil {
		st = responses.NewStreamTranslator(responses.ResponseMeta{Created: time.Now().Unix()})
	}
	var buf []byte
	for _, ev := range st.Fail(e) {
		buf = ev.AppendSSE(buf)
	}
	w.Write(buf)
	w.Flush()
}

func (s *Server) responsesCreate(rq *request, d *responsesDialect) {
	req, ok := parseBody(rq, responses.ParseRequest)
	if !ok {
		return
	}
	tr, err := responses.ToGemini(rq.r.Context(), req, responses.RequestOptions{
		Aliases: rq.cfg.Aliases, FetchImage: s.imageFetcher(rq.cfg), Signatures: s.signatures, Store: s.responses,
	})
	if err != nil {
		rq.fail(err)
		return
	}
	for _, n := range tr.Notes {
		s.log.Info("responses: request adapted for Gemini", "id", rq.res.ID, "model", tr.Model, "note", n)
	}
	gbody, err := json.Marshal(tr.Body)
	if err != nil {
		rq.fail(errEncode)
		return
	}
	meta := tr.Meta
	meta.Created, meta.Signatures = time.Now().Unix(), s.signatures
	keep := func(r *responses.Response) {
		if tr.Store && r != nil && r.Status != "failed" {
			s.responses.Put(r.ID, tr.History, r.Output)
		}
	}
	g := &generation{model: tr.Model, body: gbody, stream: tr.Stream}
	if tr.Stream {
		d.stream = responses.NewStreamTranslator(meta)
		g.events = &responsesStream{st: d.stream, keep: keep}
	} else {
		g.reply = func(body []byte) ([]byte, error) {
			out, err := responses.FromGeminiJSON(body, meta)
			if err != nil {
				return nil, err
			}
			keep(out)
			return out.AppendJSON(nil), nil
		}
	}
	s.generate(rq, g)
}

// responsesStream writes Responses events ("event: type" + "data: json").
type responsesStream struct {
	st   *responses.StreamTranslator
	keep func(*responses.Response)
}

func (o *responsesStream) translate(dst, data []byte) ([]byte, error) {
	evs, err := o.st.Translate(data)
	if err != nil {
		return dst, err
	}
	for i := range evs {
		dst = evs[i].AppendSSE(dst)
	}
	return dst, nil
}

func (o *responsesStream) finish(dst []byte) []byte {
	evs := o.st.Finish()
	for i := range evs {
		dst = evs[i].AppendSSE(dst)
	}
	o.keep(o.st.Response())
	return dst
}

func (o *responsesStream) usage() (gemini.UsageMetadata, bool) { return o.st.Usage() }
