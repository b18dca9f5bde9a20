package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// maxErrorBody caps how much of an upstream error answer is read.
const maxErrorBody = 1 << 20

// call is one client request as the attempt loop sees it.
type call struct {
	httpMethod string
	path       string     // upstream path, escaped, with leading slash
	query      url.Values // forwarded query, never with a key in it
	header     http.Header
	body       []byte    // buffered body, replayed on every attempt
	bodyStream io.Reader // unbuffered body (uploads): one attempt only
	model      string    // for per-(key, model) cooldowns
	method     string    // Gemini method, e.g. "generateContent"

	stream     bool // the answer is streamed (flushed as it arrives)
	sse        bool // the stream is text/event-stream (alt=sse)
	checkEmpty bool // a 2xx without content is retried (generateContent)

	pinned    string        // key id this request must use (resource affinity)
	clientKey apikey.Secret // passthrough: the client's own key
}

// answer is the upstream response the attempt loop settled on: a 2xx to
// commit, or the last error answer when retrying could not help.
type answer struct {
	resp    *http.Response
	body    []byte      // the whole body when it was read (non-stream, errors)
	first   sse.Event   // for SSE streams: the first event, already read
	events  *sse.Reader // for SSE streams: the rest
	keyID   string
	verdict gemini.Verdict
	watch   *upstreamWatch // the attempt's timeouts; ended by close
}

// ok reports whether the answer is a success to pass on.
func (a *answer) ok() bool { return a.resp.StatusCode/100 == 2 }

// close releases the upstream body.
func (a *answer) close() {
	if a.resp != nil && a.resp.Body != nil {
		a.resp.Body.Close()
	}
	if a.watch != nil {
		a.watch.end()
	}
}

// localError is an answer the proxy makes itself: no key was usable, the
// upstream could not be reached, the client left.
type localError struct {
	status     int
	grpcStatus string // Google's status word for the native error shape
	message    string
	retryAfter time.Duration
}

func (e *localError) Error() string { return e.message }

// asLocalError says what an error of the attempt loop means for the
// client: no usable key (429 with the soonest recovery), a local error as
// it is, or anything else as an unreachable upstream.
func asLocalError(err error) *localError {
	var le *localError
	var ex *keypool.ExhaustedError
	switch {
	case errors.As(err, &le):
		return le
	case errors.As(err, &ex):
		// Every 429 says when to retry; with no cooldown to wait for (no
		// keys, all disabled) a retry helps only once the user acts.
		ra := ex.RetryAfter
		if ra <= 0 {
			ra = defaultRetryAfter
		}
		return &localError{
			status:     http.StatusTooManyRequests,
			grpcStatus: "RESOURCE_EXHAUSTED",
			message:    "no usable API key: " + ex.Error(),
			retryAfter: ra,
		}
	}
	return &localError{status: http.StatusBadGateway, grpcStatus: "UNAVAILABLE", message: gemini.Redact(err.Error())}
}

// errClientGone is returned when the client cancelled the request.
var errClientGone = &localError{status: 499, grpcStatus: "CANCELLED", message: "client closed the request"}

// exchange runs the attempt loop: pick a key, call upstream, classify,
// report, and try another key while that can help and nothing has been
// written to the client. It returns the answer to commit, or a *localError.
// res is filled with attempts, key and class as it goes.
func (s *Server) exchange(ctx context.Context, cfg *Config, c *call, res *Result) (*answer, error) {
	maxAttempts := attemptLimit(cfg, c)
	var (
		tried   = make([]string, 0, maxAttempts)
		last    *answer
		lastErr error
	)
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		key, err := s.pickKey(c, tried)
		if err != nil {
			if last != nil || lastErr != nil {
				break
			}
			return nil, err
		}
		tried = append(tried, key.ID)
		res.Attempts = attempt
		res.KeyID = key.ID

		a, err := s.attempt(ctx, cfg, c, key)
		if err != nil {
			if !s.attemptFailed(ctx, c, res, key.ID, err) {
				return nil, errClientGone
			}
			last, lastErr = nil, err
			if !s.backoff(ctx, cfg, attempt, maxAttempts) {
				return nil, errClientGone
			}
			continue
		}
		res.Class, res.Reason = a.verdict.Class, a.verdict.Reason
		s.report(key.ID, c.model, a.verdict)
		if !a.verdict.Retry() || attempt == maxAttempts {
			if last != nil {
				last.close()
			}
			s.setRetryAfter(a, c.model)
			return a, nil
		}
		res.Failures = append(res.Failures, AttemptFailure{KeyID: key.ID, Class: a.verdict.Class, Reason: a.verdict.Reason})
		s.log.Debug("upstream attempt retried", "key", key.ID, "model", c.model, "status", a.resp.StatusCode, "class", a.verdict.Class.String())
		if last != nil {
			last.close()
		}
		last, lastErr = a, nil
		if a.verdict.Class == gemini.ClassTransient || a.verdict.Class == gemini.ClassEmpty {
			if !s.backoff(ctx, cfg, attempt, maxAttempts) {
				return nil, errClientGone
			}
		}
	}
	if last != nil {
		s.setRetryAfter(last, c.model)
		return last, nil
	}
	return nil, unreachable(cfg, lastErr)
}

// attemptLimit is how many keys one request may try: cfg.MaxAttempts, one
// for an unbuffered body (it cannot be replayed) or in passthrough mode
// (one key), at most two for a request pinned to the key that owns its
// resource (once more on a transient error).
func attemptLimit(cfg *Config, c *call) int {
	if c.bodyStream != nil || !c.clientKey.IsZero() {
		return 1
	}
	if c.pinned != "" {
		return min(cfg.MaxAttempts, 2)
	}
	return cfg.MaxAttempts
}

// attemptFailed classifies, reports and records an attempt that got no
// answer (err); false when the client is gone.
func (s *Server) attemptFailed(ctx context.Context, c *call, res *Result, keyID string, err error) bool {
	v := gemini.ClassifyError(err)
	if v.Class == gemini.ClassCanceled || ctx.Err() != nil {
		res.Class = gemini.ClassCanceled
		return false
	}
	res.Class = v.Class
	s.report(keyID, c.model, v)
	res.Failures = append(res.Failures, AttemptFailure{KeyID: keyID, Class: v.Class, Reason: v.Reason})
	s.log.Debug("upstream attempt failed", "key", keyID, "model", c.model, "class", v.Class.String(), "err", gemini.Redact(err.Error()))
	return true
}

// unreachable is the local error when no attempt got an answer; lastErr
// is the last attempt's error.
func unreachable(cfg *Config, lastErr error) *localError {
	if errors.Is(lastErr, errFirstByteTimeout) {
		return &localError{
			status:     http.StatusGatewayTimeout,
			grpcStatus: "DEADLINE_EXCEEDED",
			message:    fmt.Sprintf("upstream did not answer within %s (setting: upstream timeout)", cfg.UpstreamTimeout),
		}
	}
	return &localError{
		status:     http.StatusBadGateway,
		grpcStatus: "UNAVAILABLE",
		message:    "upstream unreachable: " + gemini.Redact(describeNetErr(lastErr)),
	}
}

// defaultRetryAfter is the Retry-After of a 429 when neither Google nor
// the pool knows when a key will be usable again (a bare 429 in
// passthrough mode, a pool without keys).
const defaultRetryAfter = 10 * time.Second

// setRetryAfter makes sure a 429 answer for the client says when to retry:
// Google's own Retry-After header, else the pool's soonest recovery for the
// model (the first key usable again), else Google's retry delay, else
// defaultRetryAfter.
func (s *Server) setRetryAfter(a *answer, model string) {
	if a.resp.StatusCode != http.StatusTooManyRequests || a.resp.Header.Get("Retry-After") != "" {
		return
	}
	var d time.Duration
	if a.keyID != PassthroughKeyID && model != "" {
		d = s.pool.RecoversIn(model) // includes this key's own cooldown
	}
	if d <= 0 {
		d = a.verdict.RetryDelay
	}
	if d <= 0 {
		d = defaultRetryAfter
	}
	a.resp.Header.Set("Retry-After", retryAfterValue(d))
}

// pickKey returns the key for the next attempt.
func (s *Server) pickKey(c *call, tried []string) (keypool.Key, error) {
	if !c.clientKey.IsZero() {
		return keypool.Key{ID: PassthroughKeyID, Secret: c.clientKey}, nil
	}
	if c.pinned != "" {
		k, ok := s.pool.Get(c.pinned)
		if !ok {
			return keypool.Key{}, &localError{
				status:     http.StatusConflict,
				grpcStatus: "FAILED_PRECONDITION",
				message:    fmt.Sprintf("this file or cached content was created with key %s, which is no longer in the pool; upload it again", c.pinned),
			}
		}
		return k, nil
	}
	return s.pool.Acquire(c.model, tried)
}

// report tells the pool what an attempt meant for its key. Passthrough keys
// are not in the pool; a cancelled request is never held against a key.
func (s *Server) report(keyID, model string, v gemini.Verdict) {
	if keyID == PassthroughKeyID || v.Class == gemini.ClassCanceled {
		return
	}
	s.pool.Report(keyID, model, poolEvent(v))
}

// poolEvent maps a classified upstream answer to what the pool does with the
// key. This is the one place where a Class becomes a penalty.
func poolEvent(v gemini.Verdict) keypool.Event {
	switch v.Class {
	case gemini.ClassOK:
		return keypool.Event{Kind: keypool.Success}
	case gemini.ClassKeyInvalid, gemini.ClassKeyExpired, gemini.ClassKeyDenied:
		return keypool.Event{Kind: keypool.Disable, Reason: v.Reason}
	case gemini.ClassQuotaDaily:
		return keypool.Event{Kind: keypool.DailyQuota, Reason: v.Reason}
	case gemini.ClassRateLimited:
		return keypool.Event{Kind: keypool.Cooldown, Delay: v.RetryDelay, Reason: v.Reason}
	default:
		return keypool.Event{Kind: keypool.Neutral}
	}
}

// backoff waits before the next attempt after a transient failure. It
// reports false when the client left meanwhile.
func (s *Server) backoff(ctx context.Context, cfg *Config, attempt, maxAttempts int) bool {
	if attempt >= maxAttempts {
		return ctx.Err() == nil
	}
	t := time.NewTimer(cfg.TransientBackoff * time.Duration(attempt))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// attempt makes one upstream call with key and reads as much of the answer
// as is needed to judge it: error bodies and non-stream bodies whole, the
// first event of an SSE stream.
func (s *Server) attempt(ctx context.Context, cfg *Config, c *call, key keypool.Key) (*answer, error) {
	u := cfg.Upstream + c.path
	if q := c.query.Encode(); q != "" {
		u += "?" + q
	}
	actx, watch := newUpstreamWatch(ctx, cfg)
	var body io.Reader
	switch {
	case c.bodyStream != nil:
		// The first-byte timeout starts once the upload is sent.
		body = &armOnEOF{r: c.bodyStream, watch: watch}
	case c.body != nil:
		body = bytes.NewReader(c.body)
		watch.arm()
	default:
		watch.arm()
	}
	req, err := http.NewRequestWithContext(actx, c.httpMethod, u, body)
	if err != nil {
		watch.end()
		return nil, fmt.Errorf("build upstream request: %w", err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.body != nil {
		req.ContentLength = int64(len(c.body))
	}
	req.Header.Set("x-goog-api-key", key.Secret.Reveal())

	resp, err := s.transport.Load().RoundTrip(req)
	if err != nil {
		return nil, watch.fail(err)
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, watch: watch}
	a := &answer{resp: resp, keyID: key.ID, watch: watch}
	if resp.StatusCode/100 != 2 {
		a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if err != nil {
			return nil, watch.fail(err)
		}
		watch.end()
		a.verdict = gemini.Classify(resp.StatusCode, a.body)
		return a, nil
	}
	switch {
	case !c.stream:
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, watch.fail(err)
		}
		watch.end()
		if c.checkEmpty {
			a.verdict = gemini.Classify(resp.StatusCode, a.body)
		} else {
			a.verdict = gemini.Classify(resp.StatusCode, nil)
		}
	case c.sse && sse.IsEventStream(resp.Header.Get("Content-Type")):
		a.events = sse.NewReader(resp.Body)
		ev, err := a.events.Next()
		if err != nil {
			resp.Body.Close()
			if errors.Is(err, io.EOF) {
				watch.end()
				// A stream that ends before its first event is an empty answer.
				a.body = []byte{}
				a.verdict = gemini.Verdict{Class: gemini.ClassEmpty, Reason: "empty stream"}
				return a, nil
			}
			return nil, watch.fail(err)
		}
		a.first = ev
		a.verdict = gemini.Classify(resp.StatusCode, nil)
		watch.streaming()
	default:
		a.verdict = gemini.Classify(resp.StatusCode, nil)
		watch.streaming()
	}
	return a, nil
}

// retryAfterValue formats d as whole seconds for a Retry-After header.
func retryAfterValue(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprint(secs)
}

// describeNetErr gives a short description of a transport error without
// the request URL, which Go's url.Error would repeat.
func describeNetErr(err error) string {
	if err == nil {
		return "no answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
