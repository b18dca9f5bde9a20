package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

func withTimeouts(first, idle time.Duration) envOption {
	return func(c *Config) { c.UpstreamTimeout, c.StreamIdleTimeout = first, idle }
}

// waitResults waits until the recorder holds n results.
func waitResults(t *testing.T, e *env, n int) []Result {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.rec.results()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res := e.rec.results()
	if len(res) < n {
		t.Fatalf("results = %d, want %d", len(res), n)
	}
	return res
}

func TestUpstreamFirstByteTimeoutRetriesOnAnotherKey(t *testing.T) {
	for _, tc := range []struct{ name, path, body string }{
		{"native", gen("gemini-2.5-flash"), generateBody},
		{"native sse", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", generateBody},
		{"openai stream", "/v1/chat/completions", `{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hi"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2, withTimeouts(300*time.Millisecond, time.Minute))
			e.fake.Script(e.keys[0], proxytest.Hang())
			resp, body := e.doWith("POST", tc.path, tc.body, map[string]string{"x-goog-api-key": e.accessKey, "Authorization": "Bearer " + e.accessKey})
			e.wantStatus(resp, body, http.StatusOK)
			res := waitResults(t, e, 1)[0]
			if res.Attempts != 2 || len(res.Failures) != 1 || res.Failures[0].Class != gemini.ClassTransient || res.Failures[0].KeyID != e.ids[0] {
				t.Errorf("result = attempts %d, failures %+v; want 2 attempts, the hung key's a transient failure", res.Attempts, res.Failures)
			}
			if res.Class != gemini.ClassOK {
				t.Errorf("class = %v, want ok", res.Class)
			}
		})
	}
}

func TestUpstreamTimeoutOnEveryKey(t *testing.T) {
	e := newEnv(t, 2, withTimeouts(200*time.Millisecond, time.Minute))
	e.fake.ScriptAll(proxytest.Always(proxytest.Hang()))
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, http.StatusGatewayTimeout)
	if !strings.Contains(string(body), "upstream timeout") {
		t.Errorf("body %s does not name the setting", body)
	}
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream requests = %d, want 2", n)
	}
}

func TestStalledStreamIsCut(t *testing.T) {
	gate := make(chan struct{}) // never opened: the stream stalls after its first event
	t.Run("native sse", func(t *testing.T) {
		e := newEnv(t, 1, withTimeouts(time.Minute, 300*time.Millisecond))
		e.fake.ScriptAll(proxytest.Gate(gate))
		req, _ := http.NewRequest("POST", e.base+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", strings.NewReader(generateBody))
		req.Header.Set("x-goog-api-key", e.accessKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("stalled native stream ended cleanly (%q); want the response aborted", body)
		}
		if !strings.HasPrefix(string(body), "data: ") {
			t.Errorf("the first event did not arrive: %q", body)
		}
		res := waitResults(t, e, 1)[0]
		if res.Class != gemini.ClassTransient || res.Status != http.StatusBadGateway {
			t.Errorf("result class %v status %d, want transient 502", res.Class, res.Status)
		}
	})
	t.Run("openai", func(t *testing.T) {
		e := newEnv(t, 1, withTimeouts(time.Minute, 300*time.Millisecond))
		e.fake.ScriptAll(proxytest.Gate(gate))
		resp, body := e.openAI("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
		e.wantStatus(resp, body, http.StatusOK)
		if strings.Contains(string(body), "[DONE]") || !strings.Contains(string(body), `"error"`) {
			t.Errorf("stalled OpenAI stream: want an error event and no [DONE], got %s", body)
		}
	})
}

func TestSlowStreamWithinTimeoutsIsNotCut(t *testing.T) {
	// Gaps longer than the first-byte timeout but shorter than the idle
	// timeout: after the first byte only the idle timeout applies.
	e := newEnv(t, 1, withTimeouts(200*time.Millisecond, time.Second))
	e.fake.ScriptAll(proxytest.SlowStream(3, 350*time.Millisecond))
	resp, body := e.do("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", generateBody)
	e.wantStatus(resp, body, http.StatusOK)
	if n := strings.Count(string(body), "data: "); n != 3 {
		t.Errorf("events = %d, want 3: %s", n, body)
	}
}
