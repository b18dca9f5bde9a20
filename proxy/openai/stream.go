package openai

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

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
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream stream sent an event that is not valid JSON: " + err.Error()}
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
				var b strings.Builder
				appendVisible(&b, p)
				if b.Len() > 0 {
					s := b.String()
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
