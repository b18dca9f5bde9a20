package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The official Anthropic Node SDK (build/e2e/anthropic-client.mjs with
// @anthropic-ai/sdk@1.17.0) against the running proxy.

type anthropicNodeMessage struct {
	StopReason string   `json:"stop_reason"`
	Types      []string `json:"types"`
	Text       string   `json:"text"`
	Usage      struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
	Events []string `json:"events"`
}

type anthropicNodeTools struct {
	Tool       string               `json:"tool"`
	ID         string               `json:"id"`
	Signatures []string             `json:"signatures"`
	First      anthropicNodeMessage `json:"first"`
	Second     anthropicNodeMessage `json:"second"`
}

func TestNodeAnthropicSDK(t *testing.T) {
	e := newEnv(t, 2)
	env := map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": "text,stream,count_tokens"}
	var out struct {
		Text        anthropicNodeMessage `json:"text"`
		Stream      anthropicNodeMessage `json:"stream"`
		CountTokens struct {
			InputTokens int `json:"input_tokens"`
		} `json:"count_tokens"`
	}
	runNodeClient(t, "anthropic-client.mjs", env, &out)
	if out.Text.Text == "" || out.Text.StopReason != "end_turn" || out.Text.Usage.InputTokens == 0 {
		t.Errorf("text = %+v", out.Text)
	}
	events := strings.Join(out.Stream.Events, " ")
	if out.Stream.Text == "" || !strings.HasPrefix(events, "message_start content_block_start content_block_delta") || !strings.HasSuffix(events, "content_block_stop message_delta message_stop") {
		t.Errorf("stream = %+v", out.Stream)
	}
	if out.CountTokens.InputTokens == 0 {
		t.Errorf("count_tokens = %+v", out.CountTokens)
	}
	nodeCheckKeys(t, e)
}

// TestNodeAnthropicSDKTools: the SDK replays the assistant turn as it got it
// (thinking blocks included) with a tool_result to a second proxy, which
// never saw the first answer; Gemini gets its function
// call back with the thought signature intact and the result under the
// function's name.
func TestNodeAnthropicSDKTools(t *testing.T) {
	for _, c := range []struct{ name, fixture string }{{"tools", fxToolCallJSON}, {"tools_stream", fxToolCallSSE}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1)
			if strings.HasSuffix(c.fixture, ".sse.txt") {
				e.fake.Script(e.keys[0], proxytest.StreamFixture(proxytest.FixtureBody(c.fixture)))
			} else {
				e.fake.Script(e.keys[0], proxytest.Fixture(http.StatusOK, "application/json; charset=UTF-8", proxytest.FixtureBody(c.fixture)))
			}
			e2 := newEnv(t, 1) // the second turn: a proxy that never saw the first answer
			var out map[string]anthropicNodeTools
			runNodeClient(t, "anthropic-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey,
				"BASE_URL_2": e2.base, "API_KEY_2": e2.accessKey, "CASES": c.name, "MODEL": "gemini-2.5-pro"}, &out)
			got := out[c.name]
			if got.Tool != "now" || got.First.StopReason != "tool_use" || got.Second.Text == "" || len(got.Signatures) == 0 {
				t.Fatalf("%s = %+v", c.name, got)
			}
			want := nodeFixtureSignature(t, c.fixture)
			reqs := nodeRequests(e2, "generateContent")
			second := nodeDecodeUpstream(t, reqs[len(reqs)-1])
			var sig, result string
			for _, content := range second.Contents {
				for _, p := range content.Parts {
					if p.FunctionCall != nil {
						sig = p.ThoughtSignature
					}
					if p.FunctionResponse != nil && p.FunctionResponse.Name == "now" {
						result, _ = p.FunctionResponse.Response["output"].(string)
					}
				}
			}
			if sig != want || result != "2025-07-28T10:00:00Z" {
				t.Errorf("second upstream turn: signature %.30q… (want %.30q…), function result %q", sig, want, result)
			}
			nodeCheckKeys(t, e)
		})
	}
}

func TestNodeAnthropicSDKFailures(t *testing.T) {
	t.Run("429", func(t *testing.T) {
		e := newEnv(t, 2)
		e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("26s")))
		var out struct {
			E struct {
				Status     int    `json:"status"`
				Type       string `json:"type"`
				RetryAfter string `json:"retry_after"`
			} `json:"error_429"`
		}
		runNodeClient(t, "anthropic-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": "error_429"}, &out)
		if out.E.Status != 429 || out.E.Type != "rate_limit_error" || out.E.RetryAfter == "" {
			t.Errorf("error_429 = %+v", out.E)
		}
	})
	t.Run("stream break", func(t *testing.T) {
		e := newEnv(t, 1)
		e.fake.ScriptAll(proxytest.StreamFailAfter(2))
		var out struct {
			B struct {
				Text    string `json:"text"`
				Message string `json:"message"`
			} `json:"stream_break"`
		}
		runNodeClient(t, "anthropic-client.mjs", map[string]string{"BASE_URL": e.base, "API_KEY": e.accessKey, "CASES": "stream_break"}, &out)
		if !strings.Contains(out.B.Text, "chunk 2") || !strings.Contains(out.B.Message, "broke off") {
			t.Errorf("stream_break = %+v", out.B)
		}
	})
}
