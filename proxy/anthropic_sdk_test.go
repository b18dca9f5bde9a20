package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// Anthropic's official Go SDK against the running proxy.

func anthropicClient(e *env, opts ...option.RequestOption) anthropic.Client {
	return anthropic.NewClient(append([]option.RequestOption{
		option.WithAPIKey(e.accessKey), option.WithBaseURL(e.base), option.WithMaxRetries(0),
	}, opts...)...)
}

func userText(s string) []anthropic.MessageParam {
	return []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(s))}
}

func TestGoAnthropicSDKText(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client := anthropicClient(e)
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "gemini-2.5-flash", MaxTokens: 1024, Messages: userText("Hi"),
		System: []anthropic.TextBlockParam{{Text: "Be brief.", CacheControl: anthropic.NewCacheControlEphemeralParam()}},
	})
	if err != nil {
		t.Fatalf("Messages.New: %v", err)
	}
	if len(msg.Content) == 0 || msg.Content[0].Type != "text" || msg.Content[0].Text == "" || msg.StopReason != "end_turn" || msg.Usage.InputTokens == 0 {
		t.Errorf("Messages.New = %s", msg.RawJSON())
	}
	up := e.fake.Requests()[0]
	var sent gemini.GenerateContentRequest
	if err := json.Unmarshal(up.Body, &sent); err != nil || up.Action != "generateContent" {
		t.Fatalf("upstream %s %s: %v", up.Action, up.Body, err)
	}
	if sent.SystemInstruction == nil || sent.SystemInstruction.Parts[0].Text != "Be brief." || *sent.GenerationConfig.MaxOutputTokens != 1024 {
		t.Errorf("upstream body = %s, want the system prompt and max_tokens", up.Body)
	}

	// Claude Code asks for up to 128000 tokens; Gemini 2.5 takes 65536.
	stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 128000, Messages: userText("Hi")})
	var acc anthropic.Message
	var types []string
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		if err := acc.Accumulate(ev); err != nil {
			t.Fatalf("Accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Content) == 0 || acc.Content[0].Text == "" || acc.StopReason != "end_turn" || acc.Usage.OutputTokens == 0 {
		t.Errorf("accumulated stream = %s", acc.RawJSON())
	}
	if err := json.Unmarshal(e.fake.Requests()[1].Body, &sent); err != nil || *sent.GenerationConfig.MaxOutputTokens != 65536 {
		t.Errorf("stream upstream body = %s, want max_tokens clamped to 65536", e.fake.Requests()[1].Body)
	}
	order := strings.Join(types, " ")
	if !strings.HasPrefix(order, "message_start content_block_start content_block_delta") || !strings.HasSuffix(order, "content_block_stop message_delta message_stop") {
		t.Errorf("event order = %s", order)
	}

	n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "gemini-2.5-flash", Messages: userText("Hi")})
	if err != nil || n.InputTokens == 0 {
		t.Errorf("CountTokens = %+v, %v", n, err)
	}
}

// TestGoAnthropicSDKToolRoundTrip: Gemini answers with a function call that
// carries a thought signature; the SDK's own ToParam replays the turn with a
// tool_result to a second proxy, and Gemini gets the function call back with
// its signature byte for byte, non-stream and stream.
func TestGoAnthropicSDKToolRoundTrip(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "stream"}[stream], func(t *testing.T) {
			e := newEnv(t, 1)
			ctx := context.Background()
			client := anthropicClient(e)
			fixture := "native/generateContent.thinking+functionCall.gemini-2.5-pro.json"
			if stream {
				fixture = "native/streamGenerateContent.thinking+functionCall.sse.txt"
				e.fake.ScriptAll(proxytest.StreamFixture(proxytest.FixtureBody(fixture)))
			} else {
				e.fake.ScriptAll(proxytest.Fixture(http.StatusOK, "application/json; charset=UTF-8", proxytest.FixtureBody(fixture)))
			}
			want := signatureIn(t, proxytest.FixtureBody(fixture))
			params := anthropic.MessageNewParams{
				Model: "gemini-2.5-pro", MaxTokens: 4096, Messages: userText("How many days until New Year's Eve?"),
				Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
				Tools: []anthropic.ToolUnionParam{anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
					Properties: map[string]any{"tz": map[string]any{"type": "string"}},
				}, "now")},
			}
			var msg *anthropic.Message
			if stream {
				s := client.Messages.NewStreaming(ctx, params)
				msg = &anthropic.Message{}
				for s.Next() {
					if err := msg.Accumulate(s.Current()); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Err(); err != nil {
					t.Fatalf("stream: %v", err)
				}
			} else {
				var err error
				if msg, err = client.Messages.New(ctx, params); err != nil {
					t.Fatalf("Messages.New: %v", err)
				}
			}
			var toolID string
			var thinking bool
			for _, b := range msg.Content {
				switch b.Type {
				case "tool_use":
					toolID = b.ID
				case "thinking":
					thinking = thinking || b.Thinking != ""
				}
			}
			if msg.StopReason != "tool_use" || toolID == "" || !thinking {
				t.Fatalf("answer = %s, want thinking and a tool_use", msg.RawJSON())
			}
			// The second turn goes to another proxy, which never saw the
			// first answer: the signature can only come from the replayed
			// thinking blocks.
			e2 := newEnv(t, 1)
			client2 := anthropicClient(e2)
			params.Messages = append(params.Messages, msg.ToParam(),
				anthropic.NewUserMessage(anthropic.NewToolResultBlock(toolID, "2025-07-28T10:00:00Z", false)))
			if _, err := client2.Messages.New(ctx, params); err != nil {
				t.Fatalf("second turn: %v", err)
			}
			reqs := e2.fake.Requests()
			var sent gemini.GenerateContentRequest
			if err := json.Unmarshal(reqs[len(reqs)-1].Body, &sent); err != nil {
				t.Fatal(err)
			}
			var got string
			var resp *gemini.FunctionResponse
			for _, c := range sent.Contents {
				for _, p := range c.Parts {
					if p.FunctionCall != nil {
						got = p.ThoughtSignature
					}
					if p.FunctionResponse != nil {
						resp = p.FunctionResponse
					}
				}
			}
			if got != want {
				t.Errorf("replayed function call signature = %.40q…, want %.40q…", got, want)
			}
			if resp == nil || resp.Name != "now" || !strings.Contains(string(resp.Response), "2025-07-28") {
				t.Errorf("function response = %+v", resp)
			}
		})
	}
}

// signatureIn returns the thoughtSignature of the function call in a
// capture (whole answer or SSE).
func signatureIn(t *testing.T, body []byte) string {
	t.Helper()
	s := string(body)
	i := strings.Index(s, `"functionCall"`)
	j := strings.Index(s[i:], `"thoughtSignature"`)
	if i < 0 || j < 0 {
		t.Fatal("capture has no signed function call")
	}
	rest := s[i+j+len(`"thoughtSignature"`):]
	rest = rest[strings.Index(rest, `"`)+1:]
	return rest[:strings.Index(rest, `"`)]
}

func TestGoAnthropicSDKErrors(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client := anthropicClient(e)
	apiErr := func(err error) *anthropic.Error {
		t.Helper()
		var ae *anthropic.Error
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v, want an *anthropic.Error", err)
		}
		return ae
	}

	e.fake.ScriptAll(proxytest.ModelNotFound())
	_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini-9", MaxTokens: 10, Messages: userText("Hi")})
	if ae := apiErr(err); ae.StatusCode != 404 || ae.Type() != "not_found_error" || ae.Message == "" {
		t.Errorf("unknown model: %d %s %q", ae.StatusCode, ae.Type(), ae.Message)
	}

	wrong := anthropicClient(e, option.WithAPIKey("wrong"))
	_, err = wrong.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 10, Messages: userText("Hi")})
	if ae := apiErr(err); ae.StatusCode != 401 || ae.Type() != "authentication_error" {
		t.Errorf("wrong key: %d %s", ae.StatusCode, ae.Type())
	}

	_, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_none", "x", false))}})
	if ae := apiErr(err); ae.StatusCode != 400 || ae.Type() != "invalid_request_error" || !strings.Contains(ae.Message, "toolu_none") {
		t.Errorf("dangling tool_result: %d %s %q", ae.StatusCode, ae.Type(), ae.Message)
	}

	// Every key rate-limited: 429 rate_limit_error with Retry-After.
	e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("26s")))
	_, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 10, Messages: userText("Hi")})
	ae := apiErr(err)
	if ae.StatusCode != 429 || ae.Type() != "rate_limit_error" || ae.Response.Header.Get("Retry-After") == "" {
		t.Errorf("rate limited: %d %s Retry-After %q", ae.StatusCode, ae.Type(), ae.Response.Header.Get("Retry-After"))
	}
	// Now the pool itself has no key: the proxy's own 429, same shape.
	_, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 10, Messages: userText("Hi")})
	ae = apiErr(err)
	if ae.StatusCode != 429 || ae.Type() != "rate_limit_error" || ae.Response.Header.Get("Retry-After") == "" {
		t.Errorf("pool exhausted: %d %s Retry-After %q", ae.StatusCode, ae.Type(), ae.Response.Header.Get("Retry-After"))
	}
}

// TestGoAnthropicSDKCutStream: an upstream stream that breaks after its
// first events ends with an error event, which the SDK raises; it is never
// a clean message_stop.
func TestGoAnthropicSDKCutStream(t *testing.T) {
	e := newEnv(t, 1)
	e.fake.ScriptAll(proxytest.StreamFailAfter(2))
	client := anthropicClient(e)
	s := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "gemini-2.5-flash", MaxTokens: 100, Messages: userText("Hi")})
	var acc anthropic.Message
	var types []string
	for s.Next() {
		types = append(types, s.Current().Type)
		acc.Accumulate(s.Current())
	}
	err := s.Err()
	if err == nil || strings.Contains(strings.Join(types, " "), "message_stop") {
		t.Fatalf("cut stream: err %v, events %v; want an error and no message_stop", err, types)
	}
	if !strings.Contains(err.Error(), "broke off") {
		t.Errorf("err = %v, want the proxy's message", err)
	}
	if len(acc.Content) == 0 || !strings.Contains(acc.Content[0].Text, "chunk 2") {
		t.Errorf("partial content = %s, want the chunks before the break", acc.RawJSON())
	}
}

// TestGoAnthropicSDKModels: the SDK's models list and get, in Anthropic's
// shape, from Google's list (both pages of the fake's).
func TestGoAnthropicSDKModels(t *testing.T) {
	e := newEnv(t, 1)
	ctx := context.Background()
	client := anthropicClient(e)
	page, err := client.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil {
		t.Fatalf("Models.List: %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if !strings.Contains(strings.Join(ids, ","), "gemini-2.5-flash") || page.HasMore {
		t.Errorf("Models.List = %v (has_more %v)", ids, page.HasMore)
	}
	m, err := client.Models.Get(ctx, "gemini-2.5-flash", anthropic.ModelGetParams{})
	if err != nil || m.ID != "gemini-2.5-flash" || m.DisplayName == "" {
		t.Errorf("Models.Get = %+v, %v", m, err)
	}
}
