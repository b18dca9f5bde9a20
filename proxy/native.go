package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
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
		case "Authorization", "X-Goog-Api-Key", "Cookie", "Host", "Content-Length",
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

// serveNative proxies a native Gemini API request.
func (s *Server) serveNative(w *responseWriter, r *http.Request, cfg *Config, res *Result, credential string) {
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
	}
	c.sse = c.stream && c.query.Get("alt") == "sse"
	res.Stream = c.stream
	if cfg.Passthrough {
		c.clientKey = apikey.NewSecret(credential)
	}

	upload := strings.HasPrefix(r.URL.Path, "/upload/")
	if upload {
		if r.ContentLength != 0 {
			ub := newUploadBody(w, http.MaxBytesReader(w, r.Body, cfg.MaxUploadBytes))
			defer ub.done()
			c.bodyStream = ub
		}
		if id := c.query.Get("upload_id"); id != "" {
			c.pinned = s.affinity.lookup("upload:" + id)
		}
	} else if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		body, err := readBody(w, r, cfg.MaxBodyBytes, cfg.BodyReadTimeout)
		if err != nil {
			s.writeBodyError(w, err, cfg, false)
			return
		}
		c.body = body
	}
	if c.pinned == "" && c.clientKey.IsZero() {
		c.pinned = s.affinity.forRequest(r.URL.Path, c.body)
	}

	a, err := s.exchange(r.Context(), cfg, c, res)
	if err != nil {
		s.writeNativeError(w, err)
		return
	}
	defer a.close()
	if a.ok() {
		s.affinity.learn(r, a)
	}
	s.commitNative(w, r, a, res)
}

// commitNative sends the settled answer to the client: headers untouched
// but for hop-by-hop ones, bodies untouched, streams flushed per event.
func (s *Server) commitNative(w *responseWriter, r *http.Request, a *answer, res *Result) {
	copyResponseHeaders(w.Header(), a.resp.Header)
	if loc := a.resp.Header.Get("X-Goog-Upload-Url"); loc != "" {
		w.Header().Set("X-Goog-Upload-Url", localUploadURL(r, loc))
	}
	if a.resp.StatusCode == http.StatusBadRequest && a.verdict.Class == gemini.ClassRegion {
		if body, ok := addRegionHint(a.body); ok {
			a.body = body
		}
	}
	if a.body != nil {
		w.Header().Del("Content-Length")
		w.WriteHeader(a.resp.StatusCode)
		w.Write(a.body)
		res.setUsage(a.body)
		return
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(a.resp.StatusCode)
	if a.events != nil {
		w.Write(a.first.Raw)
		w.Flush()
		lastData := []byte(nil)
		for {
			ev, err := a.events.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.abortStream(w, r, res, err)
				}
				break
			}
			if _, err := w.Write(ev.Raw); err != nil {
				s.abortStream(w, r, res, err)
				break
			}
			w.Flush()
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
				s.abortStream(w, r, res, werr)
				return
			}
			w.Flush()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.abortStream(w, r, res, err)
			}
			return
		}
	}
}

// abortStream notes a stream that broke after the client got its first
// byte. The response is aborted (the connection is cut) so that the client
// cannot take the half answer for a whole one.
func (s *Server) abortStream(w *responseWriter, r *http.Request, res *Result, err error) {
	if r.Context().Err() != nil {
		res.Class = gemini.ClassCanceled
		res.Status = 499
		return
	}
	res.Class = gemini.ClassTransient
	res.Status = http.StatusBadGateway
	s.log.Warn("upstream stream broke after the first byte; aborting the response", "id", res.ID, "key", res.KeyID, "err", gemini.Redact(err.Error()))
	w.aborted = true
}

// writeNativeError answers with a local error in Google's error shape.
func (s *Server) writeNativeError(w *responseWriter, err error) {
	le := asLocalError(err)
	if le == errClientGone {
		w.status = 499
		return
	}
	if le.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterValue(le.retryAfter))
	}
	gemini.WriteError(w, le.status, le.grpcStatus, le.message)
}

// writeBodyError answers a request body that could not be read.
func (s *Server) writeBodyError(w *responseWriter, err error, cfg *Config, openAI bool) {
	var mbe *http.MaxBytesError
	status, msg := http.StatusBadRequest, "could not read the request body"
	switch {
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
		msg = "request body is larger than the limit of " + humanBytes(mbe.Limit) + " (setting: max body size)"
	case errors.Is(err, os.ErrDeadlineExceeded):
		status, msg = http.StatusRequestTimeout, "the request body did not arrive in time"
	}
	if openAI {
		writeOpenAIError(w, status, msg, "invalid_request_error", "")
		return
	}
	gemini.WriteError(w, status, "INVALID_ARGUMENT", msg)
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
	e.Message = strings.TrimSpace(e.Message) + " " + gemini.RegionHint
	out, err := json.Marshal(struct {
		Error *gemini.APIError `json:"error"`
	}{e})
	return out, err == nil
}
