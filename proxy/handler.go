package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
)

// responseWriter remembers the status and whether anything was written, so
// that the log line and the Result tell what the client saw. Everything it
// sends, headers and body, passes through mask, so that no pool key and
// not the access key reaches the client on any route (see secretMasker).
type responseWriter struct {
	http.ResponseWriter
	status  int
	written bool
	aborted bool // the stream broke after the first byte; cut the connection

	mask secretMasker
	// held is the end of what was written that may be the start of a
	// secret continued by the next write; it goes out with that write, or
	// at the end of the request (release).
	held []byte
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.mask.header(w.Header())
		// Masking may shorten the body; net/http sets the length itself
		// when the whole answer fits its buffer.
		w.Header().Del("Content-Length")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.written = true
	data := p
	if len(w.held) > 0 {
		data = append(w.held, p...)
		w.held = nil
	}
	out, hold := w.mask.apply(data, false)
	if hold > 0 {
		w.held = append([]byte(nil), out[len(out)-hold:]...)
		out = out[:len(out)-hold]
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// release sends what was held back at the end of the response.
func (w *responseWriter) release() {
	if len(w.held) > 0 {
		out, _ := w.mask.apply(w.held, true)
		w.held = nil
		w.ResponseWriter.Write(out)
	}
}

// Flush sends what was written so far to the client.
func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route is the kind of request a path names.
type route int

const (
	routeAdmin route = iota // management API and web UI
	routeHealth
	routeNative
	routeOpenAI
	routeResponses
	routeAnthropic
)

// dialectRoutes are the client API routes under /v1 that the proxy answers
// by translation, by path without the /v1 prefix. Every other /v1 path that
// is not a native Gemini resource (nativeV1Collections) gets a local 404 in
// OpenAI's error shape and never reaches Google. A new dialect adds its
// paths here (e.g. "/responses", "/messages") with its route kind.
var dialectRoutes = map[string]route{
	"/chat/completions":      routeOpenAI,
	"/embeddings":            routeOpenAI,
	"/responses":             routeResponses,
	"/messages":              routeAnthropic,
	"/messages/count_tokens": routeAnthropic,
}

// nativeV1Collections are the Gemini API collections a /v1/{collection}
// path may name (the rest of /v1 belongs to the OpenAI-style dialects).
var nativeV1Collections = map[string]bool{
	"models": true, "tunedModels": true, "files": true, "cachedContents": true, "operations": true,
	"batches": true, "corpora": true, "generatedFiles": true, "fileSearchStores": true, "dynamic": true,
}

// routeOf decides who serves r. OpenAI and native Gemini share /v1/models:
// a request that carries a Gemini-style key (x-goog-api-key or ?key=) is
// native, one with anthropic-version is Anthropic's, any other is OpenAI
// (DESIGN §3).
func routeOf(r *http.Request) (route, string) {
	p := r.URL.Path
	switch {
	case p == "/healthz":
		return routeHealth, ""
	case strings.HasPrefix(p, "/v1beta/openai/"):
		sub := "/" + strings.TrimPrefix(p, "/v1beta/openai/")
		if kind, ok := dialectRoutes[sub]; ok {
			return kind, sub
		}
		return routeOpenAI, sub
	case p == "/responses":
		return routeResponses, p
	case p == "/chat/completions", p == "/embeddings", p == "/models", strings.HasPrefix(p, "/models/"):
		return routeOpenAI, p
	case p == "/v1/models" || strings.HasPrefix(p, "/v1/models/"):
		geminiStyle := r.Header.Get("x-goog-api-key") != "" || r.URL.Query().Get("key") != ""
		if !geminiStyle && !strings.Contains(p, ":") && r.Header.Get("anthropic-version") != "" {
			return routeAnthropic, strings.TrimPrefix(p, "/v1") // Anthropic's SDKs
		}
		if !geminiStyle && !strings.Contains(p, ":") {
			return routeOpenAI, strings.TrimPrefix(p, "/v1")
		}
		return routeNative, ""
	case strings.HasPrefix(p, "/v1/"):
		sub := strings.TrimPrefix(p, "/v1")
		if kind, ok := dialectRoutes[sub]; ok {
			return kind, sub
		}
		if strings.HasPrefix(sub, "/responses/") {
			return routeResponses, sub // retrieval: answered locally
		}
		if strings.HasPrefix(sub, "/messages/") {
			return routeAnthropic, sub // answered locally in Anthropic's shape
		}
		collection, _, _ := strings.Cut(sub[1:], "/")
		collection, _, _ = strings.Cut(collection, ":")
		if nativeV1Collections[collection] {
			return routeNative, ""
		}
		return routeOpenAI, sub // answered locally: unknown OpenAI-style route
	case strings.HasPrefix(p, "/v1beta/"), strings.HasPrefix(p, "/v1alpha/"), strings.HasPrefix(p, "/upload/"):
		return routeNative, ""
	}
	return routeAdmin, ""
}

// hasDotSegment reports whether a path has a "." or ".." segment, also
// when it came percent-encoded (%2e%2e): such paths are refused rather than
// forwarded or normalised.
func hasDotSegment(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// ServeHTTP is the proxy's front door.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Load()
	if !hostAllowed(r.Host, cfg.AllowedHosts) {
		dropBody(rw, r)
		http.Error(rw, "Forbidden: requests must be addressed to 127.0.0.1 or localhost (DNS-rebinding protection). For LAN use, add this host name to the allowed hosts in Settings.", http.StatusForbidden)
		return
	}
	if hasDotSegment(r.URL.Path) || strings.Contains(r.URL.Path, "\\") {
		dropBody(rw, r)
		http.Error(rw, "Bad Request: paths with . or .. segments are refused", http.StatusBadRequest)
		return
	}
	kind, openAIPath := routeOf(r)
	switch kind {
	case routeHealth:
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, `{"status":"ok"}`)
		return
	case routeAdmin:
		if s.admin == nil {
			http.NotFound(rw, r)
			return
		}
		s.admin.ServeHTTP(rw, r)
		return
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		preflight(rw, r)
		return
	}
	setCORS(rw, r)

	res := &Result{Time: time.Now(), ID: newRequestID()}
	w := &responseWriter{ResponseWriter: rw, mask: secretMasker{pool: s.pool, access: []byte(cfg.AccessKey)}}
	w.Header().Set("X-Request-Id", res.ID)
	defer s.finish(w, r, res)

	rq := &request{w: w, r: r, cfg: cfg, res: res, d: dialectOf(kind), path: openAIPath}
	if cfg.Paused {
		rq.deny(http.StatusServiceUnavailable, "UNAVAILABLE", "the proxy is paused; resume it from the tray or the window")
		return
	}
	rq.credential = clientCredential(r)
	switch {
	case cfg.Passthrough && rq.credential == "":
		rq.deny(http.StatusUnauthorized, "UNAUTHENTICATED", "passthrough mode is on: send your own Gemini API key (x-goog-api-key, ?key= or Authorization: Bearer)")
		return
	case !cfg.Passthrough && !tokenEqual(rq.credential, cfg.AccessKey):
		msg := "missing access key: send the proxy's access key as x-goog-api-key, ?key= or Authorization: Bearer"
		if rq.credential != "" {
			msg = "invalid access key: use the access key shown in Gemini Balance Desktop"
		}
		rq.deny(http.StatusUnauthorized, "UNAUTHENTICATED", msg)
		return
	}
	// In passthrough mode the client's own Gemini key goes upstream; a
	// client that presents the access key is served from the pool: the
	// access key never leaves the machine.
	if cfg.Passthrough && !tokenEqual(rq.credential, cfg.AccessKey) {
		rq.clientKey = apikey.NewSecret(rq.credential)
	}
	rq.d.serve(s, rq)
}

// finish logs the request and hands its Result to the recorder. An aborted
// stream is cut here, after the bookkeeping.
func (s *Server) finish(w *responseWriter, r *http.Request, res *Result) {
	res.Latency = time.Since(res.Time)
	if res.Status == 0 {
		res.Status = w.status
	}
	if res.Status == 0 {
		res.Status = 499
	}
	if res.Attempts == 0 && res.Class == gemini.ClassOK {
		// No upstream answer: the proxy answered by itself (a rejection, a
		// local error, or a locally served success).
		res.Class = gemini.LocalClass(res.Status)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("id", res.ID), slog.String("route", res.Route), slog.String("method", res.Method),
		slog.String("model", res.Model), slog.String("key", res.KeyID), slog.Int("status", res.Status),
		slog.Int("attempts", res.Attempts), slog.String("class", res.Class.String()), slog.Bool("stream", res.Stream),
		slog.Duration("latency", res.Latency.Round(time.Millisecond)))
	if s.rec != nil {
		s.rec.Record(*res)
	}
	if w.aborted {
		panic(http.ErrAbortHandler)
	}
	w.release()
}

// setUsage fills token counts from an answer body or a stream's last event.
func (res *Result) setUsage(body []byte) {
	if p, c, t, ok := gemini.UsageCounts(body); ok {
		res.PromptTokens, res.OutputTokens, res.ThoughtTokens = p, c, t
	}
}

// humanBytes formats a byte count as "32 MiB".
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// dropBody prepares an answer given without reading the request body: the
// connection is closed after it (so net/http does not wait to discard a
// body the client may never send), and a read deadline in the past ends
// any read of it at once. Without a body there is nothing to do.
func dropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}

// uploadReadTimeout bounds a whole streamed upload body; each of its reads
// must make progress within half of Config.BodyReadTimeout.
const uploadReadTimeout = time.Hour

// readBody reads r's body, at most limit bytes, within timeout.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, error) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		// Nothing more is read from this client: the answer closes the
		// connection.
		dropBody(w, r)
		return nil, err
	}
	// Cleared after a good read: net/http keeps reading the connection in
	// the background to notice a client that leaves, and an expired
	// deadline there would cancel the request.
	rc.SetReadDeadline(time.Time{})
	return body, nil
}

// uploadBody streams an upload body: every read must make progress within
// idle and the whole body arrive within uploadReadTimeout. A read that
// fails ends the reading from this client for good (failed says why).
type uploadBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time

	mu  sync.Mutex
	err error
}

func newUploadBody(w http.ResponseWriter, body io.ReadCloser, idle time.Duration) *uploadBody {
	return &uploadBody{body: body, rc: http.NewResponseController(w), idle: idle, end: time.Now().Add(uploadReadTimeout)}
}

func (u *uploadBody) Read(p []byte) (int, error) {
	d := time.Now().Add(u.idle)
	if d.After(u.end) {
		d = u.end
	}
	u.rc.SetReadDeadline(d)
	n, err := u.body.Read(p)
	switch {
	case err == io.EOF:
		u.done()
	case err != nil:
		u.mu.Lock()
		u.err = err
		u.mu.Unlock()
		u.rc.SetReadDeadline(time.Now()) // nothing more is read from this client
	}
	return n, err
}

func (u *uploadBody) Close() error { return u.body.Close() }

// failed returns the error of a read that failed, or nil.
func (u *uploadBody) failed() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// done clears the deadline once the upload is read (or the answer is in),
// unless a read failed.
func (u *uploadBody) done() {
	if u.failed() == nil {
		u.rc.SetReadDeadline(time.Time{})
	}
}
