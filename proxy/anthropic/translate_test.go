package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// accumulate rebuilds the answer's content blocks from a translated stream,
// as the SDKs do.
func accumulate(t *testing.T, stream []byte) []ContentBlock {
	t.Helper()
	var blocks []ContentBlock
	for _, d := range sseData(stream) {
		var ev struct {
			Type         string          `json:"type"`
			Index        int             `json:"index"`
			ContentBlock json.RawMessage `json:"content_block"`
			Delta        struct {
				Type        string `json:"type"`
				Text        string `json:"text"`
				Thinking    string `json:"thinking"`
				Signature   string `json:"signature"`
				PartialJSON string `json:"partial_json"`
			} `json:"delta"`
		}
		if err := json.Unmarshal(d, &ev); err != nil {
			t.Fatalf("event %s: %v", d, err)
		}
		switch ev.Type {
		case "content_block_start":
			if ev.Index != len(blocks) {
				t.Fatalf("block %d started at index %d", len(blocks), ev.Index)
			}
			var b ContentBlock
			if err := json.Unmarshal(ev.ContentBlock, &b); err != nil {
				t.Fatal(err)
			}
			b.Input = nil
			blocks = append(blocks, b)
		case "content_block_delta":
			b := &blocks[ev.Index]
			switch ev.Delta.Type {
			case "text_delta":
				s := *b.Text + ev.Delta.Text
				b.Text = &s
			case "thinking_delta":
				s := *b.Thinking + ev.Delta.Thinking
				b.Thinking = &s
			case "signature_delta":
				s := *b.Signature + ev.Delta.Signature
				b.Signature = &s
			case "input_json_delta":
				b.Input = append(b.Input, ev.Delta.PartialJSON...)
			}
		}
	}
	return blocks
}

// replay sends blocks back as an assistant turn and returns the Gemini
// parts ToGemini makes of it.
func replay(t *testing.T, blocks []ContentBlock) []gemini.Part {
	t.Helper()
	content, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	req := &MessagesRequest{Model: "gemini-3-pro-preview", MaxTokens: new(int), Messages: []Message{
		{Role: "user", Content: json.RawMessage(`"Hi"`)},
		{Role: "assistant", Content: content},
	}}
	*req.MaxTokens = 100
	tr, err := ToGemini(context.Background(), req, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Body.Contents[len(tr.Body.Contents)-1].Parts
}

// shape summarises Gemini parts for the round-trip comparison: thought
// text, answer text and function calls each concatenated in order, and the
// list of (kind of part, signature) of the signed parts.
func shape(parts []gemini.Part) string {
	var thought, text, calls, sigs strings.Builder
	for _, p := range parts {
		kind := "text"
		switch {
		case p.Thought:
			kind = "thought"
			thought.WriteString(p.Text)
		case p.FunctionCall != nil:
			kind = "call"
			var args bytes.Buffer
			json.Compact(&args, argsOf(p.FunctionCall.Args))
			calls.WriteString(p.FunctionCall.Name + args.String() + ";")
		default:
			text.WriteString(p.Text)
		}
		if p.ThoughtSignature != "" && p.ThoughtSignature != gemini.SkipThoughtSignature {
			sigs.WriteString(kind + "=" + p.ThoughtSignature + ";")
		}
	}
	return "thought: " + thought.String() + "\ntext: " + text.String() + "\ncalls: " + calls.String() + "\nsignatures: " + sigs.String()
}

// signedText is a Gemini 3 style answer: the text's signature comes on an
// empty part in the last chunk (synthesized from the basic capture).
func signedText(t *testing.T) []byte {
	raw := golden.Read(t, "testdata/gemini/streamGenerateContent.basic.sse.txt")
	events := sseData(raw)
	last := events[len(events)-1]
	last = bytes.Replace(last, []byte(`"parts": [`), []byte(`"parts": [{"text": "", "thoughtSignature": "c2lnbmVkLXRleHQ="},`), 1)
	if bytes.Equal(last, events[len(events)-1]) {
		t.Fatal("capture changed")
	}
	var out []byte
	for _, e := range append(events[:len(events)-1], last) {
		out = append(out, "data: "...)
		out = append(out, e...)
		out = append(out, "\n\n"...)
	}
	return out
}

// TestSignatureRoundTrip: what FromGemini and the stream translator make of
// a signed Gemini answer, replayed as an assistant turn, gives Gemini back
// the same thoughts, text, calls and signatures on the same kinds of part.
func TestSignatureRoundTrip(t *testing.T) {
	for _, name := range []string{"generateContent.thinking+functionCall.gemini-2.5-pro.json", "generateContent.thinking-reply.json", "generateContent.functionCall.gemini-2.0-flash.recorded.json"} {
		t.Run(name, func(t *testing.T) {
			var resp gemini.GenerateContentResponse
			if err := json.Unmarshal(golden.Read(t, filepath.Join("testdata/gemini", name)), &resp); err != nil {
				t.Fatal(err)
			}
			orig := resp.Candidates[0].Content.Parts
			got := replay(t, FromGemini(&resp, testMeta()).Content)
			if s, want := shape(got), shape(orig); s != want {
				t.Errorf("replayed:\n%s\nwant:\n%s", s, want)
			}
		})
	}
	streams := map[string][]byte{"signed text (synthesized)": signedText(t)}
	for _, name := range []string{"streamGenerateContent.thinking+functionCall.sse.txt", "streamGenerateContent.thinking-reply.sse.txt"} {
		streams[name] = golden.Read(t, filepath.Join("testdata/gemini", name))
	}
	for name, raw := range streams {
		t.Run(name, func(t *testing.T) {
			var orig []gemini.Part
			for _, d := range sseData(raw) {
				var r gemini.GenerateContentResponse
				if err := json.Unmarshal(d, &r); err != nil {
					t.Fatal(err)
				}
				if len(r.Candidates) > 0 && r.Candidates[0].Content != nil {
					orig = append(orig, r.Candidates[0].Content.Parts...)
				}
			}
			got := replay(t, accumulate(t, streamOf(t, raw, testMeta())))
			if s, want := shape(got), shape(orig); s != want {
				t.Errorf("replayed:\n%s\nwant:\n%s", s, want)
			}
		})
	}
}

// TestSignatureCache: a tool_use replayed without its thinking block gets
// the signature recorded when it was answered; without one, the first call
// of the turn gets Google's placeholder.
func TestSignatureCache(t *testing.T) {
	sigs := mapSigs{}
	var resp gemini.GenerateContentResponse
	json.Unmarshal(golden.Read(t, "testdata/gemini/generateContent.thinking+functionCall.gemini-2.5-pro.json"), &resp)
	meta := testMeta()
	meta.Signatures = sigs
	out := FromGemini(&resp, meta)
	var use ContentBlock
	for _, b := range out.Content {
		if b.Type == "tool_use" {
			use = b
		}
	}
	want := resp.Candidates[0].Content.Parts[1].ThoughtSignature
	if sigs[use.ID] != want {
		t.Fatalf("recorded %q for %s", sigs[use.ID], use.ID)
	}
	content, _ := json.Marshal([]ContentBlock{use})
	req := &MessagesRequest{Model: "gemini-2.5-pro", Messages: []Message{{Role: "assistant", Content: content}}}
	for _, c := range []struct {
		sigs Signatures
		want string
	}{{sigs, want}, {nil, gemini.SkipThoughtSignature}} {
		_, body, err := ToCountTokens(context.Background(), req, Options{Signatures: c.sigs})
		if err != nil {
			t.Fatal(err)
		}
		if got := body.GenerateContentRequest.Contents[0].Parts[0].ThoughtSignature; got != c.want {
			t.Errorf("signature = %.20q…, want %.20q…", got, c.want)
		}
	}
}

type mapSigs map[string]string

func (m mapSigs) Remember(id, sig string) { m[id] = sig }
func (m mapSigs) Lookup(id string) (string, bool) {
	s, ok := m[id]
	return s, ok
}

func TestThinkingConfig(t *testing.T) {
	budget := func(n int) *int { return &n }
	for _, c := range []struct {
		model, thinking, effort string
		want                    gemini.ThinkingConfig
		none                    bool
	}{
		{model: "gemini-2.5-flash", none: true},
		{model: "gemini-2.5-flash", thinking: `{"type":"enabled","budget_tokens":50000}`, want: gemini.ThinkingConfig{IncludeThoughts: true, ThinkingBudget: budget(32768)}},
		{model: "gemini-3-pro-preview", thinking: `{"type":"enabled","budget_tokens":1024}`, want: gemini.ThinkingConfig{IncludeThoughts: true, ThinkingLevel: "LOW"}},
		{model: "gemini-3-pro-preview", thinking: `{"type":"enabled","budget_tokens":32000}`, want: gemini.ThinkingConfig{IncludeThoughts: true, ThinkingLevel: "HIGH"}},
		{model: "gemini-2.5-pro", thinking: `{"type":"adaptive","display":"omitted"}`, effort: "high", want: gemini.ThinkingConfig{ThinkingBudget: budget(24576)}},
		{model: "gemini-2.5-pro", thinking: `{"type":"adaptive"}`, want: gemini.ThinkingConfig{IncludeThoughts: true, ThinkingBudget: budget(-1)}},
		{model: "gemini-3-flash-preview", thinking: `{"type":"adaptive"}`, want: gemini.ThinkingConfig{IncludeThoughts: true}},
		{model: "gemini-3-flash-preview", effort: "low", want: gemini.ThinkingConfig{ThinkingLevel: "LOW"}},
		{model: "gemini-3-flash-preview", thinking: `{"type":"adaptive"}`, effort: "max", want: gemini.ThinkingConfig{IncludeThoughts: true, ThinkingLevel: "HIGH"}},
		{model: "gemini-2.5-flash", thinking: `{"type":"disabled"}`, want: gemini.ThinkingConfig{ThinkingBudget: budget(0)}},
		{model: "gemini-3-pro-preview", thinking: `{"type":"disabled"}`, want: gemini.ThinkingConfig{ThinkingLevel: "MINIMAL"}},
	} {
		req := &MessagesRequest{}
		if c.thinking != "" {
			req.Thinking = &Thinking{}
			json.Unmarshal([]byte(c.thinking), req.Thinking)
		}
		if c.effort != "" {
			req.OutputConfig = &OutputConfig{Effort: c.effort}
		}
		got, e := thinkingConfig(req, c.model)
		if e != nil {
			t.Errorf("%s %s %s: %v", c.model, c.thinking, c.effort, e)
			continue
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(&c.want)
		if c.none {
			wj = []byte("null")
		}
		if string(gj) != string(wj) {
			t.Errorf("thinkingConfig(%s, %s, effort %q) = %s, want %s", c.model, c.thinking, c.effort, gj, wj)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{`, "malformed JSON"},
		{`{"model":"m","max_tokens":"x","messages":[]}`, "max_tokens"},
		{`{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, "model: field required"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]}`, "max_tokens: field required"},
		{`{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`, "max_tokens: must be at least 1"},
		{`{"model":"m","max_tokens":1,"messages":[]}`, "at least one message"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"tool","content":"x"}]}`, `messages[0].role: "tool"`},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":42}]}`, "messages[0].content: must be a string or an array"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"video"}]}]}`, `messages[0].content[0].type: "video"`},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9"}]}]}`, `"toolu_9" matches no tool_use`},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/missing.png"}}]}]}`, "could not fetch it: HTTP 404"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_1"}}]}]}`, "Files API ids"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":[1]}]}]}`, "input: must be an object"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "server tool"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"bad name"}]}`, "tools[0].name"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","input_schema":{"$ref":"http://x"}}]}`, "points outside the schema"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f"}],"tool_choice":{"type":"tool","name":"g"}}`, `tool_choice.name: "g"`},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled"}}`, "budget_tokens"},
		{`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"output_config":{"effort":"extreme"}}`, "output_config.effort"},
		{`{"model":"m","max_tokens":1,"system":[{"type":"image"}],"messages":[{"role":"user","content":"x"}]}`, "system[0].type"},
	} {
		req, err := ParseRequest([]byte(c.body))
		if err == nil {
			_, err = ToGemini(context.Background(), req, testOptions())
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.errorType() != "invalid_request_error" || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: err %v, want a 400 invalid_request_error mentioning %q", c.body, err, c.want)
		}
	}
}

func TestTypeForStatus(t *testing.T) {
	for status, want := range map[int]string{400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
		404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error", 502: "api_error",
		503: "overloaded_error", 529: "overloaded_error", 504: "timeout_error"} {
		if got := TypeForStatus(status); got != want {
			t.Errorf("TypeForStatus(%d) = %s, want %s", status, got, want)
		}
	}
	if got := string(ErrorEvent(&Error{Status: 502, Message: "m"})); got != "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"m\"}}\n\n" {
		t.Errorf("ErrorEvent = %q", got)
	}
}

// TestStreamError: an error object inside the upstream stream becomes an
// *Error with Google's status.
func TestStreamError(t *testing.T) {
	st := NewStreamTranslator(testMeta())
	_, err := st.Translate(nil, golden.Read(t, "testdata/gemini/error.503-UNAVAILABLE-overloaded.json"))
	var e *Error
	if !errors.As(err, &e) || e.Status != 503 || e.errorType() != "overloaded_error" {
		t.Errorf("Translate(error object) = %v", err)
	}
	if _, err := st.Translate(nil, []byte("{not json")); err == nil {
		t.Errorf("Translate(garbage) = nil error")
	}
}

// FuzzToGemini: no input panics ParseRequest + ToGemini, and every
// rejection is a 400 *Error with a message.
func FuzzToGemini(f *testing.F) {
	for _, pattern := range []string{"testdata/golden/request/*.json", "testdata/claude-code/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if strings.HasSuffix(file, ".golden.json") {
				continue
			}
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{``, `{}`, `null`, `{"model":"m","max_tokens":1,"messages":[{}]}`,
		`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"thinking","signature":"s"}]}]}`,
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":[{"type":"image"}]}}]}]}`} {
		f.Add([]byte(s))
	}
	opts := testOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data)
		if err == nil {
			_, err = ToGemini(context.Background(), req, opts)
		}
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.Message == "" {
			t.Fatalf("error %T %v, want a 400 *Error", err, err)
		}
	})
}

// TestAppendJSON: the hand-written encoder writes what encoding/json does,
// and the fast Gemini decoder the server passes (openai.DecodeAnswer) reads
// what encoding/json reads, for every captured answer and stream.
func TestAppendJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*")
	for _, f := range files {
		if strings.Contains(f, "error.") {
			continue
		}
		raw := golden.Read(t, f)
		fast := testMeta()
		fast.Decode = openai.DecodeAnswer
		if strings.HasSuffix(f, ".sse.txt") {
			if a, b := streamOf(t, raw, testMeta()), streamOf(t, raw, fast); !bytes.Equal(a, b) {
				t.Errorf("%s: the stream differs with the fast decoder:\n%s\n%s", f, a, b)
			}
			continue
		}
		slow, err := FromGeminiJSON(raw, testMeta())
		if err != nil {
			t.Fatal(err)
		}
		quick, err := FromGeminiJSON(raw, fast)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(slow)
		got := quick.AppendJSON(nil)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: AppendJSON wrote invalid JSON %s: %v", f, got, err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\nAppendJSON  %s\njson.Marshal %s", f, got, want)
		}
	}
}
