package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// TestToolRoundTrip: a Gemini answer with a functionCall and its
// thoughtSignature goes to an OpenAI client, which sends the assistant
// message back with the tool result; the Gemini request must carry the same
// signature on that functionCall.
func TestToolRoundTrip(t *testing.T) {
	raw := golden.Read(t, "testdata/gemini/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	var native gemini.GenerateContentResponse
	if err := json.Unmarshal(raw, &native); err != nil {
		t.Fatal(err)
	}
	wantSig := native.Candidates[0].Content.Parts[1].ThoughtSignature

	completion, err := FromGeminiJSON(raw, ResponseMeta{Model: "gemini-2.5-pro"})
	if err != nil {
		t.Fatal(err)
	}
	// The client stores the message as JSON and sends it back verbatim.
	msg, err := json.Marshal(completion.Choices[0].Message)
	if err != nil {
		t.Fatal(err)
	}
	callID := completion.Choices[0].Message.ToolCalls[0].ID
	body := `{"model":"gemini-2.5-pro","messages":[
		{"role":"user","content":"How many days until New Year's Eve?"},
		` + string(msg) + `,
		{"role":"tool","tool_call_id":"` + callID + `","content":"{\"now\":\"2025-12-01\"}"}]}`
	tr := mustTranslate(t, body)

	model := tr.Body.Contents[1]
	if model.Role != "model" || len(model.Parts) != 1 || model.Parts[0].FunctionCall == nil {
		t.Fatalf("replayed assistant turn = %+v, want one functionCall part", model)
	}
	if got := model.Parts[0].ThoughtSignature; got != wantSig {
		t.Errorf("replayed thoughtSignature = %.30q…, want %.30q…", got, wantSig)
	}
	if got := model.Parts[0].FunctionCall.Name; got != "now" {
		t.Errorf("replayed functionCall name = %q, want now", got)
	}
	fr := tr.Body.Contents[2].Parts[0].FunctionResponse
	if fr == nil || fr.Name != "now" || string(fr.Response) != `{"now":"2025-12-01"}` {
		t.Errorf("functionResponse = %+v, want name now and the tool output", fr)
	}
	// The thought summary itself is not sent back.
	if strings.Contains(bodyJSON(t, tr), "Thinking Through") {
		t.Error("the reasoning_content was sent back to Gemini")
	}
}

// TestToolRoundTripStream does the same through a stream: the client
// accumulates the tool_call deltas the way the OpenAI SDKs do (by index,
// keeping unknown fields of the first delta).
func TestToolRoundTripStream(t *testing.T) {
	raw := golden.Read(t, "testdata/gemini/streamGenerateContent.thinking+functionCall.sse.txt")
	_, wantSig := streamSignature(t, raw)

	calls := map[int]*ToolCall{}
	for _, c := range translateStream(t, raw, false) {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatalf("tool call delta without index: %+v", tc)
				}
				if calls[*tc.Index] == nil {
					cp := tc
					cp.Index = nil
					calls[*tc.Index] = &cp
					continue
				}
				calls[*tc.Index].Function.Arguments += tc.Function.Arguments
			}
		}
	}
	if len(calls) != 1 {
		t.Fatalf("streamed tool calls = %d, want 1", len(calls))
	}
	msg, _ := json.Marshal(AssistantMessage{Role: "assistant", ToolCalls: []ToolCall{*calls[0]}})
	tr := mustTranslate(t, `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"days?"},`+string(msg)+`,{"role":"tool","tool_call_id":"`+calls[0].ID+`","content":"2025-12-01"}]}`)
	if got := tr.Body.Contents[1].Parts[0].ThoughtSignature; got != wantSig {
		t.Errorf("replayed streamed thoughtSignature = %.30q…, want %.30q…", got, wantSig)
	}
}

// TestStreamTextUnaltered: for every capture, the content and
// reasoning_content deltas concatenate to exactly the Gemini text, in order.
func TestStreamTextUnaltered(t *testing.T) {
	for _, name := range streamFixtures {
		raw := golden.Read(t, "testdata/gemini/"+name)
		var wantText, wantThought strings.Builder
		for _, ev := range sseEvents(t, raw) {
			var r gemini.GenerateContentResponse
			if err := json.Unmarshal(ev, &r); err != nil {
				t.Fatal(err)
			}
			for _, c := range r.Candidates {
				if c.Content == nil {
					continue
				}
				for i := range c.Content.Parts {
					p := &c.Content.Parts[i]
					switch {
					case p.FunctionCall != nil:
					case p.Thought:
						wantThought.WriteString(p.Text)
					default:
						appendVisible(&wantText, p)
					}
				}
			}
		}
		var gotText, gotThought strings.Builder
		for _, c := range translateStream(t, raw, false) {
			for _, ch := range c.Choices {
				if ch.Delta.Content != nil {
					gotText.WriteString(*ch.Delta.Content)
				}
				gotThought.WriteString(ch.Delta.ReasoningContent)
			}
		}
		if gotText.String() != wantText.String() {
			t.Errorf("%s: streamed content = %q, want %q", name, gotText.String(), wantText.String())
		}
		if gotThought.String() != wantThought.String() {
			t.Errorf("%s: streamed reasoning = %q, want %q", name, gotThought.String(), wantThought.String())
		}
	}
}

func TestStreamShape(t *testing.T) {
	for _, name := range streamFixtures {
		chunks := translateStream(t, golden.Read(t, "testdata/gemini/"+name), true)
		if len(chunks) < 3 {
			t.Fatalf("%s: %d chunks, want role, finish and usage at least", name, len(chunks))
		}
		first := chunks[0].Choices[0].Delta
		if first.Role != "assistant" || first.Content == nil || *first.Content != "" {
			t.Errorf("%s: first chunk delta = %+v, want the role chunk", name, first)
		}
		usage := chunks[len(chunks)-1]
		if usage.Usage == nil || usage.Choices == nil || len(usage.Choices) != 0 {
			t.Errorf("%s: last chunk = %+v, want usage with choices []", name, usage)
		}
		b, _ := json.Marshal(usage)
		if !bytes.Contains(b, []byte(`"choices":[]`)) {
			t.Errorf("%s: usage chunk JSON = %s, want \"choices\":[]", name, b)
		}
		fin := chunks[len(chunks)-2].Choices[0]
		if fin.FinishReason == nil {
			t.Errorf("%s: chunk before usage has no finish_reason", name)
		}
		for i, c := range chunks[:len(chunks)-2] {
			if c.Choices[0].FinishReason != nil {
				t.Errorf("%s: chunk %d has finish_reason %q before the end", name, i, *c.Choices[0].FinishReason)
			}
			if c.ID != chunks[0].ID || c.Object != "chat.completion.chunk" {
				t.Errorf("%s: chunk %d id/object = %s/%s", name, i, c.ID, c.Object)
			}
		}
	}
}

func TestStreamFinishWithoutFinishReason(t *testing.T) {
	st := NewStreamTranslator(testMeta(), false)
	if _, err := st.Translate([]byte(`{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}},{"index":1,"content":{"parts":[{"functionCall":{"name":"f","args":{"x":1}}}]}}]}`)); err != nil {
		t.Fatal(err)
	}
	got := st.Finish()
	if len(got) != 2 || *got[0].Choices[0].FinishReason != "stop" || *got[1].Choices[0].FinishReason != "tool_calls" || got[1].Choices[0].Index != 1 {
		b, _ := json.Marshal(got)
		t.Errorf("Finish() = %s, want stop for choice 0 and tool_calls for choice 1", b)
	}
	if again := st.Finish(); again != nil {
		t.Errorf("second Finish() = %v, want nil", again)
	}
	// An empty stream still yields a well-formed answer.
	empty := NewStreamTranslator(testMeta(), true).Finish()
	if len(empty) != 3 || empty[0].Choices[0].Delta.Role != "assistant" || *empty[1].Choices[0].FinishReason != "stop" || empty[2].Usage == nil {
		b, _ := json.Marshal(empty)
		t.Errorf("Finish() of an empty stream = %s, want role, stop, usage", b)
	}
}

func TestStreamErrors(t *testing.T) {
	st := NewStreamTranslator(testMeta(), false)
	_, err := st.Translate(golden.Read(t, "testdata/gemini/error.503-UNAVAILABLE-overloaded.json"))
	var e *Error
	if !errors.As(err, &e) || e.Status != 503 || e.Message != "The model is overloaded. Please try again later." {
		t.Errorf("Translate(503 error event) = %v, want the 503 as *Error", err)
	}
	_, err = st.Translate([]byte(`data: oops`))
	if !errors.As(err, &e) || e.Status != 502 {
		t.Errorf("Translate(garbage) = %v, want a 502 *Error", err)
	}
	got := string(ErrorChunk(e))
	if !strings.HasPrefix(got, `{"error":{"message":"the upstream stream sent an event that is not valid JSON`) || !strings.Contains(got, `"type":"server_error","param":null,"code":null}}`) {
		t.Errorf("ErrorChunk = %s", got)
	}
}

func TestMultipleCandidates(t *testing.T) {
	body := `{"candidates":[
		{"content":{"parts":[{"text":"one"}],"role":"model"},"finishReason":"STOP"},
		{"content":{"parts":[{"text":"two"},{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"g","args":{"a":"b"}}}],"role":"model"},"finishReason":"STOP","index":1}],
		"responseId":"r1"}`
	got, err := FromGeminiJSON([]byte(body), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != 2 || *got.Choices[0].Message.Content != "one" || got.Choices[1].Index != 1 || got.Choices[1].FinishReason != "tool_calls" {
		t.Fatalf("FromGemini(2 candidates) = %+v", got.Choices)
	}
	tcs := got.Choices[1].Message.ToolCalls
	if len(tcs) != 2 || tcs[0].ID == tcs[1].ID || tcs[1].Function.Arguments != `{"a":"b"}` {
		t.Errorf("tool calls = %+v, want 2 with distinct ids", tcs)
	}
	if *got.Choices[1].Message.Content != "two" {
		t.Errorf("content with tool calls = %q, want two", *got.Choices[1].Message.Content)
	}
	// Random ids (no injected NewID) are unique too.
	a, _ := FromGeminiJSON([]byte(body), ResponseMeta{})
	b, _ := FromGeminiJSON([]byte(body), ResponseMeta{})
	if a.Choices[1].Message.ToolCalls[0].ID == b.Choices[1].Message.ToolCalls[0].ID || !strings.HasPrefix(a.Choices[1].Message.ToolCalls[0].ID, "call_") {
		t.Errorf("random tool call ids %q and %q, want distinct call_ ids", a.Choices[1].Message.ToolCalls[0].ID, b.Choices[1].Message.ToolCalls[0].ID)
	}
	if a.ID != "chatcmpl-r1" {
		t.Errorf("id = %q, want chatcmpl-r1 (from responseId)", a.ID)
	}
}

func TestLogprobs(t *testing.T) {
	body := `{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP",
		"logprobsResult":{"topCandidates":[{"candidates":[{"token":"Hi","logProbability":-0.1},{"token":"Hey","logProbability":-2.5}]}],
		"chosenCandidates":[{"token":"Hi","logProbability":-0.1}]}}]}`
	got, err := FromGeminiJSON([]byte(body), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got.Choices[0].Logprobs)
	want := `{"content":[{"token":"Hi","logprob":-0.1,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.1,"bytes":[72,105]},{"token":"Hey","logprob":-2.5,"bytes":[72,101,121]}]}]}`
	if string(b) != want {
		t.Errorf("logprobs = %s, want %s", b, want)
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		in    string
		calls bool
		want  string
	}{
		{"STOP", false, "stop"}, {"MAX_TOKENS", false, "length"}, {"SAFETY", false, "content_filter"},
		{"RECITATION", false, "content_filter"}, {"BLOCKLIST", false, "content_filter"},
		{"PROHIBITED_CONTENT", false, "content_filter"}, {"SPII", false, "content_filter"},
		{"IMAGE_SAFETY", false, "content_filter"}, {"OTHER", false, "stop"},
		{"MALFORMED_FUNCTION_CALL", false, "stop"}, {"", false, "stop"},
		{"STOP", true, "tool_calls"}, {"MAX_TOKENS", true, "tool_calls"},
	}
	for _, tt := range tests {
		if got := FinishReason(tt.in, tt.calls); got != tt.want {
			t.Errorf("FinishReason(%q, %v) = %q, want %q", tt.in, tt.calls, got, tt.want)
		}
	}
}

func TestFromGeminiError(t *testing.T) {
	tests := []struct {
		file         string
		status       int
		typ, code    string
		msgHas       string
		keyNotInText string
	}{
		{"error.400-INVALID_ARGUMENT-API_KEY_INVALID.json", 400, "invalid_request_error", "invalid_argument", "API key not valid", ""},
		{"error.403-PERMISSION_DENIED-SERVICE_DISABLED.json", 403, "permission_error", "permission_denied", "Generative Language API has not been used", ""},
		{"error.404-NOT_FOUND-model.v1beta.no-details.json", 404, "not_found_error", "not_found", "models/gemini-1.5-flash is not found", ""},
		{"error.429-RESOURCE_EXHAUSTED.quota-2025-late.json", 429, "rate_limit_error", "resource_exhausted", "Please retry in 47.88", ""},
		{"error.500-INTERNAL.json", 500, "server_error", "internal", "An internal error has occurred", ""},
		{"error.503-UNAVAILABLE-overloaded.json", 503, "server_error", "unavailable", "overloaded", ""},
		{"error.400-FAILED_PRECONDITION-user-location.json", 400, "invalid_request_error", "failed_precondition", "User location is not supported", ""},
		{"compat.error.400.INVALID_ARGUMENT.array-wrapped.json", 400, "invalid_request_error", "invalid_argument", `Unknown name "web_search_options"`, ""},
	}
	for _, tt := range tests {
		e := FromGeminiError(tt.status, golden.Read(t, "testdata/gemini/"+tt.file))
		if e.Status != tt.status || e.Type != tt.typ || e.Code != tt.code || !strings.Contains(e.Message, tt.msgHas) {
			t.Errorf("FromGeminiError(%s) = %+v, want %d %s %s containing %q", tt.file, e, tt.status, tt.typ, tt.code, tt.msgHas)
		}
	}
	key := "AIza" + strings.Repeat("x1Y_", 8) + "abc"
	e := FromGeminiError(401, []byte(`upstream said: bad key `+key+` <html>`))
	if strings.Contains(e.Message, key) || e.Type != "authentication_error" || e.Status != 401 {
		t.Errorf("FromGeminiError(text with key) = %+v, want the key masked, 401 authentication_error", e)
	}
	if e := FromGeminiError(200, nil); e.Status != 502 || e.Message == "" {
		t.Errorf("FromGeminiError(200, nil) = %+v, want a 502 with a message", e)
	}

	rec := httptest.NewRecorder()
	WriteError(rec, FromGeminiError(429, golden.Read(t, "testdata/gemini/error.429-RESOURCE_EXHAUSTED.quota-2025-late.json")))
	if rec.Code != 429 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteError: code %d content-type %q, want 429 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var out struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error.Type != "rate_limit_error" || out.Error.Param != nil || out.Error.Code == nil || *out.Error.Code != "resource_exhausted" {
		t.Errorf("WriteError body = %s (%v)", rec.Body.String(), err)
	}
}

func TestEmbeddings(t *testing.T) {
	req, err := ParseEmbeddingRequest([]byte(`{"model":"text-embedding-3-small","input":["hello","world!!"],"dimensions":3,"encoding_format":"base64","extra_body":{"google":{"task_type":"RETRIEVAL_DOCUMENT"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	model, err := ResolveModel(req.Model, map[string]string{"text-embedding-3-small": "gemini-embedding-001"})
	if err != nil {
		t.Fatal(err)
	}
	g := ToGeminiEmbeddings(req, model)
	b, _ := json.Marshal(g)
	want := `{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":3},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"world!!"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":3}]}`
	if string(b) != want {
		t.Errorf("ToGeminiEmbeddings = %s, want %s", b, want)
	}

	var resp gemini.BatchEmbedContentsResponse
	if err := json.Unmarshal(golden.Read(t, "testdata/gemini/batchEmbedContents.SHAPE.json"), &resp); err != nil {
		t.Fatal(err)
	}
	out, err := FromGeminiEmbeddings(&resp, req, "text-embedding-3-small")
	if err != nil {
		t.Fatal(err)
	}
	if out.Object != "list" || len(out.Data) != 2 || out.Usage.PromptTokens != 2+2 || out.Usage.TotalTokens != 4 {
		t.Errorf("FromGeminiEmbeddings = %+v", out)
	}
	s, ok := out.Data[1].Embedding.(string)
	if !ok {
		t.Fatalf("base64 embedding is %T, want string", out.Data[1].Embedding)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 12 {
		t.Fatalf("base64 embedding %q: %v", s, err)
	}
	for i, want := range resp.Embeddings[1].Values {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want {
			t.Errorf("decoded value %d = %v, want %v", i, got, want)
		}
	}

	req.EncodingFormat = ""
	out, _ = FromGeminiEmbeddings(&resp, req, "m")
	fb, _ := json.Marshal(out.Data[0])
	if string(fb) != `{"object":"embedding","index":0,"embedding":[0.013168523,-0.008711934,-0.046782676]}` {
		t.Errorf("float embedding = %s", fb)
	}
	resp.UsageMetadata = &gemini.UsageMetadata{PromptTokenCount: 9}
	out, _ = FromGeminiEmbeddings(&resp, req, "m")
	if out.Usage.PromptTokens != 9 {
		t.Errorf("usage with upstream metadata = %+v, want 9", out.Usage)
	}
	resp.Embeddings = resp.Embeddings[:1]
	if _, err := FromGeminiEmbeddings(&resp, req, "m"); err == nil {
		t.Error("FromGeminiEmbeddings(1 vector for 2 inputs) = nil error, want 502")
	}

	for _, bad := range []string{
		`{"model":"m","input":[[1,2,3]]}`,
		`{"model":"m","input":[1,2,3]}`,
		`{"model":"m","input":[]}`,
		`{"model":"m","input":""}`,
		`{"model":"m"}`,
		`{"input":"x"}`,
		`{"model":"m","input":"x","encoding_format":"int8"}`,
		`{"model":"m","input":"x","dimensions":0}`,
	} {
		_, err := ParseEmbeddingRequest([]byte(bad))
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.Message == "" {
			t.Errorf("ParseEmbeddingRequest(%s) = %v, want a 400 *Error", bad, err)
		}
	}
	one, err := ParseEmbeddingRequest([]byte(`{"model":"m","input":"just one"}`))
	if err != nil || len(one.Inputs) != 1 || one.Inputs[0] != "just one" {
		t.Errorf("ParseEmbeddingRequest(string input) = %+v, %v", one, err)
	}
}

func TestModels(t *testing.T) {
	var page1 gemini.ListModelsResponse
	if err := json.Unmarshal(golden.Read(t, "testdata/gemini/models.list.v1beta.page1.EXCERPT.json"), &page1); err != nil {
		t.Fatal(err)
	}
	page2 := gemini.ListModelsResponse{Models: []gemini.Model{{Name: "models/gemini-2.5-flash"}, {Name: "models/gemini-3-pro-preview"}}}
	list := FromGeminiModels(page1, page2)
	if list.Object != "list" || len(list.Data) != len(page1.Models)+1 {
		t.Fatalf("FromGeminiModels = %d models, want %d", len(list.Data), len(page1.Models)+1)
	}
	for _, m := range list.Data {
		if strings.HasPrefix(m.ID, "models/") || m.Object != "model" || m.OwnedBy != "google" {
			t.Errorf("model %+v, want id without models/, object model, owned_by google", m)
		}
	}
	if list.Data[len(list.Data)-1].ID != "gemini-3-pro-preview" {
		t.Errorf("last model = %q, want page 2's new model", list.Data[len(list.Data)-1].ID)
	}
	var one gemini.Model
	if err := json.Unmarshal(golden.Read(t, "testdata/gemini/models.get.gemini-2.5-flash.json"), &one); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(FromGeminiModel(one))
	if string(b) != `{"id":"gemini-2.5-flash","object":"model","created":0,"owned_by":"google"}` {
		t.Errorf("FromGeminiModel = %s", b)
	}
	if b, _ := json.Marshal(FromGeminiModels()); string(b) != `{"object":"list","data":[]}` {
		t.Errorf("FromGeminiModels() = %s, want an empty list", b)
	}
}

func TestContextPassedToFetch(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	var seen any
	opts := RequestOptions{FetchImage: func(ctx context.Context, _ string) (*gemini.Blob, error) {
		seen = ctx.Value(key{})
		return &gemini.Blob{MIMEType: "image/png", Data: "AQ=="}, nil
	}}
	req, _ := ParseChatRequest([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/y"}}]}]}`))
	if _, err := ToGemini(ctx, req, opts); err != nil || seen != "v" {
		t.Errorf("ToGemini: fetch saw ctx value %v (err %v), want v", seen, err)
	}
}
