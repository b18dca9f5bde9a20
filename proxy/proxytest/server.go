package proxytest

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxRequestBody bounds what the fake reads (and records) of a request.
const maxRequestBody = 256 << 20

// Server is a scripted fake of generativelanguage.googleapis.com. It
// answers with real captured bodies (see testdata/SOURCES.md) and is safe
// for concurrent use.
type Server struct {
	srv  *httptest.Server
	done chan struct{} // closed by Close: waiting steps give up

	// Immutable after NewServer.
	unaryHeaders  http.Header
	streamHeaders http.Header
	genBody       []byte   // default generateContent answer
	countBody     []byte   // default countTokens answer
	stream        [][]byte // default stream events
	page1         []byte   // models list page 1, verbatim
	page1Count    int      // models on page1
	models        []modelEntry
	chunkTmpl     []byte // synthetic stream chunk, text replaced
	finalTmpl     []byte // synthetic last chunk

	mu        sync.Mutex
	closed    bool
	scripts   map[string][]Step
	shared    []Step
	requests  []Request
	validKeys map[string]bool
	latency   time.Duration
	defEvents int // SetDefaultStream; 0: the captured stream
	defEvery  time.Duration
	synth     map[synthKey][][]byte
	seq       uint64
	files     map[string]*fileRes
	caches    map[string]*cacheRes
	uploads   map[string]*uploadSession
}

// Request is one request the fake received.
type Request struct {
	Time     time.Time
	Key      string // x-goog-api-key, else the ?key= parameter; "" if none
	KeyInURL bool   // the request carried ?key= (the proxy must never do that)
	Method   string // HTTP method
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Model is the model of /models/{model}… routes ("gemini-2.5-flash").
	Model string
	// Action is the Gemini method ("generateContent",
	// "streamGenerateContent", "countTokens", "embedContent", …) or, for the
	// other routes, "models.list", "models.get", "files.upload",
	// "files.get", "files.list", "files.delete", "cachedContents.create",
	// "cachedContents.get", "cachedContents.list", "cachedContents.delete",
	// "cachedContents.patch"; "" for a path the fake does not know.
	Action string
}

// New starts a fake Gemini server that tb's cleanup closes.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Gemini server without a testing.TB (benchmarks,
// tools); call Close when done.
func NewServer() *Server {
	s := &Server{
		done:    make(chan struct{}),
		scripts: make(map[string][]Step),
		synth:   make(map[synthKey][][]byte),
		files:   make(map[string]*fileRes),
		caches:  make(map[string]*cacheRes),
		uploads: make(map[string]*uploadSession),
	}
	s.unaryHeaders, s.streamHeaders = recordedHeaders()
	s.genBody = FixtureBody(fxGenerate)
	s.countBody = FixtureBody(fxCountTokens)
	s.stream = splitEvents(FixtureBody(fxStream))
	s.page1 = FixtureBody(fxModelsPage1)
	s.models = parseModels(s.page1)
	s.page1Count = len(s.models)
	s.models = append(s.models, parseModels(FixtureBody(fxModelsPage2))...)
	s.chunkTmpl, s.finalTmpl = syntheticTemplates(s.stream)

	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // aborted streams are on purpose
	s.srv.Start()
	return s
}

// URL returns the base URL, e.g. "http://127.0.0.1:41234" (no version).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server: waiting steps (Hang, Gate, SlowStream) give up
// and open connections are closed. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Script queues answers for key (matched by x-goog-api-key, else ?key=),
// consumed one per request in order. When the key's queue is empty, the
// ScriptAll queue answers, then the default answer for the route.
func (s *Server) Script(key string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[key] = append(s.scripts[key], steps...)
}

// ScriptAll queues answers shared by every key whose own queue is empty:
// each request of any such key consumes the next one.
func (s *Server) ScriptAll(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shared = append(s.shared, steps...)
}

// SetValidKeys makes every other key answer 400 API_KEY_INVALID (before
// any script). With no keys, every key is valid (the default).
func (s *Server) SetValidKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validKeys = nil
	if len(keys) > 0 {
		s.validKeys = make(map[string]bool, len(keys))
		for _, k := range keys {
			s.validKeys[k] = true
		}
	}
}

// SetLatency delays every answer by d (time to first byte), e.g. to
// benchmark the proxy against an upstream with realistic latency.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetDefaultStream replaces the default streamGenerateContent answer (the
// captured 3-event stream) with events synthetic chunks interval apart, as
// SSEStream does; e.g. SetDefaultStream(20, 5*time.Millisecond) for
// benchmarks. events <= 0 restores the captured stream.
func (s *Server) SetDefaultStream(events int, interval time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defEvents, s.defEvery = max(events, 0), interval
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// CountFor returns how many requests carried key.
func (s *Server) CountFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Key == key {
			n++
		}
	}
	return n
}

// Pending returns how many scripted steps are still queued for key (an
// Always step counts as one).
func (s *Server) Pending(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.scripts[key])
}

// nextStep pops the step that answers key's request, if any.
func (s *Server) nextStep(key string) (Step, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pop := func(q []Step) (Step, []Step) {
		st := q[0]
		if st.sticky {
			return st, q
		}
		return st, q[1:]
	}
	if q := s.scripts[key]; len(q) > 0 {
		var st Step
		st, s.scripts[key] = pop(q)
		return st, true
	}
	if len(s.shared) > 0 {
		var st Step
		st, s.shared = pop(s.shared)
		return st, true
	}
	return Step{}, false
}

// ServeHTTP answers one request: it records it, checks the key, then
// serves the next scripted step or the route's default answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	rt := parseRoute(r)
	key := r.Header.Get("x-goog-api-key")
	queryKey := r.URL.Query().Get("key")
	if key == "" {
		key = queryKey
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Time: time.Now(), Key: key, KeyInURL: queryKey != "", Method: r.Method, Path: r.URL.Path,
		RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Model: rt.model, Action: rt.action,
	})
	latency := s.latency
	valid := s.validKeys == nil || s.validKeys[key]
	s.mu.Unlock()

	c := &call{s: s, w: w, r: r, key: key, rt: rt, body: body}
	if latency > 0 && !c.wait(latency) {
		return
	}
	if rt.action == "" {
		page := bytes.Replace(FixtureBody(fxNotFoundHTML), []byte("PATH"), []byte(html.EscapeString(r.URL.Path)), 1)
		c.writeRaw(http.StatusNotFound, "text/html; charset=UTF-8", page)
		return
	}
	// The session URL of a resumable upload is its own credential.
	uploadSession := rt.action == "files.upload" && r.URL.Query().Get("upload_id") != ""
	switch {
	case key == "" && uploadSession:
		c.serveDefault()
		return
	case key == "":
		c.writeError(http.StatusForbidden, FixtureBody(fxUnregistered))
		return
	case !valid:
		c.writeError(http.StatusBadRequest, FixtureBody(fxKeyInvalid))
		return
	}
	if st, ok := s.nextStep(key); ok {
		st.run(c)
		return
	}
	c.serveDefault()
}

// route is what the fake understood of a request path.
type route struct {
	action string // see Request.Action
	ver    string // v1beta, v1, v1alpha
	model  string
	id     string // file, cachedContent
	sse    bool   // ?alt=sse
}

// streaming reports whether the request asked for a stream.
func (rt route) streaming() bool { return rt.action == "streamGenerateContent" }

// parseRoute maps a request to a route; action "" when unknown.
func parseRoute(r *http.Request) route {
	p := r.URL.Path
	upload := strings.HasPrefix(p, "/upload/")
	if upload {
		p = strings.TrimPrefix(p, "/upload")
	}
	ver, resource, rest, ok := splitPath(p)
	if !ok {
		return route{}
	}
	rt := route{ver: ver, sse: r.URL.Query().Get("alt") == "sse"}
	switch {
	case upload:
		if resource == "files" && rest == "" && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			rt.action = "files.upload"
		}
	case resource == "models":
		rt.action, rt.model = modelAction(r.Method, rest)
	default:
		rt.action = collectionAction(resource, r.Method, rest)
		if rt.action != "" {
			rt.id = rest
		}
	}
	return rt
}

// splitPath splits "/v1beta/models/x:generateContent" into the API
// version, the resource and the rest ("" when the path names the
// collection); ok is false for an unknown version or a path too short.
func splitPath(p string) (ver, resource, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) < 2 || (parts[0] != "v1beta" && parts[0] != "v1" && parts[0] != "v1alpha") {
		return "", "", "", false
	}
	if len(parts) == 3 {
		rest = parts[2]
	}
	return parts[0], parts[1], rest, true
}

// modelAction maps a request under models/: the list, one model, or a
// model method ("gemini-2.5-flash:generateContent"); action "" when
// unknown.
func modelAction(httpMethod, rest string) (action, model string) {
	name, method, isCall := strings.Cut(rest, ":")
	switch {
	case rest == "" && httpMethod == http.MethodGet:
		return "models.list", ""
	case !isCall && rest != "" && httpMethod == http.MethodGet:
		return "models.get", rest
	case isCall && name != "" && method != "" && httpMethod == http.MethodPost:
		return method, name
	}
	return "", ""
}

// collectionAction maps a request on files or cachedContents — on the
// collection (rest "") or on one item — to its action: "files.list",
// "cachedContents.patch", …; "" when unknown.
func collectionAction(resource, httpMethod, rest string) string {
	item := rest != ""
	var op string
	switch {
	case httpMethod == http.MethodGet && !item:
		op = "list"
	case httpMethod == http.MethodGet:
		op = "get"
	case httpMethod == http.MethodDelete && item:
		op = "delete"
	case httpMethod == http.MethodPost && !item:
		op = "create"
	case httpMethod == http.MethodPatch && item:
		op = "patch"
	default:
		return ""
	}
	switch {
	case resource == "cachedContents", resource == "files" && (op == "list" || op == "get" || op == "delete"):
		return resource + "." + op
	}
	return ""
}

// call is one request being answered.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	key  string
	rt   route
	body []byte
}

// serveDefault gives the route's answer when no step is scripted.
func (c *call) serveDefault() {
	switch c.rt.action {
	case "generateContent":
		if c.checkReferences() {
			c.writeJSON(http.StatusOK, c.s.genBody)
		}
	case "streamGenerateContent":
		if c.checkReferences() {
			c.stream(c.s.defaultPlan())
		}
	case "countTokens":
		if c.checkReferences() {
			c.writeJSON(http.StatusOK, c.s.countBody)
		}
	case "embedContent":
		c.embedContent()
	case "batchEmbedContents":
		c.batchEmbedContents()
	case "models.list":
		c.listModels()
	case "models.get":
		c.getModel()
	case "files.upload":
		c.upload()
	case "files.get", "files.delete", "files.list":
		c.files()
	case "cachedContents.create", "cachedContents.get", "cachedContents.list", "cachedContents.delete", "cachedContents.patch":
		c.cachedContents()
	default: // a model method the fake does not model: echo it
		c.writeJSON(http.StatusOK, []byte(fmt.Sprintf("{\n  \"method\": %q\n}\n", c.rt.action)))
	}
}

// setHeaders puts Google's recorded response headers and contentType on
// the response.
func (c *call) setHeaders(contentType string, stream bool) {
	src := c.s.unaryHeaders
	if stream {
		src = c.s.streamHeaders
	}
	h := c.w.Header()
	for k, v := range src {
		h[k] = v
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
}

// writeRaw answers status with body as given.
func (c *call) writeRaw(status int, contentType string, body []byte) {
	c.setHeaders(contentType, false)
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// writeJSON answers status with a JSON body.
func (c *call) writeJSON(status int, body []byte) {
	c.writeRaw(status, "application/json; charset=UTF-8", body)
}

// writeError answers an error body. Google serves errors to ?alt=sse as
// plain JSON labelled text/event-stream (response-headers.recorded.json).
func (c *call) writeError(status int, body []byte) {
	ct := "application/json; charset=UTF-8"
	if c.rt.sse {
		ct = "text/event-stream"
	}
	c.writeRaw(status, ct, body)
}

// writeGoogleError answers a synthetic error of Google's shape.
func (c *call) writeGoogleError(code int, status, message string) {
	body := fmt.Sprintf("{\n  \"error\": {\n    \"code\": %d,\n    \"message\": %q,\n    \"status\": %q\n  }\n}\n", code, message, status)
	c.writeError(code, []byte(body))
}

// flush sends what was written so far.
func (c *call) flush() {
	_ = http.NewResponseController(c.w).Flush()
}

// abort breaks the connection without ending the response.
func (c *call) abort() {
	c.flush()
	panic(http.ErrAbortHandler)
}

// wait sleeps d; false if the request or the server ended first.
func (c *call) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.r.Context().Done():
	case <-c.s.done:
	}
	return false
}

// waitChan waits for ch; false if the request or the server ended first.
func (c *call) waitChan(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-c.r.Context().Done():
	case <-c.s.done:
	}
	return false
}

// streamPlan is a streamed answer.
type streamPlan struct {
	events    [][]byte // raw SSE events ("data: …\r\n\r\n")
	interval  time.Duration
	gate      <-chan struct{} // if set: wait for it after the first event
	failAfter int             // abort after this many events; -1: end normally
}

// stream answers with p: SSE for ?alt=sse, else a JSON array of the events'
// data, flushing after each event.
func (c *call) stream(p streamPlan) {
	sse := c.rt.sse && c.rt.streaming()
	if sse {
		c.setHeaders("text/event-stream", true)
	} else {
		c.setHeaders("application/json; charset=UTF-8", false)
	}
	c.w.WriteHeader(http.StatusOK)
	if !sse {
		_, _ = io.WriteString(c.w, "[")
	}
	c.flush()
	for i, ev := range p.events {
		if i == p.failAfter {
			c.abort()
		}
		if i > 0 {
			// Cut rather than end cleanly when the wait is given up: the
			// client must not see a complete-looking short stream.
			if !c.wait(p.interval) {
				c.abort()
			}
			if i == 1 && p.gate != nil && !c.waitChan(p.gate) {
				c.abort()
			}
		}
		chunk := ev
		if !sse {
			chunk = eventData(ev)
			if i > 0 {
				chunk = append([]byte(",\r\n"), chunk...)
			}
		}
		if _, err := c.w.Write(chunk); err != nil {
			return
		}
		c.flush()
	}
	if p.failAfter >= 0 {
		c.abort()
	}
	if !sse {
		_, _ = io.WriteString(c.w, "]")
	}
}

// defaultPlan is the default streamGenerateContent answer.
func (s *Server) defaultPlan() streamPlan {
	s.mu.Lock()
	n, every := s.defEvents, s.defEvery
	s.mu.Unlock()
	if n > 0 {
		return streamPlan{events: s.synthetic(n, true), interval: every, failAfter: -1}
	}
	return streamPlan{events: s.stream, failAfter: -1}
}

// defaultBody is the default non-stream answer (for StreamFailAfter).
func (s *Server) defaultBody(*call) []byte { return s.genBody }
