package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// wireSeeds returns every Gemini body and stream event of testdata, and a
// few hand-made edge cases.
func wireSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	files, err := filepath.Glob("testdata/gemini/*")
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		b := golden.Read(tb, f)
		if strings.HasSuffix(f, ".json") {
			out = append(out, b)
			continue
		}
		out = append(out, sseEvents(tb, b)...)
	}
	for _, s := range []string{
		`null`, `{}`, ` { } `, `[]`, `"x"`, `{"candidates":null}`, `{"candidates":[]}`, `{"candidates":[null]}`,
		`{"candidates":[{"content":null,"index":null,"finishReason":null}]}`,
		`{"candidates":[{"content":{"parts":[]}}]}`, `{"candidates":[{"content":{"parts":null}}]}`,
		`{"candidates":[{"content":{"parts":[{"text":"a\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t","thought":null}]}}]}`,
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"bad \xff utf8 \xed\xa0\x80\"}]}}]}",
		`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":null}},{"functionCall":{"name":"g","args": {"a" : [1, 2.5e-3, true, null, "x"]} }}]}}]}`,
		`{"candidates":[{"index":-3},{"index":9223372036854775807}]}`,
		`{"candidates":[{"index":1.0}]}`, `{"candidates":[{"index":1e2}]}`, `{"candidates":[{"index":"1"}]}`,
		`{"usageMetadata":{"promptTokenCount":-0,"totalTokenCount":9223372036854775808}}`,
		`{"usageMetadata":null,"promptFeedback":null,"error":null}`,
		`{"error":{"code":503,"message":"m","status":"UNAVAILABLE"}}`, `{"error":{"code":"503"}}`,
		`{"te\u0078t":1,"modelVersion":"m\u0031"}`, `{"candidates":[{"logprobsResult":{"chosenCandidates":[{"token":"a","logProbability":-0.5}]}}]}`,
		`{"candidates":[{"safetyRatings":"not an array"}]}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":"\x"}`,
		`{"a":"\u12"}`, `{"a":tru}`, `{"a":nul}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":1} x`, `{"a":[1 2]}`, "{\"a\":\"\x01\"}",
		`{"modelVersion":"m","modelVersion":null}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// knownWireKeys are the JSON names of the Gemini response types.
var knownWireKeys = strings.Fields(`candidates promptFeedback usageMetadata modelVersion responseId error code
	content finishReason finishMessage index safetyRatings citationMetadata groundingMetadata avgLogprobs
	logprobsResult tokenCount role parts text thought thoughtSignature inlineData fileData functionCall
	functionResponse executableCode codeExecutionResult videoMetadata mimeType data fileUri id name args
	response language outcome output blockReason blockReasonMessage category probability blocked
	topCandidates chosenCandidates token tokenId logProbability promptTokenCount candidatesTokenCount
	totalTokenCount cachedContentTokenCount thoughtsTokenCount toolUsePromptTokenCount promptTokensDetails
	candidatesTokensDetails cacheTokensDetails toolUsePromptTokensDetails modality`)

// ambiguousKeys reports whether data has an object with a duplicate key,
// or a key that encoding/json would match to a field case-insensitively:
// the two places where the fast decoder knowingly differs.
func ambiguousKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj    bool
		keys   map[string]bool
		keyNow bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.keyNow {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				for _, known := range knownWireKeys {
					if k != known && strings.EqualFold(k, known) {
						return true
					}
				}
				top.keyNow = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.obj {
				top.keyNow = true
			}
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, keyNow: true})
			continue
		case json.Delim('['):
			if top != nil && top.obj {
				top.keyNow = true
			}
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].keyNow = true
			}
			continue
		}
		if top != nil && top.obj {
			top.keyNow = true
		}
	}
}

// projected keeps of an encoding/json decode only what decodeAnswer fills.
func projected(ev streamEvent) streamEvent {
	if u := ev.UsageMetadata; u != nil {
		ev.UsageMetadata = &gemini.UsageMetadata{
			PromptTokenCount: u.PromptTokenCount, CandidatesTokenCount: u.CandidatesTokenCount,
			TotalTokenCount: u.TotalTokenCount, CachedContentTokenCount: u.CachedContentTokenCount,
			ThoughtsTokenCount: u.ThoughtsTokenCount, ToolUsePromptTokenCount: u.ToolUsePromptTokenCount,
		}
	}
	if pf := ev.PromptFeedback; pf != nil {
		ev.PromptFeedback = &gemini.PromptFeedback{BlockReason: pf.BlockReason, BlockReasonMessage: pf.BlockReasonMessage}
	}
	for i := range ev.Candidates {
		c := &ev.Candidates[i]
		c.SafetyRatings, c.CitationMetadata, c.GroundingMetadata, c.AvgLogprobs, c.TokenCount = nil, nil, nil, 0, 0
		if c.Content == nil {
			continue
		}
		c.Content = &gemini.Content{Parts: c.Content.Parts}
		for j := range c.Content.Parts {
			p := &c.Content.Parts[j]
			p.FunctionResponse, p.VideoMetadata = nil, nil
		}
	}
	return ev
}

// checkWire compares decodeAnswer with encoding/json on data.
func checkWire(t *testing.T, data []byte) {
	t.Helper()
	var fast streamEvent
	fastErr := decodeAnswer(data, &fast)
	if fastErr != nil && !errors.Is(fastErr, errWire) {
		t.Fatalf("decodeAnswer(%q) = %v, want errWire", data, fastErr)
	}
	if !json.Valid(data) {
		if fastErr == nil {
			t.Fatalf("decodeAnswer(%q) = nil for invalid JSON, want errWire", data)
		}
		return
	}
	var slow streamEvent
	slowErr := json.Unmarshal(data, &slow)
	if fastErr != nil || slowErr != nil || ambiguousKeys(data) {
		// The fallback (encoding/json) decides; a value of the wrong type in
		// a field the fast decoder skips is its only leniency.
		var se *json.SyntaxError
		if fastErr == nil && errors.As(slowErr, &se) {
			t.Fatalf("decodeAnswer(%q) = nil, encoding/json: %v", data, slowErr)
		}
		return
	}
	want := projected(slow)
	if !reflect.DeepEqual(fast, want) {
		got, _ := json.Marshal(fast)
		w, _ := json.Marshal(want)
		t.Fatalf("decodeAnswer(%q)\n got %s\nwant %s", data, got, w)
	}
}

func TestDecodeAnswerMatchesEncodingJSON(t *testing.T) {
	for _, data := range wireSeeds(t) {
		checkWire(t, data)
	}
	// Every real answer and event takes the fast path.
	files, _ := filepath.Glob("testdata/gemini/*")
	for _, f := range files {
		datas := [][]byte{golden.Read(t, f)}
		if !strings.HasSuffix(f, ".json") {
			datas = sseEvents(t, datas[0])
		}
		for _, data := range datas {
			var ev streamEvent
			if err := decodeAnswer(data, &ev); err != nil && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
				t.Errorf("decodeAnswer(%s: %.60s…) = %v, want the fast path", filepath.Base(f), data, err)
			}
		}
	}
}

// FuzzDecodeAnswer: the fast decoder agrees with encoding/json.
func FuzzDecodeAnswer(f *testing.F) {
	for _, data := range wireSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(checkWire)
}

// marshalNoEscape is what AppendJSON must produce: encoding/json with HTML
// escaping off.
func marshalNoEscape(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func checkChunkJSON(t *testing.T, c *ChatCompletionChunk) {
	t.Helper()
	got, err := c.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatalf("AppendJSON = %v", err)
	}
	want := append([]byte("prefix"), marshalNoEscape(t, c)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON()\n got %s\nwant %s", got, want)
	}
}

func TestChunkAppendJSON(t *testing.T) {
	for _, name := range streamFixtures {
		for _, include := range []bool{false, true} {
			for _, c := range translateStream(t, golden.Read(t, "testdata/gemini/"+name), include) {
				checkChunkJSON(t, &c)
			}
		}
	}
	seven := 7
	stop := "stop"
	content := "<b>&amp;</b> \u2028\u2029 \x00\x1f\x7f \xff é 😀 \"q\" \\"
	for _, c := range []ChatCompletionChunk{
		{},
		{Choices: []ChunkChoice{}},
		{ID: "x", Choices: []ChunkChoice{{Index: 2, FinishReason: &stop, Delta: Delta{Content: &content, ReasoningContent: content, Refusal: content, Role: "assistant"}}}},
		{Choices: []ChunkChoice{{Delta: Delta{ToolCalls: []ToolCall{
			{Index: &seven, ID: "call_1", Type: "function", Function: FunctionCall{Name: "f", Arguments: `{"a":"<x>"}`}, ExtraContent: &ExtraContent{Google: &GoogleExtra{ThoughtSignature: "c2ln+/="}}},
			{ID: "call_2", Function: FunctionCall{}, ExtraContent: &ExtraContent{}},
			{ExtraContent: &ExtraContent{Google: &GoogleExtra{}}},
		}}}, {Index: 1}}},
		{Choices: []ChunkChoice{{Logprobs: &ChoiceLogprobs{Content: []TokenLogprob{{Token: "<", Logprob: -1.5e-7, Bytes: []int{60}, TopLogprobs: []TopLogprob{{Token: "&", Logprob: -20}}}}}}}},
		{Choices: []ChunkChoice{{Logprobs: &ChoiceLogprobs{}}}, Usage: &Usage{PromptTokens: 1, CompletionTokens: -2, TotalTokens: 1 << 62, PromptTokensDetails: PromptTokensDetails{CachedTokens: 3}, CompletionTokensDetails: CompletionTokensDetails{ReasoningTokens: 4}}},
	} {
		checkChunkJSON(t, &c)
	}
}

// FuzzChunkAppendJSON: AppendJSON writes what encoding/json writes, for any
// strings.
func FuzzChunkAppendJSON(f *testing.F) {
	f.Add("chatcmpl-1", "gemini-2.5-flash", "Hello <world> & \u2028", "thinking", int64(1700000000), 0)
	f.Add("\xff\xfe", "\x00", "\"\\\b\f\n\r\t\x01", "", int64(-1), 3)
	f.Fuzz(func(t *testing.T, id, model, text, reasoning string, created int64, index int) {
		stop := text
		c := ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
			Choices: []ChunkChoice{{Index: index, Delta: Delta{Content: &text, ReasoningContent: reasoning, Refusal: model,
				ToolCalls: []ToolCall{{Index: &index, ID: id, Type: model, Function: FunctionCall{Name: text, Arguments: reasoning},
					ExtraContent: &ExtraContent{Google: &GoogleExtra{ThoughtSignature: text}}}}}, FinishReason: &stop}},
			Usage: &Usage{PromptTokens: created}}
		checkChunkJSON(t, &c)
	})
}

// BenchmarkDecodeAnswer compares the fast decoder with encoding/json on a
// stream event and a whole answer.
func BenchmarkDecodeAnswer(b *testing.B) {
	event := sseEvents(b, golden.Read(b, "testdata/gemini/streamGenerateContent.gemini-2.5-flash.STOP.sse.txt"))[0]
	body := golden.Read(b, "testdata/gemini/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	for name, data := range map[string][]byte{"event": event, "answer": body} {
		b.Run(name+"/wire", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ev streamEvent
				if err := decodeAnswer(data, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ev streamEvent
				if err := json.Unmarshal(data, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChunkJSON compares AppendJSON with json.Marshal.
func BenchmarkChunkJSON(b *testing.B) {
	text := "The capital of Wyoming is **Cheyenne**.\n"
	stop := "stop"
	c := ChatCompletionChunk{ID: "chatcmpl-abc", Object: "chat.completion.chunk", Created: 1700000000, Model: "gemini-2.5-flash",
		Choices: []ChunkChoice{{Delta: Delta{Content: &text}, FinishReason: &stop}}}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = c.AppendJSON(buf[:0])
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
