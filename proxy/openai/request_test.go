package openai

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// translate runs ParseChatRequest + ToGemini on a JSON body.
func translate(t testing.TB, body string) (*Translated, error) {
	t.Helper()
	req, err := ParseChatRequest([]byte(body))
	if err != nil {
		return nil, err
	}
	return ToGemini(context.Background(), req, testRequestOptions())
}

func mustTranslate(t *testing.T, body string) *Translated {
	t.Helper()
	tr, err := translate(t, body)
	if err != nil {
		t.Fatalf("translate(%s) = %v", body, err)
	}
	return tr
}

func bodyJSON(t *testing.T, tr *Translated) string {
	t.Helper()
	b, err := json.Marshal(tr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestErrors(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	tests := []struct {
		name, body, param, msg string
	}{
		{"empty body", ``, "", "empty"},
		{"not an object", `[1]`, "", "JSON object"},
		{"bad json", `{"model":`, "", "not valid JSON"},
		{"no model", `{"messages":[` + user + `]}`, "model", "model is required"},
		{"no messages", `{"model":"gemini-2.5-flash","messages":[]}`, "messages", "non-empty"},
		{"messages wrong type", `{"model":"gemini-2.5-flash","messages":"hi"}`, "messages", "must be an array"},
		{"role wrong type", `{"model":"m","messages":[{"role":1}]}`, "messages[0].role", "must be a string"},
		{"temperature wrong type", `{"model":"m","temperature":"hot","messages":[` + user + `]}`, "temperature", "must be a number"},
		{"bad model", `{"model":"gemini-2.5-flash:streamGenerateContent?alt=sse","messages":[` + user + `]}`, "model", "not a valid Gemini model name"},
		{"path model", `{"model":"../files","messages":[` + user + `]}`, "model", "not a valid"},
		{"unknown role", `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, "messages[0].role", `"robot" is not supported`},
		{"function role", `{"model":"m","messages":[{"role":"function","content":"x","name":"f"}]}`, "messages[0].role", "deprecated"},
		{"missing role", `{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role", "required"},
		{"content number", `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content", "string or an array"},
		{"part without type", `{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type", "required"},
		{"unknown part", `{"model":"m","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}`, "messages[0].content[0].type", `"video" is not supported`},
		{"image in system", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},` + user + `]}`, "messages[0].content[0].type", "only hold text"},
		{"bad data uri", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64"}}]}]}`, "messages[0].content[0].image_url", "malformed data URI"},
		{"image fetch fails", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/missing.png"}}]}]}`, "messages[0].content[0].image_url", "could not fetch the image: HTTP 404"},
		{"ftp image", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`, "messages[0].content[0].image_url", "unsupported image URL"},
		{"audio format", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"midi"}}]}]}`, "messages[0].content[0].input_audio.format", `"midi" is not supported`},
		{"openai file id", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`, "messages[0].content[0].file.file_id", "not supported"},
		{"tool without call", `{"model":"m","messages":[` + user + `,{"role":"tool","tool_call_id":"call_x","content":"1"}]}`, "messages[1].tool_call_id", `"call_x" matches no tool call`},
		{"tool without id", `{"model":"m","messages":[` + user + `,{"role":"tool","content":"1"}]}`, "messages[1].tool_call_id", "required"},
		{"bad arguments", `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[1].tool_calls[0].function.arguments", "JSON object"},
		{"array arguments", `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[1].tool_calls[0].function.arguments", "JSON object"},
		{"only system", `{"model":"m","messages":[{"role":"system","content":"x"}]}`, "messages", "at least one user or assistant"},
		{"tool type", `{"model":"m","messages":[` + user + `],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools[0].type", `"custom" is not supported`},
		{"tool name", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"get weather"}}]}`, "tools[0].function.name", "cannot be used with Gemini"},
		{"tool params not object", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]}`, "tools[0].function.parameters", "JSON Schema object"},
		{"external ref", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"$ref":"https://example.com/a.json"}}}}}]}`, "tools[0].function.parameters", "points outside the schema"},
		{"tool_choice unknown", `{"model":"m","messages":[` + user + `],"tool_choice":"always"}`, "tool_choice", `"always" is not supported`},
		{"tool_choice undeclared", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, "tool_choice.function.name", "not in tools"},
		{"required without tools", `{"model":"m","messages":[` + user + `],"tool_choice":"required"}`, "tool_choice", "requires tools"},
		{"allowed_tools", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}}`, "tool_choice.type", "not supported"},
		{"response format", `{"model":"m","messages":[` + user + `],"response_format":{"type":"xml"}}`, "response_format.type", `"xml" is not supported`},
		{"json_schema missing", `{"model":"m","messages":[` + user + `],"response_format":{"type":"json_schema"}}`, "response_format.json_schema", "required"},
		{"json_schema false", `{"model":"m","messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":false}}}`, "response_format.json_schema.schema", "cannot be expressed"},
		{"effort unknown", `{"model":"gemini-2.5-flash","messages":[` + user + `],"reasoning_effort":"extreme"}`, "reasoning_effort", "none, minimal, low, medium or high"},
		{"effort and thinking_config", `{"model":"gemini-2.5-flash","messages":[` + user + `],"reasoning_effort":"low","extra_body":{"google":{"thinking_config":{"thinking_budget":10}}}}`, "reasoning_effort", "cannot both be set"},
		{"n zero", `{"model":"m","messages":[` + user + `],"n":0}`, "n", "at least 1"},
		{"max tokens zero", `{"model":"m","messages":[` + user + `],"max_tokens":0}`, "max_tokens", "at least 1"},
		{"stop number", `{"model":"m","messages":[` + user + `],"stop":5}`, "stop", "string or an array"},
		{"top_logprobs alone", `{"model":"m","messages":[` + user + `],"top_logprobs":2}`, "top_logprobs", "requires logprobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := translate(t, tt.body)
			if err == nil {
				t.Fatalf("translate(%s) = %+v, want an error", tt.body, tr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("translate(%s) error = %T %v, want *Error", tt.body, err, err)
			}
			if e.Status != 400 || e.Type != "invalid_request_error" {
				t.Errorf("translate(%s) = status %d type %q, want 400 invalid_request_error", tt.body, e.Status, e.Type)
			}
			if e.Param != tt.param {
				t.Errorf("translate(%s) param = %q, want %q", tt.body, e.Param, tt.param)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("translate(%s) message = %q, want it to contain %q", tt.body, e.Message, tt.msg)
			}
		})
	}
}

func TestThinkingMapping(t *testing.T) {
	tests := []struct {
		model, effort, want string
	}{
		{"gemini-2.5-flash", "none", `{"thinkingBudget":0}`},
		{"gemini-2.5-flash", "minimal", `{"includeThoughts":true,"thinkingBudget":512}`},
		{"gemini-2.5-pro", "low", `{"includeThoughts":true,"thinkingBudget":1024}`},
		{"gemini-2.5-flash-lite", "medium", `{"includeThoughts":true,"thinkingBudget":8192}`},
		{"gemini-2.5-flash", "HIGH", `{"includeThoughts":true,"thinkingBudget":24576}`},
		{"gemini-3-pro-preview", "none", `{"thinkingLevel":"MINIMAL"}`},
		{"gemini-3-flash-preview", "minimal", `{"includeThoughts":true,"thinkingLevel":"MINIMAL"}`},
		{"gemini-3.1-pro", "low", `{"includeThoughts":true,"thinkingLevel":"LOW"}`},
		{"gemini-3-flash", "medium", `{"includeThoughts":true,"thinkingLevel":"MEDIUM"}`},
		{"gemini-10-ultra", "high", `{"includeThoughts":true,"thinkingLevel":"HIGH"}`},
		{"gemini-flash-latest", "low", `{"includeThoughts":true,"thinkingBudget":1024}`},
		// No effort: thoughts asked for on families that think by default.
		{"gemini-2.5-flash", "", `{"includeThoughts":true}`},
		{"gemini-3-pro-preview", "", `{"includeThoughts":true}`},
		{"gemini-2.0-flash", "", ``},
		{"gemma-3-27b-it", "", ``},
		{"gemini-2.5-flash-image-preview", "", ``},
		{"gemini-2.5-flash-preview-tts", "", ``},
	}
	for _, tt := range tests {
		body := `{"model":"` + tt.model + `","messages":[{"role":"user","content":"x"}]`
		if tt.effort != "" {
			body += `,"reasoning_effort":"` + tt.effort + `"`
		}
		tr := mustTranslate(t, body+"}")
		got := ""
		if gc := tr.Body.GenerationConfig; gc != nil && gc.ThinkingConfig != nil {
			b, _ := json.Marshal(gc.ThinkingConfig)
			got = string(b)
		}
		if got != tt.want {
			t.Errorf("thinkingConfig(%s, %q) = %s, want %s", tt.model, tt.effort, got, tt.want)
		}
	}
}

func TestThinkingConfigPassThrough(t *testing.T) {
	tests := []struct{ google, want string }{
		{`{"thinking_config":{"thinking_budget":2048}}`, `{"includeThoughts":true,"thinkingBudget":2048}`},
		{`{"thinking_config":{"thinking_budget":-1,"include_thoughts":false}}`, `{"thinkingBudget":-1}`},
		{`{"thinking_config":{"thinkingBudget":0}}`, `{"thinkingBudget":0}`},
		{`{"thinking_config":{"thinking_level":"high"}}`, `{"includeThoughts":true,"thinkingLevel":"HIGH"}`},
	}
	for _, tt := range tests {
		for _, wrap := range []string{`"google":%s`, `"extra_body":{"google":%s}`} {
			body := `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],` + strings.Replace(wrap, "%s", tt.google, 1) + `}`
			tr := mustTranslate(t, body)
			b, _ := json.Marshal(tr.Body.GenerationConfig.ThinkingConfig)
			if string(b) != tt.want {
				t.Errorf("thinkingConfig(%s) = %s, want %s", body, b, tt.want)
			}
		}
	}
}

func TestModelAliases(t *testing.T) {
	tests := []struct{ in, want string }{
		{"gpt-4o-mini", "gemini-2.5-flash"},
		{"models/gpt-4o-mini", "gemini-2.5-flash"},
		{"gemini-2.0-flash", "gemini-2.0-flash"},
		{"models/gemini-2.0-flash", "gemini-2.0-flash"},
		{"gpt-4o", "gpt-4o"}, // no silent substitution
	}
	for _, tt := range tests {
		got, err := ResolveModel(tt.in, testAliases)
		if err != nil || got != tt.want {
			t.Errorf("ResolveModel(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestImageURLs(t *testing.T) {
	body := `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[
		{"type":"image_url","image_url":{"url":"https://example.com/typed.jpg"}},
		{"type":"image_url","image_url":{"url":"data:text/plain,hello%20world"}}]}]}`
	tr := mustTranslate(t, body)
	parts := tr.Body.Contents[0].Parts
	if got := parts[0].InlineData; got == nil || got.MIMEType != "image/jpeg" || got.Data != "/9j/" {
		t.Errorf("fetched image part = %+v, want image/jpeg /9j/", got)
	}
	if got := parts[1].InlineData; got == nil || got.MIMEType != "text/plain" || got.Data != "aGVsbG8gd29ybGQ=" {
		t.Errorf("percent-encoded data URI part = %+v, want text/plain aGVsbG8gd29ybGQ=", got)
	}

	req, err := ParseChatRequest([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ToGemini(context.Background(), req, RequestOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "data URI") {
		t.Errorf("ToGemini(image URL, no fetcher) = %v, want a 400 asking for a data URI", err)
	}
}

func TestToolOutputs(t *testing.T) {
	prefix := `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":`
	tests := []struct{ content, want string }{
		{`"{\"a\": [1, 2]}"`, `{"a": [1, 2]}`},
		{`"  {\"a\":1}\n"`, `{"a":1}`},
		{`"plain text"`, `{"output":"plain text"}`},
		{`"42"`, `{"output":"42"}`},
		{`"{broken"`, `{"output":"{broken"}`},
		{`""`, `{"output":""}`},
		{`null`, `{"output":""}`},
		{`"<b>&</b>"`, `{"output":"\u003cb\u003e\u0026\u003c/b\u003e"}`},
	}
	for _, tt := range tests {
		tr := mustTranslate(t, prefix+tt.content+`}]}`)
		got := string(tr.Body.Contents[2].Parts[0].FunctionResponse.Response)
		if got != tt.want {
			t.Errorf("tool content %s → response %s, want %s", tt.content, got, tt.want)
		}
	}
}

func TestSchemaKeepsKeyOrder(t *testing.T) {
	in := `{"$schema":"x","type":"object","properties":{"zeta":{"type":"string"},"alpha":{"const":1},"mid":{"type":"number"}},"required":["zeta"]}`
	got, err := CleanSchema(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"enum":[1]},"mid":{"type":"number"}},"required":["zeta"]}`
	if string(got) != want {
		t.Errorf("CleanSchema(%s) = %s, want %s", in, got, want)
	}
	// Untouched schemas pass through byte for byte.
	plain := `{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}`
	got, err = CleanSchema(json.RawMessage(plain))
	if err != nil || string(got) != plain {
		t.Errorf("CleanSchema(%s) = %s, %v, want it unchanged", plain, got, err)
	}
	// Unicode and escapes survive the rewrite.
	uni := `{"$comment":"c","description":"naïve \"quote\" <tag> \u0001 😀","type":"string"}`
	got, err = CleanSchema(json.RawMessage(uni))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil || v["description"] != "naïve \"quote\" <tag> \u0001 😀" {
		t.Errorf("CleanSchema(%s) = %s, want the description intact", uni, got)
	}
}

func TestSchemaRewrites(t *testing.T) {
	tests := []struct{ in, want string }{
		// definitions → $defs, with the refs following.
		{`{"definitions":{"A":{"type":"string"}},"properties":{"a":{"$ref":"#/definitions/A"}}}`,
			`{"$defs":{"A":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/A"}}}`},
		// single allOf merged; a $ref alone needs no wrapping.
		{`{"properties":{"a":{"allOf":[{"$ref":"#/$defs/A"}]}},"$defs":{"A":{"type":"string"}}}`,
			`{"properties":{"a":{"$ref":"#/$defs/A"}},"$defs":{"A":{"type":"string"}}}`},
		// allOf with two members stays (Gemini decides).
		{`{"allOf":[{"type":"object"},{"required":["a"]}]}`, `{"allOf":[{"type":"object"},{"required":["a"]}]}`},
		// const next to an enum is kept as is.
		{`{"const":"a","enum":["a","b"]}`, `{"const":"a","enum":["a","b"]}`},
		// items as an array of schemas (draft-04 tuples), nested removal.
		{`{"items":[{"type":"string","examples":["x"]}],"readOnly":true}`, `{"items":[{"type":"string"}]}`},
		// a property named like a keyword is a name, not a keyword.
		{`{"properties":{"$schema":{"type":"string"},"const":{"type":"string"}}}`,
			`{"properties":{"$schema":{"type":"string"},"const":{"type":"string"}}}`},
	}
	for _, tt := range tests {
		got, err := CleanSchema(json.RawMessage(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("CleanSchema(%s) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestStreamFlags(t *testing.T) {
	tests := []struct {
		extra                string
		stream, includeUsage bool
	}{
		{``, false, false},
		{`,"stream":true`, true, false},
		{`,"stream":true,"stream_options":{"include_usage":true}`, true, true},
		{`,"stream":false,"stream_options":{"include_usage":true}`, false, false},
	}
	for _, tt := range tests {
		tr := mustTranslate(t, `{"model":"m","messages":[{"role":"user","content":"x"}]`+tt.extra+`}`)
		if tr.Stream != tt.stream || tr.IncludeUsage != tt.includeUsage {
			t.Errorf("translate(%s) = stream %v usage %v, want %v %v", tt.extra, tr.Stream, tr.IncludeUsage, tt.stream, tt.includeUsage)
		}
	}
}

func TestPenaltiesZeroOmitted(t *testing.T) {
	tr := mustTranslate(t, `{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"x"}],"presence_penalty":0,"frequency_penalty":0,"temperature":0}`)
	got := bodyJSON(t, tr)
	if strings.Contains(got, "Penalty") || !strings.Contains(got, `"temperature":0`) {
		t.Errorf("translate(zero penalties, temperature 0) body = %s, want no penalties and temperature 0", got)
	}
}
