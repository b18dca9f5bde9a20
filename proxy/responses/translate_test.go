package responses

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
	"github.com/gemini-balance/desktop/proxy/openai"
)

func mustToGemini(t *testing.T, body string, opts RequestOptions) *Translated {
	t.Helper()
	req, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	tr, err := ToGemini(context.Background(), req, opts)
	if err != nil {
		t.Fatalf("ToGemini: %v", err)
	}
	return tr
}

// completedOutput runs a whole SSE capture through a StreamTranslator and
// returns the output items of response.completed as JSON, as a client that
// replays them (Codex) sends them back.
func completedOutput(t *testing.T, meta ResponseMeta, capture []byte) []json.RawMessage {
	t.Helper()
	st := NewStreamTranslator(meta)
	var last Event
	for _, c := range sseData(capture) {
		evs, err := st.Translate(c)
		if err != nil {
			t.Fatal(err)
		}
		_ = evs
	}
	evs := st.Finish()
	last = evs[len(evs)-1]
	if last.Type != "response.completed" {
		t.Fatalf("last event %s, want response.completed", last.Type)
	}
	var r struct {
		Response struct {
			Output []json.RawMessage `json:"output"`
		} `json:"response"`
	}
	if err := json.Unmarshal(last.AppendJSON(nil), &r); err != nil {
		t.Fatal(err)
	}
	return r.Response.Output
}

func firstCall(body *gemini.GenerateContentRequest) *gemini.Part {
	for i := range body.Contents {
		for j := range body.Contents[i].Parts {
			if body.Contents[i].Parts[j].FunctionCall != nil {
				return &body.Contents[i].Parts[j]
			}
		}
	}
	return nil
}

// The thought signature Gemini put on a function call comes back onto that
// call when the client replays the output items (reasoning with
// encrypted_content, then the call) with the call's output: byte for byte,
// and with the namespace restored on the way out and flattened again.
func TestSignatureRoundTrip(t *testing.T) {
	capture := golden.Read(t, "testdata/gemini/fb.streaming-success-thinking-function-call-thought-summary-signature.txt")
	var wantSig string
	for _, c := range sseData(capture) {
		var ev gemini.GenerateContentResponse
		_ = json.Unmarshal(c, &ev)
		for _, cand := range ev.Candidates {
			if cand.Content != nil {
				for _, p := range cand.Content.Parts {
					if p.FunctionCall != nil && p.ThoughtSignature != "" {
						wantSig = p.ThoughtSignature
					}
				}
			}
		}
	}
	if wantSig == "" {
		t.Fatal("fixture has no signed function call")
	}
	first := mustToGemini(t, `{"model":"gemini-2.5-flash","input":"days until new year?","tools":[{"type":"namespace","name":"clock","description":"","tools":[{"type":"function","name":"now","parameters":{"type":"object","properties":{}}}]}],"reasoning":{"summary":"auto"}}`, testOptions())
	if first.Body.Tools[0].FunctionDeclarations[0].Name != "clock__now" {
		t.Fatalf("declared %q, want clock__now", first.Body.Tools[0].FunctionDeclarations[0].Name)
	}
	// The fixture's call is named "now"; answer as if Gemini had used the
	// flattened name the proxy declared.
	capture = []byte(strings.ReplaceAll(string(capture), `"name": "now"`, `"name": "clock__now"`))
	meta := first.Meta
	meta.NewID = golden.IDs()
	out := completedOutput(t, meta, capture)

	var call struct {
		Type, CallID, Name, Namespace string
	}
	var sawReasoning bool
	for _, raw := range out {
		var it map[string]any
		_ = json.Unmarshal(raw, &it)
		switch it["type"] {
		case "reasoning":
			sawReasoning = it["encrypted_content"] != nil
		case "function_call":
			call.CallID, call.Name, _ = it["call_id"].(string), it["name"].(string), 0
			call.Namespace, _ = it["namespace"].(string)
		}
	}
	if !sawReasoning || call.Name != "now" || call.Namespace != "clock" || call.CallID == "" {
		t.Fatalf("output = %s, want a reasoning item with encrypted_content and function_call now in namespace clock", out)
	}
	input := []json.RawMessage{json.RawMessage(`{"role":"user","content":"days until new year?"}`)}
	input = append(input, out...)
	input = append(input, json.RawMessage(`{"type":"function_call_output","call_id":"`+call.CallID+`","output":"2026-12-06"}`))
	in, _ := json.Marshal(input)
	second := mustToGemini(t, `{"model":"gemini-2.5-flash","store":false,"input":`+string(in)+`,"tools":[{"type":"namespace","name":"clock","description":"","tools":[{"type":"function","name":"now"}]}]}`, testOptions())
	p := firstCall(second.Body)
	if p == nil || p.FunctionCall.Name != "clock__now" {
		t.Fatalf("replayed call = %+v, want clock__now", p)
	}
	if p.ThoughtSignature != wantSig {
		t.Errorf("replayed signature = %.40q…, want the one Gemini sent (%.40q…)", p.ThoughtSignature, wantSig)
	}
	resp := second.Body.Contents[len(second.Body.Contents)-1].Parts[0].FunctionResponse
	if resp == nil || resp.Name != "clock__now" || string(resp.Response) != `{"output":"2026-12-06"}` {
		t.Errorf("function response = %+v", resp)
	}
}

// A client that drops reasoning items (most SDK loops keep only calls and
// outputs) still gets the signature back, from the server's cache by call
// id; a call nobody knows gets Google's placeholder.
func TestSignatureCacheFallback(t *testing.T) {
	cache := openai.NewSignatureCache(openai.SignatureCacheOptions{})
	meta := ResponseMeta{NewID: golden.IDs(), Signatures: cache}
	resp := FromGemini(&gemini.GenerateContentResponse{Candidates: []gemini.Candidate{{Content: &gemini.Content{Role: "model", Parts: []gemini.Part{
		{FunctionCall: &gemini.FunctionCall{Name: "lookup", Args: json.RawMessage(`{"q":"x"}`)}, ThoughtSignature: "c2lnLTE="},
	}}, FinishReason: "STOP"}}}, meta)
	var callID string
	for _, it := range resp.Output {
		if it.Type == "function_call" {
			callID = it.CallID
		}
	}
	body := `{"model":"gemini-3-flash-preview","input":[{"role":"user","content":"q"},{"type":"function_call","call_id":"` + callID + `","name":"lookup","arguments":"{\"q\":\"x\"}"},{"type":"function_call_output","call_id":"` + callID + `","output":"r"}]}`
	tr := mustToGemini(t, body, RequestOptions{Signatures: cache})
	if got := firstCall(tr.Body).ThoughtSignature; got != "c2lnLTE=" {
		t.Errorf("signature from cache = %q, want c2lnLTE=", got)
	}
	tr = mustToGemini(t, body, RequestOptions{})
	if got := firstCall(tr.Body).ThoughtSignature; got != gemini.SkipThoughtSignature {
		t.Errorf("signature without cache = %q, want the placeholder", got)
	}
}

// Gemini's calls come back as the item kinds the client declared: a
// namespaced function with name and namespace apart, a custom tool as a
// custom_tool_call whose input is the free text, tool_search as a
// tool_search_call — for the real Codex request shapes.
func TestCallsRestoredForCodexTools(t *testing.T) {
	astra := mustToGemini(t, string(golden.Read(t, "testdata/codex/request.gpt-6-astra.json")), testOptions())
	gpt55 := mustToGemini(t, string(golden.Read(t, "testdata/codex/request.gpt-5.5.json")), testOptions())
	cases := []struct {
		meta ResponseMeta
		call gemini.FunctionCall
		want string
	}{
		{astra.Meta, gemini.FunctionCall{Name: "functions__exec", Args: json.RawMessage(`{"input":"text(\"hi\")\n"}`)},
			`{"id":"ctc_id0003","type":"custom_tool_call","status":"completed","call_id":"call_id0002","name":"exec","namespace":"functions","input":"text(\"hi\")\n"}`},
		{astra.Meta, gemini.FunctionCall{Name: "collaboration__spawn_agent", Args: json.RawMessage(`{"message": "go"}`)},
			`{"id":"fc_id0003","type":"function_call","status":"completed","call_id":"call_id0002","name":"spawn_agent","namespace":"collaboration","arguments":"{\"message\":\"go\"}"}`},
		{gpt55.Meta, gemini.FunctionCall{Name: "apply_patch", Args: json.RawMessage(`{"input":"*** Begin Patch\n*** End Patch\n"}`)},
			`{"id":"ctc_id0003","type":"custom_tool_call","status":"completed","call_id":"call_id0002","name":"apply_patch","input":"*** Begin Patch\n*** End Patch\n"}`},
		{gpt55.Meta, gemini.FunctionCall{Name: "tool_search", Args: json.RawMessage(`{"query":"calendar","limit":3}`)},
			`{"id":"ts_id0003","type":"tool_search_call","status":"completed","call_id":"call_id0002","execution":"client","arguments":{"query":"calendar","limit":3}}`},
		{gpt55.Meta, gemini.FunctionCall{Name: "exec_command", ID: "g-1", Args: json.RawMessage(`{"cmd":"ls"}`)},
			`{"id":"fc_id0002","type":"function_call","status":"completed","call_id":"g-1","name":"exec_command","arguments":"{\"cmd\":\"ls\"}"}`},
	}
	for _, c := range cases {
		m := c.meta
		m.NewID = golden.IDs()
		fc := c.call
		resp := FromGemini(&gemini.GenerateContentResponse{Candidates: []gemini.Candidate{{Content: &gemini.Content{Parts: []gemini.Part{{FunctionCall: &fc}}}, FinishReason: "STOP"}}}, m)
		if len(resp.Output) != 1 {
			t.Fatalf("%s: %d items", fc.Name, len(resp.Output))
		}
		if got := string(resp.Output[0].AppendJSON(nil)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", fc.Name, got, c.want)
		}
	}
	if len(astra.Notes) != 0 {
		t.Errorf("gpt-6-astra notes = %q, want none", astra.Notes)
	}
	g3 := mustToGemini(t, `{"model":"gemini-3-flash-preview","input":"x","tools":[{"type":"function","name":"f"},{"type":"web_search","external_web_access":false}]}`, testOptions())
	if n := len(g3.Body.Tools); n != 2 || g3.Body.Tools[1].GoogleSearch == nil || g3.Body.ToolConfig == nil || !g3.Body.ToolConfig.IncludeServerSideToolInvocations {
		t.Errorf("Gemini 3 with web_search and a function: tools %d, toolConfig %+v; want functions + googleSearch combined", n, g3.Body.ToolConfig)
	}
	if len(gpt55.Notes) != 1 || !strings.Contains(gpt55.Notes[0], "web_search was left out") {
		t.Errorf("gpt-5.5 (→ Gemini 2.5) notes = %q, want web_search left out", gpt55.Notes)
	}
}

func TestRequestErrors(t *testing.T) {
	cases := []struct{ body, param, msg string }{
		{``, "", "empty"},
		{`[1]`, "", "JSON object"},
		{`{"input":"x"}`, "model", "model is required"},
		{`{"model":"gemini-2.5-flash"}`, "input", "input is required"},
		{`{"model":"gemini-2.5-flash","input":5}`, "input", "string or an array"},
		{`{"model":"bad/model","input":"x"}`, "model", "not a valid Gemini model name"},
		{`{"model":"gemini-2.5-flash","input":[{"type":"function_call_output","call_id":"c9","output":"x"}]}`, "input[0].call_id", "matches no call"},
		{`{"model":"gemini-2.5-flash","input":[{"type":"mystery"}]}`, "input[0].type", `"mystery" is not supported`},
		{`{"model":"gemini-2.5-flash","input":[{"role":"wizard","content":"x"}]}`, "input[0].role", "wizard"},
		{`{"model":"gemini-2.5-flash","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"data:image/png;base64,AA=="}]}]}`, "input[0].content[0].type", "only hold text"},
		{`{"model":"gemini-2.5-flash","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]}`, "input[0].arguments", "JSON object"},
		{`{"model":"gemini-2.5-flash","input":[{"type":"item_reference","id":"msg_1"}]}`, "input[0].type", "item_reference"},
		{`{"model":"gemini-2.5-flash","input":"x","tools":[{"type":"function"}]}`, "tools[0].name", "name is required"},
		{`{"model":"gemini-2.5-flash","input":"x","tools":[{"type":"namespace","name":"n","tools":[{"type":"namespace","name":"m"}]}]}`, "tools[0].tools[0].type", "cannot be in a namespace"},
		{`{"model":"gemini-2.5-flash","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}`, "tool_choice.name", "not in tools"},
		{`{"model":"gemini-2.5-flash","input":"x","reasoning":{"effort":"huge"}}`, "reasoning.effort", `"huge" is not supported`},
		{`{"model":"gemini-2.5-flash","input":"x","text":{"format":{"type":"yaml"}}}`, "text.format.type", "yaml"},
		{`{"model":"gemini-2.5-flash","input":"x","max_output_tokens":0}`, "max_output_tokens", "at least 1"},
		{`{"model":"gemini-2.5-flash","input":"x","background":true}`, "background", "background"},
		{`{"model":"gemini-2.5-flash","input":"x","previous_response_id":"resp_nope"}`, "previous_response_id", "not found"},
		{`{"model":"gemini-2.5-flash","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://example.com/missing.png"}]}]}`, "input[0].content[0].image_url", "404"},
		{`{"model":"gemini-2.5-flash","input":[{"role":"system","content":"only a system prompt"}]}`, "input", "at least one user or assistant"},
		{`{"model":"gemini-2.5-flash","input":"x","tools":[{"type":"function","name":"f","parameters":{"$ref":"http://x/y"}}]}`, "tools[0].parameters", ""},
	}
	for _, c := range cases {
		req, err := ParseRequest([]byte(c.body))
		if err == nil {
			_, err = ToGemini(context.Background(), req, testOptions())
		}
		var e *openai.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want an *openai.Error", c.body, err)
			continue
		}
		if e.Status != http.StatusBadRequest || e.Param != c.param || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: got %d %q %q, want 400 %q containing %q", c.body, e.Status, e.Param, e.Message, c.param, c.msg)
		}
	}
}

// Accepted fields that have no Gemini counterpart (what Codex sends) are
// not refused.
func TestCodexFieldsAccepted(t *testing.T) {
	tr := mustToGemini(t, `{"model":"gemini-2.5-flash","input":"x","store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"k","client_metadata":{"a":"b"},"text":{"verbosity":"low"},"reasoning":{"effort":"medium","summary":"none","context":"all_turns"},"parallel_tool_calls":false,"service_tier":"auto","truncation":"auto","stream_options":{"include_obfuscation":false}}`, testOptions())
	if tr.Store {
		t.Error("store false not honoured")
	}
	tc := tr.Body.GenerationConfig.ThinkingConfig
	if tc == nil || tc.IncludeThoughts || tc.ThinkingBudget == nil || *tc.ThinkingBudget != 8192 {
		t.Errorf("thinkingConfig = %+v, want budget 8192 without thoughts (summary none)", tc)
	}
}

func TestStorePreviousResponse(t *testing.T) {
	now := time.Unix(1700000000, 0)
	store := NewStore(StoreOptions{MaxEntries: 2, MaxBytes: 1 << 20, TTL: time.Minute, Now: func() time.Time { return now }})
	opts := RequestOptions{Store: store}
	tr := mustToGemini(t, `{"model":"gemini-2.5-flash","input":"What is 2+2?","tools":[{"type":"function","name":"calc"}]}`, opts)
	resp := FromGemini(&gemini.GenerateContentResponse{Candidates: []gemini.Candidate{{Content: &gemini.Content{Parts: []gemini.Part{
		{Text: "Let me compute."}, {FunctionCall: &gemini.FunctionCall{Name: "calc", Args: json.RawMessage(`{"e":"2+2"}`)}, ThoughtSignature: "c2ln"},
	}}, FinishReason: "STOP"}}}, tr.Meta)
	store.Put(resp.ID, tr.History, resp.Output)
	var callID string
	for _, it := range resp.Output {
		if it.Type == "function_call" {
			callID = it.CallID
		}
	}
	next := mustToGemini(t, `{"model":"gemini-2.5-flash","previous_response_id":"`+resp.ID+`","input":[{"type":"function_call_output","call_id":"`+callID+`","output":"4"}],"tools":[{"type":"function","name":"calc"}]}`, opts)
	c := next.Body.Contents
	if len(c) != 3 || c[0].Parts[0].Text != "What is 2+2?" || c[1].Parts[0].Text != "Let me compute." ||
		c[1].Parts[1].ThoughtSignature != "c2ln" || c[2].Parts[0].FunctionResponse == nil {
		b, _ := json.Marshal(c)
		t.Fatalf("continued conversation = %s", b)
	}
	// Count bound: two more responses push the first out.
	store.Put("resp_b", nil, nil)
	store.Put("resp_c", nil, nil)
	if _, ok := store.Get(resp.ID); ok || store.Len() != 2 {
		t.Errorf("after 3 puts with MaxEntries 2: first still there or Len %d", store.Len())
	}
	// Age bound.
	now = now.Add(2 * time.Minute)
	if _, ok := store.Get("resp_c"); ok {
		t.Error("entry older than the TTL was returned")
	}
	// Byte bound: an entry larger than the bound is not kept, and the
	// accounted bytes never exceed it.
	small := NewStore(StoreOptions{MaxBytes: 2048})
	big := json.RawMessage(`"` + strings.Repeat("x", 4096) + `"`)
	small.Put("resp_big", []json.RawMessage{big}, nil)
	if small.Len() != 0 {
		t.Error("an entry larger than MaxBytes was stored")
	}
	for i := 0; i < 20; i++ {
		small.Put(string(rune('a'+i)), []json.RawMessage{json.RawMessage(`"` + strings.Repeat("y", 500) + `"`)}, nil)
		if small.Bytes() > 2048 {
			t.Fatalf("store holds %d bytes, bound 2048", small.Bytes())
		}
	}
}

// A stream that breaks after its first event ends with response.failed
// carrying the error and the output so far; nothing follows it.
func TestFailEndsStream(t *testing.T) {
	st := NewStreamTranslator(ResponseMeta{NewID: golden.IDs()})
	evs, err := st.Translate([]byte(`{"candidates":[{"content":{"parts":[{"text":"partial "}]}}]}`))
	if err != nil || len(evs) == 0 {
		t.Fatal(err)
	}
	evs = st.Fail(&openai.Error{Status: 429, Message: "quota"})
	if len(evs) != 1 || evs[0].Type != "response.failed" {
		t.Fatalf("Fail events = %+v", evs)
	}
	got := string(evs[0].AppendJSON(nil))
	for _, want := range []string{`"status":"failed"`, `"error":{"code":"rate_limit_exceeded","message":"quota"}`, `"sequence_number":5`, `"content":[{"type":"output_text","text":"partial "`} {
		if !strings.Contains(got, want) {
			t.Errorf("response.failed = %s, missing %s", got, want)
		}
	}
	if more := st.Finish(); len(more) != 0 {
		t.Errorf("Finish after Fail sent %d events", len(more))
	}
	// An error object inside the stream is reported as an *openai.Error.
	st = NewStreamTranslator(ResponseMeta{})
	st.Translate(golden.Read(t, "testdata/gemini/generateContent.text.gemini-2.0-flash.json")[:0:0])
	var e *openai.Error
	if _, err = st.Translate([]byte(`{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`)); !errors.As(err, &e) || e.Status != 503 {
		t.Errorf("in-stream error = %v, want a 503 *openai.Error", err)
	}
}

func TestSignatureEnvelope(t *testing.T) {
	for _, id := range []string{"call_1", "fc.with.dots", "ünïcode id"} {
		s := EncodeSignature(id, "CiIB+/=")
		gotID, sig, ok := DecodeSignature(s)
		if !ok || gotID != id || sig != "CiIB+/=" {
			t.Errorf("DecodeSignature(EncodeSignature(%q)) = %q %q %v", id, gotID, sig, ok)
		}
	}
	for _, s := range []string{"", "gAAAAABnotours", "gbd1.", "gbd1.!!.x", "gbd1.Y2FsbF8x."} {
		if _, _, ok := DecodeSignature(s); ok {
			t.Errorf("DecodeSignature(%q) accepted", s)
		}
	}
}
