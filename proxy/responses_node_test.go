package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The official OpenAI Node SDK (openai@6.49.0, build/e2e/responses-client.mjs) against
// /v1/responses: text, stream, a tool round trip (non-stream and stream) whose second turn
// goes to a second proxy so that only the reasoning item the SDK sent back can carry the
// thought signature, a rate-limited pool (429 with Retry-After), and a stream cut after its
// first events.
func TestNodeResponsesSDK(t *testing.T) {
	e := newEnv(t, 2)
	e2 := newEnv(t, 1, func(c *Config) { c.AccessKey = e.accessKey }) // one client, two proxies
	e2.accessKey = e.accessKey

	t.Run("text-stream", func(t *testing.T) {
		out := e2etest.RunNode(t, "responses-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "MODEL": "gemini-2.0-flash", "CASES": "text,stream"})
		var res struct {
			Text   struct{ ID, Text string } `json:"text"`
			Stream struct {
				Events int    `json:"events"`
				Text   string `json:"text"`
			} `json:"stream"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.HasPrefix(res.Text.ID, "resp_") || res.Text.Text == "" || res.Stream.Events < 7 || res.Stream.Text == "" {
			t.Errorf("results = %s", out)
		}
	})

	for _, c := range []struct{ name, fx string }{{"tools", fxToolCallJSON}, {"tools_stream", fxToolCallSSE}} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "tools_stream" {
				e.fake.ScriptAll(proxytest.StreamFixture(proxytest.FixtureBody(c.fx)))
			} else {
				e.fake.ScriptAll(proxytest.Fixture(200, "application/json", proxytest.FixtureBody(c.fx)))
			}
			e2.fake.ScriptAll(proxytest.Fixture(200, "application/json", proxytest.FixtureBody(fxTextJSON)))
			out := e2etest.RunNode(t, "responses-client.mjs", map[string]string{
				"BASE_URL": e.base, "SECOND_BASE_URL": e2.base, "API_KEY": e.accessKey, "MODEL": "gemini-2.5-pro", "CASES": c.name,
			})
			reqs := e2.fake.Requests()
			g := nodeDecodeUpstream(t, reqs[len(reqs)-1])
			want := nodeFixtureSignature(t, c.fx)
			if len(g.Contents) != 3 || g.Contents[1].Parts[0].FunctionCall == nil || g.Contents[1].Parts[0].ThoughtSignature != want {
				b, _ := json.Marshal(g.Contents)
				t.Errorf("second turn upstream (node output %s):\n%s\nwant the call with Gemini's signature %.20q…", out, b, want)
			}
			if fr := g.Contents[2].Parts[0].FunctionResponse; fr == nil || fr.Name != "now" || fr.Response["now"] == nil {
				t.Errorf("function response = %+v", g.Contents[2].Parts[0])
			}
		})
	}

	t.Run("stream_break", func(t *testing.T) {
		e.fake.ScriptAll(proxytest.StreamFailAfter(2))
		out := e2etest.RunNode(t, "responses-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": "stream_break"})
		var res struct {
			StreamBreak struct{ Last, Status, Code, Text string } `json:"stream_break"`
		}
		if json.Unmarshal(out, &res) != nil || res.StreamBreak.Last != "response.failed" || res.StreamBreak.Status != "failed" ||
			res.StreamBreak.Code != "server_error" || res.StreamBreak.Text == "" {
			t.Errorf("stream_break = %s, want response.failed (server_error) after partial text", out)
		}
	})
	t.Run("error_429", func(t *testing.T) {
		e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("20s"))) // last: it sticks
		out := e2etest.RunNode(t, "responses-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": "error_429"})
		var res struct {
			Error429 struct {
				Status     int    `json:"status"`
				Type       string `json:"type"`
				RetryAfter string `json:"retryAfter"`
			} `json:"error_429"`
		}
		if json.Unmarshal(out, &res) != nil || res.Error429.Status != 429 || res.Error429.Type != "rate_limit_error" || res.Error429.RetryAfter == "" {
			t.Errorf("error_429 = %s, want a RateLimitError of type rate_limit_error with Retry-After", out)
		}
	})

}
