package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// StreamTranslator turns the events of one Gemini SSE stream into OpenAI
// chat completion chunks. It keeps per-choice state (role sent, tool call
// count, finished) and the latest usage; use one per response, from one
// goroutine.
//
// Chunks come in this order for each choice: a role chunk
// ({"role":"assistant","content":""}), then content, reasoning_content and
// tool_calls deltas in the order Gemini produced them (text is passed
// through unchanged), then a chunk with finish_reason. Finish adds the usage
// chunk (choices: []) when include_usage was asked. The caller writes each
// chunk as "data: <json>\n\n" and, after Finish, "data: [DONE]\n\n".
type StreamTranslator struct {
	meta         ResponseMeta
	includeUsage bool
	started      bool
	done         bool
	id, model    string
	choices      map[int]*streamChoice
	usage        *gemini.UsageMetadata
}

type streamChoice struct {
	role     bool
	calls    int
	visible  bool // some content was sent
	finished bool
}

// NewStreamTranslator returns a translator for one stream. includeUsage is
// stream_options.include_usage (Translated.IncludeUsage).
func NewStreamTranslator(meta ResponseMeta, includeUsage bool) *StreamTranslator {
	return &StreamTranslator{meta: meta, includeUsage: includeUsage, choices: map[int]*streamChoice{}}
}

// Usage returns the latest usage metadata seen (the last chunk's is the
// final count); ok is false when no chunk carried any.
func (t *StreamTranslator) Usage() (gemini.UsageMetadata, bool) {
	if t.usage == nil {
		return gemini.UsageMetadata{}, false
	}
	return *t.usage, true
}

type streamEvent struct {
	gemini.GenerateContentResponse
	Error *struct {
		Code int `json:"code"`
	} `json:"error"`
}

// Translate translates the data of one Gemini SSE event. An event that is
// not a Gemini chunk, or is an error object, returns an *Error: end the
// stream with ErrorChunk.
func (t *StreamTranslator) Translate(data []byte) ([]ChatCompletionChunk, error) {
	var ev streamEvent
	if decodeAnswer(data, &ev) != nil {
		ev = streamEvent{}
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, &Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream stream sent an event that is not valid JSON: " + err.Error()}
		}
	}
	if ev.Error != nil {
		return nil, FromGeminiError(ev.Error.Code, data)
	}
	resp := &ev.GenerateContentResponse
	t.start(resp.ResponseID, resp.ModelVersion)
	if resp.UsageMetadata != nil {
		t.usage = resp.UsageMetadata
	}
	var out []ChatCompletionChunk
	for i := range resp.Candidates {
		out = t.candidate(out, &resp.Candidates[i])
	}
	if len(resp.Candidates) == 0 {
		if r := promptBlockRefusal(resp.PromptFeedback); r != "" {
			ch := t.choice(0)
			if !ch.finished {
				out = t.roleOnce(out, 0, ch)
				out = append(out, t.chunk(0, Delta{Refusal: r}, nil))
				out = append(out, t.chunk(0, Delta{}, ptr("content_filter")))
				ch.finished = true
			}
		}
	}
	return out, nil
}

// Finish ends the stream: a finish chunk for every choice that Gemini did
// not finish (finish_reason stop, or tool_calls), then the usage chunk when
// include_usage was asked. It returns nothing when called again.
func (t *StreamTranslator) Finish() []ChatCompletionChunk {
	if t.done {
		return nil
	}
	t.done = true
	t.start("", "")
	var out []ChatCompletionChunk
	if len(t.choices) == 0 {
		out = t.roleOnce(out, 0, t.choice(0))
	}
	idx := make([]int, 0, len(t.choices))
	for i := range t.choices {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		ch := t.choices[i]
		if !ch.finished {
			out = append(out, t.chunk(i, Delta{}, ptr(FinishReason("", ch.calls > 0))))
			ch.finished = true
		}
	}
	if t.includeUsage {
		u := &Usage{}
		if t.usage != nil {
			u = UsageFrom(t.usage)
		}
		out = append(out, ChatCompletionChunk{
			ID: t.id, Object: "chat.completion.chunk", Created: t.meta.Created, Model: t.model,
			Choices: []ChunkChoice{}, Usage: u,
		})
	}
	return out
}

func (t *StreamTranslator) start(responseID, modelVersion string) {
	if t.started {
		return
	}
	t.started = true
	t.id = t.meta.completionID(responseID)
	t.model = t.meta.model(modelVersion)
}

func (t *StreamTranslator) choice(i int) *streamChoice {
	ch := t.choices[i]
	if ch == nil {
		ch = &streamChoice{}
		t.choices[i] = ch
	}
	return ch
}

func (t *StreamTranslator) roleOnce(out []ChatCompletionChunk, i int, ch *streamChoice) []ChatCompletionChunk {
	if ch.role {
		return out
	}
	ch.role = true
	return append(out, t.chunk(i, Delta{Role: "assistant", Content: ptr("")}, nil))
}

func (t *StreamTranslator) chunk(i int, d Delta, finish *string) ChatCompletionChunk {
	return ChatCompletionChunk{
		ID:      t.id,
		Object:  "chat.completion.chunk",
		Created: t.meta.Created,
		Model:   t.model,
		Choices: []ChunkChoice{{Index: i, Delta: d, FinishReason: finish}},
	}
}

func (t *StreamTranslator) candidate(out []ChatCompletionChunk, c *gemini.Candidate) []ChatCompletionChunk {
	i := c.Index
	ch := t.choice(i)
	out = t.roleOnce(out, i, ch)
	first := len(out)
	if c.Content != nil {
		for j := range c.Content.Parts {
			p := &c.Content.Parts[j]
			switch {
			case p.FunctionCall != nil:
				tc := toolCallOf(p, &t.meta)
				n := ch.calls
				tc.Index = &n
				ch.calls++
				out = append(out, t.chunk(i, Delta{ToolCalls: []ToolCall{tc}}, nil))
			case p.Thought:
				if p.Text != "" {
					out = append(out, t.chunk(i, Delta{ReasoningContent: p.Text}, nil))
				}
			default:
				var s string
				if p.InlineData == nil && p.FileData == nil && p.ExecutableCode == nil && p.CodeExecutionResult == nil {
					s = p.Text // what appendVisible shows, without a copy
				} else {
					var b strings.Builder
					appendVisible(&b, p)
					s = b.String()
				}
				if s != "" {
					ch.visible = true
					out = append(out, t.chunk(i, Delta{Content: &s}, nil))
				}
			}
		}
	}
	if lp := logprobsOf(c.LogprobsResult); lp != nil && len(out) > first {
		out[first].Choices[0].Logprobs = lp
	}
	if c.FinishReason != "" && !ch.finished {
		fr := FinishReason(c.FinishReason, ch.calls > 0)
		if fr == "content_filter" && !ch.visible {
			out = append(out, t.chunk(i, Delta{Refusal: candidateRefusal(c)}, nil))
		}
		out = append(out, t.chunk(i, Delta{}, &fr))
		ch.finished = true
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// AppendJSON appends the JSON encoding of c to b: the bytes json.Marshal
// gives, except that <, > and & are not escaped (as with an Encoder with
// SetEscapeHTML(false)); it makes no intermediate copies. The error is
// encoding/json's, from logprobs that cannot be encoded. It is written by
// hand because every stream event is encoded: to add a field, add it to
// the struct and here, in the struct's order; TestChunkAppendJSON compares
// the two encodings.
func (c *ChatCompletionChunk) AppendJSON(b []byte) ([]byte, error) {
	if !fastJSON {
		j, err := json.Marshal(c)
		return append(b, j...), err
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"object":`...)
	b = appendJSONString(b, c.Object)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, c.Created, 10)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, c.Model)
	b = append(b, `,"choices":`...)
	if c.Choices == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Choices {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.Choices[i].appendJSON(b); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if c.Usage != nil {
		b = append(b, `,"usage":`...)
		b = c.Usage.appendJSON(b)
	}
	return append(b, '}'), nil
}

func (ch *ChunkChoice) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(ch.Index), 10)
	b = append(b, `,"delta":`...)
	b = ch.Delta.appendJSON(b)
	b = append(b, `,"finish_reason":`...)
	if ch.FinishReason == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *ch.FinishReason)
	}
	if ch.Logprobs != nil {
		// Rare, and made of floats: encoding/json writes it.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ch.Logprobs); err != nil {
			return b, err
		}
		b = append(b, `,"logprobs":`...)
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	return append(b, '}'), nil
}

func (d *Delta) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	sep := func(b []byte) []byte {
		if len(b) > n {
			b = append(b, ',')
		}
		return b
	}
	if d.Role != "" {
		b = append(sep(b), `"role":`...)
		b = appendJSONString(b, d.Role)
	}
	if d.Content != nil {
		b = append(sep(b), `"content":`...)
		b = appendJSONString(b, *d.Content)
	}
	if d.ReasoningContent != "" {
		b = append(sep(b), `"reasoning_content":`...)
		b = appendJSONString(b, d.ReasoningContent)
	}
	if d.Refusal != "" {
		b = append(sep(b), `"refusal":`...)
		b = appendJSONString(b, d.Refusal)
	}
	if len(d.ToolCalls) > 0 {
		b = append(sep(b), `"tool_calls":[`...)
		for i := range d.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.ToolCalls[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (tc *ToolCall) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if tc.Index != nil {
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(*tc.Index), 10)
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = appendJSONString(b, tc.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, tc.Type)
	b = append(b, `,"function":{"name":`...)
	b = appendJSONString(b, tc.Function.Name)
	b = append(b, `,"arguments":`...)
	b = appendJSONString(b, tc.Function.Arguments)
	b = append(b, '}')
	if tc.ExtraContent != nil {
		b = append(b, `,"extra_content":{`...)
		if g := tc.ExtraContent.Google; g != nil {
			b = append(b, `"google":{`...)
			if g.ThoughtSignature != "" {
				b = append(b, `"thought_signature":`...)
				b = appendJSONString(b, g.ThoughtSignature)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func (u *Usage) appendJSON(b []byte) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, u.PromptTokens, 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, u.CompletionTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.TotalTokens, 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, u.PromptTokensDetails.CachedTokens, 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, u.CompletionTokensDetails.ReasoningTokens, 10)
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string the way encoding/json writes
// it with HTML escaping off: control characters escaped (\b \f \n \r \t or
// \u00XX), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
