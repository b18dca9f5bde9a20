package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// nativeTarget is what a native Gemini path names.
type nativeTarget struct {
	model  string // "gemini-2.5-flash"; "" for calls not tied to a model
	method string // "generateContent", "list", "get", "upload", …
}

// parseNativePath reads /v1beta/models/gemini-2.5-flash:generateContent and
// its relatives. Unknown methods and resources pass through as they are.
func parseNativePath(method, path string) nativeTarget {
	rest := strings.TrimPrefix(path, "/upload")
	if i := strings.IndexByte(rest[1:], '/'); i >= 0 {
		rest = rest[i+2:] // drop the version segment
	} else {
		return nativeTarget{method: strings.ToLower(method)}
	}
	if strings.HasPrefix(path, "/upload/") {
		return nativeTarget{method: "upload"}
	}
	last := rest[strings.LastIndexByte(rest, '/')+1:]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		t := nativeTarget{method: last[i+1:]}
		if strings.HasPrefix(rest, "models/") || strings.HasPrefix(rest, "tunedModels/") {
			t.model = last[:i]
		}
		return t
	}
	switch {
	case rest == "models" || rest == "tunedModels" || rest == "files" || rest == "cachedContents":
		if method == http.MethodGet {
			return nativeTarget{method: "list"}
		}
		return nativeTarget{method: "create"}
	case strings.HasPrefix(rest, "models/"):
		return nativeTarget{model: last, method: strings.ToLower(method)}
	}
	return nativeTarget{method: strings.ToLower(method)}
}

// forwardedHeaders copies the client's headers that Google should see:
// never its credentials, cookies, hop-by-hop headers or browser origin.
func forwardedHeaders(in http.Header) http.Header {
	out := make(http.Header, len(in))
	for k, vs := range in {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "X-Goog-Api-Key", "X-Api-Key", "Cookie", "Host", "Content-Length",
			"Accept-Encoding", "Origin", "Referer", "X-Forwarded-For", "X-Real-Ip", "Forwarded":
			continue
		}
		if strings.HasPrefix(strings.ToLower(k), "sec-") || strings.HasPrefix(strings.ToLower(k), "access-control-") {
			continue
		}
		out[k] = vs
	}
	removeHopHeaders(out, in)
	return out
}

// hopHeaders are the hop-by-hop headers of RFC 9110 §7.6.1 (the list
// net/http/httputil.ReverseProxy uses): they describe one connection and
// are never copied from one side of the proxy to the other.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopHeaders deletes from h the hop-by-hop headers and every header
// that src's Connection header names. It is the one hop-by-hop filter,
// used on every copy of headers to Google and back to the client.
func removeHopHeaders(h, src http.Header) {
	for _, f := range src.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// forwardedQuery returns the client's query without any key.
func forwardedQuery(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		if k == "key" {
			continue
		}
		out[k] = vs
	}
	return out
}

// nativeDialect is the identity dialect: the native Gemini REST API.
// Requests and answers pass through untouched; the proxy's own errors are
// in Google's shape, and a stream that breaks after its first byte is
// aborted (Gemini streams have no error event).
type nativeDialect struct{}

// serve proxies a native Gemini API request.
func (nativeDialect) serve(s *Server, rq *request) {
	w, r, cfg, res := rq.w, rq.r, rq.cfg, rq.res
	t := parseNativePath(r.Method, r.URL.Path)
	res.Route, res.Model, res.Method = "native", t.model, t.method
	c := &call{
		httpMethod: r.Method,
		path:       r.URL.EscapedPath(),
		query:      forwardedQuery(r.URL.Query()),
		header:     forwardedHeaders(r.Header),
		model:      t.model,
		method:     t.method,
		stream:     t.method == "streamGenerateContent",
		checkEmpty: t.method == "generateContent",
		clientKey:  rq.clientKey,
	}
	c.sse = c.stream && c.query.Get("alt") == "sse"
	res.Stream = c.stream

	upload := strings.HasPrefix(r.URL.Path, "/upload/")
	var ub *uploadBody
	if upload {
		if r.ContentLength != 0 {
			ub = newUploadBody(w, http.MaxBytesReader(w, r.Body, cfg.MaxUploadBytes), cfg.BodyReadTimeout/2)
			defer ub.done()
			c.bodyStream = ub
		}
		if id := c.query.Get("upload_id"); id != "" {
			c.pinned = s.affinity.lookup("upload:" + id)
		}
	} else if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		body, ok := rq.readBody()
		if !ok {
			return
		}
		c.body = body
	}
	if c.pinned == "" && c.clientKey.IsZero() {
		c.pinned = s.affinity.forRequest(r.URL.Path, c.body)
	}

	a, err := s.exchange(r.Context(), cfg, c, res)
	if ub != nil && ub.failed() != nil {
		// The client's upload broke off or stalled: that, not the
		// upstream, is what the answer is about.
		if a != nil {
			a.close()
		}
		dropBody(w, r)
		rq.fail(bodyError(ub.failed()))
		return
	}
	if err != nil {
		rq.fail(asLocalError(err))
		return
	}
	defer a.close()
	if a.ok() {
		s.affinity.learn(r, a)
	}
	s.commitNative(rq, a)
}

// writeError answers in Google's error shape.
func (nativeDialect) writeError(w http.ResponseWriter, err error) {
	var le *localError
	if errors.As(err, &le) {
		gemini.WriteError(w, le.status, le.grpcStatus, le.message)
		return
	}
	gemini.WriteError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
}

// writeUpstreamError passes Google's error answer on as it is (with the
// region hint added to a location refusal).
func (nativeDialect) writeUpstreamError(w http.ResponseWriter, a *answer) {
	copyResponseHeaders(w.Header(), a.resp.Header)
	body := a.body
	if a.resp.StatusCode == http.StatusBadRequest && a.verdict.Class == gemini.ClassRegion {
		if b, ok := addRegionHint(body); ok {
			body = b
		}
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(a.resp.StatusCode)
	w.Write(body)
}

// writeStreamFailure aborts the response (the connection is cut after the
// bookkeeping): a native stream has no error event, and a clean end would
// let the client take the half answer for a whole one.
func (nativeDialect) writeStreamFailure(w *responseWriter, _ error) { w.aborted = true }

// commitNative sends the settled answer to the client: headers untouched
// but for hop-by-hop ones, bodies untouched, streams flushed per event.
func (s *Server) commitNative(rq *request, a *answer) {
	w, r, res := rq.w, rq.r, rq.res
	if !a.ok() {
		rq.d.writeUpstreamError(w, a)
		return
	}
	copyResponseHeaders(w.Header(), a.resp.Header)
	if loc := a.resp.Header.Get("X-Goog-Upload-Url"); loc != "" {
		w.Header().Set("X-Goog-Upload-Url", localUploadURL(r, loc))
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(a.resp.StatusCode)
	if a.body != nil {
		w.Write(a.body)
		res.setUsage(a.body)
		return
	}
	if a.events != nil {
		out := sse.NewWriter(w)
		if err := out.WriteRaw(a.first.Raw); err != nil {
			s.streamBroke(rq, err)
			return
		}
		lastData := []byte(nil)
		for {
			ev, err := a.events.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.streamBroke(rq, err)
				}
				break
			}
			if err := out.WriteRaw(ev.Raw); err != nil {
				s.streamBroke(rq, err)
				break
			}
			lastData = append(lastData[:0], ev.Data...)
		}
		if lastData == nil {
			lastData = a.first.Data
		}
		res.setUsage(lastData)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := a.resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				s.streamBroke(rq, werr)
				return
			}
			w.Flush()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.streamBroke(rq, err)
			}
			return
		}
	}
}

// notCopiedDown are upstream answer headers the proxy does not pass on
// besides the hop-by-hop ones: it sets the length and encoding itself, and
// Google's cookies and Alt-Svc are not the client's business.
var notCopiedDown = []string{"Content-Length", "Content-Encoding", "Alt-Svc", "Set-Cookie"}

// copyResponseHeaders copies an upstream answer's headers to the client's.
func copyResponseHeaders(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
	removeHopHeaders(dst, src)
	for _, name := range notCopiedDown {
		dst.Del(name)
	}
}

// localUploadURL points Google's resumable upload URL back at this proxy so
// that the client's next chunks come here (and get the same key).
func localUploadURL(r *http.Request, loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	q := u.Query()
	q.Del("key")
	u.RawQuery = q.Encode()
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	u.Host = r.Host
	return u.String()
}

// addRegionHint appends the upstream-proxy hint to Google's region refusal.
func addRegionHint(body []byte) ([]byte, bool) {
	e, ok := gemini.ParseError(body)
	if !ok {
		return nil, false
	}
	e.Message = gemini.WithRegionHint(e.Message)
	out, err := json.Marshal(struct {
		Error *gemini.APIError `json:"error"`
	}{e})
	return out, err == nil
}
