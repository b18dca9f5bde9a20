package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The official Go SDK (openai-go/v3) against /v1/responses on a real
// listener in front of the fake Gemini.

func responsesClient(e *env) openai.Client {
	return openai.NewClient(option.WithAPIKey(e.accessKey), option.WithBaseURL(e.base+"/v1/"), option.WithMaxRetries(0))
}

// waitResults waits (up to 5 s) until n requests have been recorded: the
// Result of a request is recorded after its answer reached the client.
func (e *env) waitResults(n int) []Result {
	deadline := time.Now().Add(5 * time.Second)
	for len(e.rec.results()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return e.rec.results()
}

var nowTool = responses.ToolParamOfFunction("now", map[string]any{"type": "object", "properties": map[string]any{}}, false)

func TestGoResponsesSDKText(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client := responsesClient(e)
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:        "gemini-2.0-flash",
		Instructions: openai.String("Be brief."),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")},
	})
	if err != nil {
		t.Fatalf("Responses.New: %v", err)
	}
	if resp.Status != "completed" || resp.OutputText() == "" || resp.Usage.InputTokens == 0 || !strings.HasPrefix(resp.ID, "resp_") {
		t.Errorf("response = status %q text %q usage %+v id %q", resp.Status, resp.OutputText(), resp.Usage, resp.ID)
	}
	g := nodeDecodeUpstream(t, e.fake.Requests()[0])
	if g.SystemInstruction == nil || g.SystemInstruction.Parts[0].Text != "Be brief." || g.Contents[0].Parts[0].Text != "Hi" {
		t.Errorf("upstream request = %+v", g)
	}

	// Streaming: the SDK's event union decodes every event; the text
	// deltas add up to the completed response's text.
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "gemini-2.0-flash",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")},
	})
	var deltas strings.Builder
	var types []string
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(types) < 6 || types[0] != "response.created" || types[len(types)-1] != "response.completed" {
		t.Errorf("event types = %v", types)
	}
	if deltas.Len() == 0 || final.OutputText() != deltas.String() || final.Usage.TotalTokens == 0 {
		t.Errorf("deltas %q, completed text %q, usage %+v", deltas.String(), final.OutputText(), final.Usage)
	}
	// Statistics see both requests like any other: route, model, stream
	// flag, tokens.
	got := e.waitResults(2)
	if len(got) != 2 {
		t.Fatalf("recorded %d results, want 2", len(got))
	}
	for i, res := range got {
		if res.Route != "openai.responses" || res.Model != "gemini-2.0-flash" || res.Stream != (i == 1) || res.Status != 200 || res.PromptTokens == 0 || res.OutputTokens == 0 {
			t.Errorf("result %d = %+v", i, res)
		}
	}
}

// A tool round trip the way a stateless client does it (store false, the
// output items replayed as input): the thought signature Gemini gave the
// call reaches Gemini again with the call, carried in the reasoning item's
// encrypted_content through the SDK's own types.
func TestGoResponsesSDKToolRoundTrip(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := "non-stream"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 1)
			ctx := context.Background()
			client := responsesClient(e)
			fx := fxToolCallJSON
			if stream {
				fx = fxToolCallSSE
				e.fake.ScriptAll(proxytest.StreamFixture(proxytest.FixtureBody(fx)))
			} else {
				e.fake.ScriptAll(proxytest.Fixture(200, "application/json", proxytest.FixtureBody(fx)))
			}
			wantSig := nodeFixtureSignature(t, fx)
			params := responses.ResponseNewParams{
				Model:     "gemini-2.5-pro",
				Input:     responses.ResponseNewParamsInputUnion{OfString: openai.String("How many days until New Year's Eve?")},
				Tools:     []responses.ToolUnionParam{nowTool},
				Store:     openai.Bool(false),
				Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
				Reasoning: shared.ReasoningParam{Summary: shared.ReasoningSummaryAuto},
			}
			var first responses.Response
			if stream {
				s := client.Responses.NewStreaming(ctx, params)
				for s.Next() {
					if ev := s.Current(); ev.Type == "response.completed" {
						first = ev.Response
					}
				}
				if err := s.Err(); err != nil {
					t.Fatalf("stream: %v", err)
				}
			} else {
				r, err := client.Responses.New(ctx, params)
				if err != nil {
					t.Fatalf("Responses.New: %v", err)
				}
				first = *r
			}
			input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("How many days until New Year's Eve?", responses.EasyInputMessageRoleUser)}
			var callID string
			for _, item := range first.Output {
				switch item.Type {
				case "reasoning":
					r := item.AsReasoning()
					if r.EncryptedContent == "" || len(r.Summary) == 0 {
						t.Errorf("reasoning item %s lacks its summary or encrypted_content", item.RawJSON())
					}
					p := r.ToParam()
					input = append(input, responses.ResponseInputItemUnionParam{OfReasoning: &p})
				case "function_call":
					fc := item.AsFunctionCall()
					callID = fc.CallID
					if fc.Name != "now" || fc.Arguments != "{}" {
						t.Errorf("function_call = %s", item.RawJSON())
					}
					p := fc.ToParam()
					input = append(input, responses.ResponseInputItemUnionParam{OfFunctionCall: &p})
				}
			}
			if callID == "" {
				t.Fatalf("no function_call in %+v", first.Output)
			}
			input = append(input, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{
				CallID: openai.String(callID),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String(`{"now":"2025-12-30T10:00:00Z"}`)},
			}})
			// The second turn goes to a proxy started afresh (as after a
			// restart): only the reasoning item the client sent back can
			// give the signature.
			e2 := newEnv(t, 1)
			e2.fake.ScriptAll(proxytest.Fixture(200, "application/json", proxytest.FixtureBody(fxTextJSON)))
			params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
			client2 := responsesClient(e2)
			second, err := client2.Responses.New(ctx, params)
			if err != nil {
				t.Fatalf("second turn: %v", err)
			}
			if second.OutputText() == "" {
				t.Errorf("second turn has no text")
			}
			reqs := e2.fake.Requests()
			g := nodeDecodeUpstream(t, reqs[len(reqs)-1])
			if len(g.Contents) != 3 || g.Contents[1].Role != "model" || g.Contents[1].Parts[0].FunctionCall == nil {
				t.Fatalf("second upstream request contents = %+v", g.Contents)
			}
			if got := g.Contents[1].Parts[0].ThoughtSignature; got != wantSig {
				t.Errorf("replayed thoughtSignature = %.30q…, want Gemini's %.30q…", got, wantSig)
			}
			if fr := g.Contents[2].Parts[0].FunctionResponse; fr == nil || fr.Name != "now" || fr.Response["now"] != "2025-12-30T10:00:00Z" {
				t.Errorf("functionResponse = %+v", g.Contents[2].Parts[0])
			}
		})
	}
}

// Errors reach the SDK as *openai.Error with OpenAI's shape: a request the
// translator refuses (400 naming the field), a rate-limited pool (429 with
// Retry-After), and a stream that breaks after its first event ends with
// response.failed instead of response.completed.
func TestGoResponsesSDKErrors(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client := responsesClient(e)
	_, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gemini-2.5-flash",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{{
			OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{CallID: openai.String("call_unknown"), Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String("x")}},
		}}},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "input[0].call_id" || apiErr.Type != "invalid_request_error" {
		t.Errorf("unknown call_id: err = %v, want a 400 about input[0].call_id", err)
	}
	if len(e.fake.Requests()) != 0 {
		t.Errorf("a refused request reached upstream")
	}

	e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("20s")))
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.5-flash", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Type != "rate_limit_error" || apiErr.Response.Header.Get("Retry-After") == "" {
		t.Errorf("429: err = %v, want a rate_limit_error with Retry-After", err)
	}
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream calls = %d, want one per key (2) before giving up", n)
	}

	e2 := newEnv(t, 1)
	e2.fake.ScriptAll(proxytest.StreamFailAfter(2))
	client2 := responsesClient(e2)
	s := client2.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gemini-2.5-flash", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")}})
	var last responses.ResponseStreamEventUnion
	var text strings.Builder
	for s.Next() {
		last = s.Current()
		if last.Type == "response.output_text.delta" {
			text.WriteString(last.Delta)
		}
		if last.Type == "response.completed" {
			t.Errorf("a broken stream ended with response.completed")
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if last.Type != "response.failed" || last.Response.Status != "failed" || last.Response.Error.Code != "server_error" || text.Len() == 0 {
		t.Errorf("last event = %s (status %q, error %+v), text %q; want response.failed after partial text", last.Type, last.Response.Status, last.Response.Error, text.String())
	}
}

// previous_response_id continues a stored response; an unknown id is a
// clear 400.
func TestGoResponsesSDKPreviousResponse(t *testing.T) {
	e := newEnv(t, 1)
	ctx := context.Background()
	client := responsesClient(e)
	first, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.0-flash", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("My name is Ada.")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.0-flash", PreviousResponseID: openai.String(first.ID), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("What is my name?")}}); err != nil {
		t.Fatalf("continuing %s: %v", first.ID, err)
	}
	reqs := e.fake.Requests()
	g := nodeDecodeUpstream(t, reqs[len(reqs)-1])
	if len(g.Contents) != 3 || g.Contents[0].Parts[0].Text != "My name is Ada." || g.Contents[1].Role != "model" || g.Contents[2].Parts[0].Text != "What is my name?" {
		b, _ := json.Marshal(g.Contents)
		t.Errorf("continued conversation sent upstream = %s", b)
	}
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.0-flash", PreviousResponseID: openai.String("resp_unknown"), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "previous_response_not_found" {
		t.Errorf("unknown previous_response_id: %v", err)
	}
	// store: false is not kept.
	nostore, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.0-flash", Store: openai.Bool(false), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gemini-2.0-flash", PreviousResponseID: openai.String(nostore.ID), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}}); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("a store:false response was continued: %v", err)
	}
}

// The Responses route answers under /v1, /v1beta/openai and without a
// prefix, and refuses what needs OpenAI's storage locally.
func TestResponsesRoutes(t *testing.T) {
	e := newEnv(t, 1)
	auth := map[string]string{"Authorization": "Bearer " + e.accessKey}
	for _, p := range []string{"/v1/responses", "/v1beta/openai/responses", "/responses"} {
		resp, body := e.doWith("POST", p, `{"model":"gemini-2.0-flash","input":"Hi"}`, auth)
		e.wantStatus(resp, body, 200)
		var r struct {
			Object string `json:"object"`
			Status string `json:"status"`
		}
		if json.Unmarshal(body, &r) != nil || r.Object != "response" || r.Status != "completed" {
			t.Errorf("POST %s = %s", p, body)
		}
	}
	n := len(e.fake.Requests())
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/v1/responses/resp_1", 404}, {"GET", "/v1/responses", 405}, {"POST", "/v1/responses/resp_1/cancel", 404}} {
		resp, body := e.doWith(c.method, c.path, "", auth)
		e.wantStatus(resp, body, c.status)
		var oe struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(body, &oe) != nil || oe.Error.Message == "" {
			t.Errorf("%s %s: not an OpenAI error: %s", c.method, c.path, body)
		}
	}
	if len(e.fake.Requests()) != n {
		t.Error("a local answer reached upstream")
	}
}

// Answers the proxy makes itself on the Responses route are OpenAI errors
// with the right status: a wrong access key, a body over the limit, a body
// that is not JSON, a paused proxy, an upstream 404 for an unknown model.
func TestResponsesLocalErrors(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.MaxBodyBytes = 4096 })
	good := map[string]string{"Authorization": "Bearer " + e.accessKey}
	cases := []struct {
		name, body string
		headers    map[string]string
		status     int
		typ        string
	}{
		{"wrong key", `{"model":"gemini-2.0-flash","input":"Hi"}`, map[string]string{"Authorization": "Bearer wrong"}, 401, "authentication_error"},
		{"too large", `{"model":"gemini-2.0-flash","input":"` + strings.Repeat("x", 5000) + `"}`, good, 413, "invalid_request_error"},
		{"not JSON", `{"model":`, good, 400, "invalid_request_error"},
	}
	for _, c := range cases {
		resp, body := e.doWith("POST", "/v1/responses", c.body, c.headers)
		var oe struct {
			Error struct{ Message, Type string } `json:"error"`
		}
		if resp.StatusCode != c.status || json.Unmarshal(body, &oe) != nil || oe.Error.Type != c.typ || oe.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d with an OpenAI error of type %s", c.name, resp.StatusCode, body, c.status, c.typ)
		}
	}
	e.fake.ScriptAll(proxytest.ModelNotFound())
	resp, body := e.doWith("POST", "/v1/responses", `{"model":"gemini-1.5-flash","input":"Hi","stream":true}`, good)
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"type":"not_found_error"`) {
		t.Errorf("unknown model: %d %s, want Google's 404 in OpenAI's shape", resp.StatusCode, body)
	}
	cfg := e.srv.Config()
	cfg.Paused = true
	if _, err := e.srv.Update(cfg); err != nil {
		t.Fatal(err)
	}
	resp, body = e.doWith("POST", "/v1/responses", `{"model":"gemini-2.0-flash","input":"Hi"}`, good)
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"error"`) {
		t.Errorf("paused: %d %s, want 503 in OpenAI's shape", resp.StatusCode, body)
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("upstream saw %d requests, want only the unknown-model one", n)
	}
}
