package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The Anthropic routes over plain HTTP: what the SDK tests cannot see
// (headers, the raw event stream, every error shape).

const messagesBody = `{"model":"gemini-2.5-flash","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`

// anthropicError decodes {"type":"error","error":{"type","message"}}.
func anthropicError(t *testing.T, body []byte) (typ, msg string) {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" || e.Error.Type == "" || e.Error.Message == "" {
		t.Fatalf("body %s is not an Anthropic error (%v)", body, err)
	}
	return e.Error.Type, e.Error.Message
}

func TestAnthropicRoutes(t *testing.T) {
	e := newEnv(t, 2)
	claude := map[string]string{"x-api-key": e.accessKey, "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"}

	resp, body := e.doWith("POST", "/v1/messages?beta=true", messagesBody, claude)
	e.wantStatus(resp, body, 200)
	if resp.Header.Get("request-id") == "" || !strings.Contains(string(body), `"type":"message"`) {
		t.Errorf("x-api-key + ?beta=true: headers %v body %s", resp.Header, body)
	}
	resp, body = e.doWith("POST", "/v1/messages", messagesBody, map[string]string{"Authorization": "Bearer " + e.accessKey})
	e.wantStatus(resp, body, 200)
	for _, r := range e.fake.Requests() {
		for name := range r.Header {
			if n := strings.ToLower(name); n == "x-api-key" || strings.HasPrefix(n, "anthropic-") {
				t.Errorf("upstream request carried %s", name)
			}
		}
	}

	// The raw stream: Anthropic's event order, ping included.
	resp, body = e.doWith("POST", "/v1/messages?beta=true", strings.Replace(messagesBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1), claude)
	e.wantStatus(resp, body, 200)
	var events []string
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			events = append(events, name)
		}
	}
	got := strings.Join(events, " ")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
		!strings.HasPrefix(got, "message_start ping content_block_start content_block_delta") ||
		!strings.HasSuffix(got, "content_block_stop message_delta message_stop") {
		t.Errorf("stream %s: events %s", resp.Header.Get("Content-Type"), got)
	}

	resp, body = e.doWith("POST", "/v1/messages/count_tokens?beta=true", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`, claude)
	e.wantStatus(resp, body, 200)
	if !strings.Contains(string(body), `"input_tokens":11`) {
		t.Errorf("count_tokens = %s, want the capture's 11 tokens", body)
	}

	// Errors, each in Anthropic's shape with the right type.
	for _, c := range []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		typ                      string
	}{
		{"no key", "POST", "/v1/messages", messagesBody, nil, 401, "authentication_error"},
		{"wrong key", "POST", "/v1/messages", messagesBody, map[string]string{"x-api-key": "sk-ant-wrong"}, 401, "authentication_error"},
		{"bad JSON", "POST", "/v1/messages", `{"model":`, claude, 400, "invalid_request_error"},
		{"no max_tokens", "POST", "/v1/messages", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`, claude, 400, "invalid_request_error"},
		{"GET", "GET", "/v1/messages", "", claude, 405, "invalid_request_error"},
		{"batches", "POST", "/v1/messages/batches", messagesBody, claude, 404, "not_found_error"},
		{"loopback image URL", "POST", "/v1/messages", `{"model":"gemini-2.5-flash","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"` + e.base + `/healthz"}}]}]}`, claude, 400, "invalid_request_error"},
	} {
		resp, body := e.doWith(c.method, c.path, c.body, c.headers)
		typ, msg := anthropicError(t, body)
		if resp.StatusCode != c.status || typ != c.typ {
			t.Errorf("%s: %d %s (%s), want %d %s", c.name, resp.StatusCode, typ, msg, c.status, c.typ)
		}
	}
	if n := len(e.fake.Requests()); n != 4 {
		t.Errorf("the fake got %d requests, want 4 (the refused ones never go upstream)", n)
	}
}

func TestAnthropicUpstreamErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		step   proxytest.Step
		status int
		typ    string
		want   string
	}{
		{"overloaded", proxytest.Always(proxytest.Unavailable()), 503, "overloaded_error", ""},
		{"model not found", proxytest.ModelNotFound(), 404, "not_found_error", ""},
		{"region", proxytest.RegionRefused(), 400, "invalid_request_error", "upstream proxy"},
	} {
		e := newEnv(t, 1)
		e.fake.ScriptAll(c.step)
		resp, body := e.doWith("POST", "/v1/messages", messagesBody, map[string]string{"x-api-key": e.accessKey})
		typ, msg := anthropicError(t, body)
		if resp.StatusCode != c.status || typ != c.typ || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %s %q", c.name, resp.StatusCode, typ, msg)
		}
	}
}

func TestAnthropicPausedAndTooLarge(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.Paused = true })
	resp, body := e.doWith("POST", "/v1/messages", messagesBody, map[string]string{"x-api-key": e.accessKey})
	if typ, _ := anthropicError(t, body); resp.StatusCode != 503 || typ != "overloaded_error" {
		t.Errorf("paused: %d %s", resp.StatusCode, typ)
	}
	e = newEnv(t, 1, func(c *Config) { c.MaxBodyBytes = 1024 })
	resp, body = e.doWith("POST", "/v1/messages", `{"model":"gemini-2.5-flash","max_tokens":1,"messages":[{"role":"user","content":"`+strings.Repeat("x", 2048)+`"}]}`, map[string]string{"x-api-key": e.accessKey})
	if typ, _ := anthropicError(t, body); resp.StatusCode != 413 || typ != "request_too_large" {
		t.Errorf("too large: %d %s", resp.StatusCode, typ)
	}
}

// TestNativeNeverForwardsXAPIKey: a native request that authenticates with
// x-api-key does not hand that header (the access key) to Google.
func TestNativeNeverForwardsXAPIKey(t *testing.T) {
	e := newEnv(t, 1)
	resp, body := e.doWith("POST", gen("gemini-2.5-flash"), generateBody, map[string]string{"x-api-key": e.accessKey})
	e.wantStatus(resp, body, 200)
	if v := e.fake.Requests()[0].Header.Get("X-Api-Key"); v != "" {
		t.Errorf("upstream got X-Api-Key %q", v)
	}
}
