package proxy

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// wantRetryAfter checks a 429 with a Retry-After of lo..hi seconds.
func wantRetryAfter(t *testing.T, what string, resp *http.Response, body []byte, lo, hi int) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("%s: status = %d, want 429; body %.300s", what, resp.StatusCode, body)
		return
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < lo || ra > hi {
		t.Errorf("%s: Retry-After = %q, want %d..%d seconds", what, resp.Header.Get("Retry-After"), lo, hi)
	}
}

func TestEvery429CarriesRetryAfter(t *testing.T) {
	chat := `{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"Hi"}]}`
	streamChat := `{"model":"gemini-2.5-pro","stream":true,"messages":[{"role":"user","content":"Hi"}]}`

	t.Run("attempts exhausted while other keys cool", func(t *testing.T) {
		// Three keys, two attempts per request: the request ends on Google's
		// 429 (not the pool's), which used to pass on without Retry-After.
		e := newEnv(t, 3, func(c *Config) { c.MaxAttempts = 2 })
		e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("30s")))
		resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
		wantRetryAfter(t, "native", resp, body, 20, 31)
		e2 := newEnv(t, 3, func(c *Config) { c.MaxAttempts = 2 })
		e2.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("30s")))
		resp, body = e2.openAI("POST", "/v1/chat/completions", chat)
		wantRetryAfter(t, "openai", resp, body, 20, 31)
		e3 := newEnv(t, 3, func(c *Config) { c.MaxAttempts = 2 })
		e3.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("30s")))
		resp, body = e3.openAI("POST", "/v1/chat/completions", streamChat)
		wantRetryAfter(t, "openai stream", resp, body, 20, 31)
	})
	t.Run("bare 429 without a delay", func(t *testing.T) {
		e := newEnv(t, 1)
		e.fake.ScriptAll(proxytest.Always(proxytest.BareRateLimit()))
		resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
		wantRetryAfter(t, "native", resp, body, 1, 600)
		resp, body = e.openAI("POST", "/v1/chat/completions", chat)
		wantRetryAfter(t, "openai", resp, body, 1, 600)
	})
	t.Run("passthrough bare 429", func(t *testing.T) {
		e := newEnv(t, 0, func(c *Config) { c.Passthrough = true })
		e.fake.ScriptAll(proxytest.Always(proxytest.BareRateLimit()))
		own := fakeKey(t)
		resp, body := e.doWith("POST", gen("gemini-2.5-pro"), generateBody, map[string]string{"x-goog-api-key": own})
		wantRetryAfter(t, "native", resp, body, 1, 600)
		resp, body = e.doWith("POST", "/v1/chat/completions", chat, map[string]string{"Authorization": "Bearer " + own})
		wantRetryAfter(t, "openai", resp, body, 1, 600)
	})
	t.Run("no keys", func(t *testing.T) {
		e := newEnv(t, 0)
		resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
		wantRetryAfter(t, "native", resp, body, 1, 600)
		resp, body = e.openAI("POST", "/v1/chat/completions", chat)
		wantRetryAfter(t, "openai", resp, body, 1, 600)
	})
}

func TestPassthroughAccessKeyUsesThePool(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.Passthrough = true })
	// The access key, in each of the three places a client may put it,
	// on both API shapes: served by a pool key; the access key never
	// goes upstream (newEnv's cleanup checks every upstream request too).
	for _, h := range []map[string]string{
		{"x-goog-api-key": e.accessKey},
		{"Authorization": "Bearer " + e.accessKey},
	} {
		resp, body := e.doWith("POST", gen("gemini-2.5-flash"), generateBody, h)
		e.wantStatus(resp, body, http.StatusOK)
		resp, body = e.doWith("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`, h)
		e.wantStatus(resp, body, http.StatusOK)
	}
	resp, body := e.doWith("POST", gen("gemini-2.5-flash")+"?key="+e.accessKey, generateBody, nil)
	e.wantStatus(resp, body, http.StatusOK)
	// A client's own key still passes through.
	own := fakeKey(t)
	resp, body = e.doWith("POST", gen("gemini-2.5-flash"), generateBody, map[string]string{"x-goog-api-key": own})
	e.wantStatus(resp, body, http.StatusOK)
	reqs := e.fake.Requests()
	if len(reqs) != 6 {
		t.Fatalf("upstream requests = %d, want 6", len(reqs))
	}
	for i, req := range reqs[:5] {
		if req.Key != e.keys[0] && req.Key != e.keys[1] {
			t.Errorf("request %d with the access key went upstream with key %s, want a pool key", i, keyIndex(e, req.Key))
		}
		if req.Key == e.accessKey {
			t.Errorf("request %d: the access key went upstream", i)
		}
	}
	if reqs[5].Key != own {
		t.Errorf("the client's own key did not pass through")
	}
	for _, res := range e.rec.results()[:5] {
		if res.KeyID == PassthroughKeyID {
			t.Errorf("a request with the access key was recorded as passthrough")
		}
	}
}
