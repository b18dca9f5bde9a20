package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// wantNoSecrets fails when a pool key or the access key is in what the
// client got.
func wantNoSecrets(t *testing.T, e *env, what string, resp *http.Response, body []byte) {
	t.Helper()
	for _, k := range append(append([]string(nil), e.keys...), e.accessKey) {
		if strings.Contains(string(body), k) {
			t.Errorf("%s: a secret reached the client in the body: %.400s", what, body)
		}
		for name, vs := range resp.Header {
			for _, v := range vs {
				if strings.Contains(v, k) {
					t.Errorf("%s: a secret reached the client in header %s", what, name)
				}
			}
		}
	}
}

func TestSecretsMaskedInUpstreamAnswers(t *testing.T) {
	// A key-shaped string that is not in the pool: a model may well write
	// one in an answer, and it must pass untouched.
	example := "AIzaSyExampleExampleExampleExample12345"
	if !apikey.Valid(example) {
		t.Fatalf("example %q is not key-shaped", example)
	}
	echo := func(e *env) []byte {
		return []byte(`{"error":{"code":400,"message":"API key not valid: ` + e.keys[0] + ` (also ` + e.accessKey + `; see ` + example + `)","status":"INVALID_ARGUMENT"}}`)
	}
	t.Run("native error body and headers", func(t *testing.T) {
		e := newEnv(t, 1)
		e.fake.ScriptAll(proxytest.WithHeader("X-Debug-Key", e.keys[0], proxytest.WithHeader("X-Echo", "access="+e.accessKey,
			proxytest.Fixture(400, "application/json", echo(e)))))
		resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
		e.wantStatus(resp, body, 400)
		wantNoSecrets(t, e, "native", resp, body)
		if !strings.Contains(string(body), apikey.Mask(e.keys[0])) || !strings.Contains(string(body), example) {
			t.Errorf("body %s: want the pool key masked and the example key untouched", body)
		}
		if got := resp.Header.Get("X-Debug-Key"); got != apikey.Mask(e.keys[0]) {
			t.Errorf("X-Debug-Key = %q, want %q", got, apikey.Mask(e.keys[0]))
		}
	})
	t.Run("native stream split across reads", func(t *testing.T) {
		for _, n := range []int{1, 3, 7, 16} {
			e := newEnv(t, 1)
			payload := []byte(`[{"candidates":[{"content":{"parts":[{"text":"key ` + e.keys[0] + ` and ` + e.accessKey + ` and ` + example + ` end A"}]}}]}]`)
			e.fake.ScriptAll(proxytest.Trickle(200, "application/json; charset=UTF-8", payload, n))
			resp, body := e.do("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", generateBody)
			e.wantStatus(resp, body, 200)
			wantNoSecrets(t, e, "native stream", resp, body)
			want := strings.NewReplacer(e.keys[0], apikey.Mask(e.keys[0]), e.accessKey, apikey.Mask(e.accessKey)).Replace(string(payload))
			if string(body) != want {
				t.Errorf("pieces of %d bytes: body\n %s\nwant\n %s", n, body, want)
			}
		}
	})
	t.Run("native SSE event", func(t *testing.T) {
		e := newEnv(t, 1)
		ev := "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + e.keys[0] + "\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n"
		e.fake.ScriptAll(proxytest.Trickle(200, "text/event-stream", []byte(ev), 5))
		resp, body := e.do("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", generateBody)
		e.wantStatus(resp, body, 200)
		wantNoSecrets(t, e, "native sse", resp, body)
	})
	t.Run("openai error and answer", func(t *testing.T) {
		e := newEnv(t, 1)
		e.fake.ScriptAll(proxytest.Fixture(400, "application/json", echo(e)))
		resp, body := e.openAI("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`)
		e.wantStatus(resp, body, 400)
		wantNoSecrets(t, e, "openai error", resp, body)
		e = newEnv(t, 1)
		e.fake.ScriptAll(proxytest.Fixture(200, "application/json", []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"`+e.keys[0]+`"}]},"finishReason":"STOP"}]}`)))
		resp, body = e.openAI("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`)
		e.wantStatus(resp, body, 200)
		wantNoSecrets(t, e, "openai answer", resp, body)
	})
}

func TestSecretsMaskedOnEveryDialect(t *testing.T) {
	for _, tc := range []struct{ name, path, body string }{
		{"openai chat", "/v1/chat/completions", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`},
		{"openai responses", "/v1/responses", `{"model":"gemini-2.5-flash","input":"Hi"}`},
		{"anthropic messages", "/v1/messages", `{"model":"gemini-2.5-flash","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}`},
		{"native", gen("gemini-2.5-flash"), generateBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1)
			// A 500 (so the key is not disabled) whose message echoes the
			// pool key and the access key, and a header that does too.
			body := []byte(`{"error":{"code":500,"message":"internal error for key ` + e.keys[0] + ` / ` + e.accessKey + `","status":"INTERNAL"}}`)
			e.fake.ScriptAll(proxytest.Always(proxytest.WithHeader("X-Debug", e.keys[0], proxytest.Fixture(500, "application/json", body))))
			resp, got := e.doWith("POST", tc.path, tc.body, map[string]string{"Authorization": "Bearer " + e.accessKey, "x-goog-api-key": e.accessKey, "anthropic-version": "2023-06-01"})
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500; body %.300s", resp.StatusCode, got)
			}
			wantNoSecrets(t, e, tc.name, resp, got)
		})
	}
}

func BenchmarkSecretMasker(b *testing.B) {
	m := secretMasker{access: []byte("gbd-0123456789abcdef0123456789abcdef")}
	chunk := []byte(`data: {"candidates":[{"content":{"parts":[{"text":"` + strings.Repeat("lorem ipsum dolor sit amet ", 20) + `"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":120,"totalTokenCount":123},"modelVersion":"gemini-2.5-flash"}` + "\r\n\r\n")
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		m.apply(chunk, false)
	}
}
