package anthropic

import (
	"strconv"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// StreamTranslator turns the events of one Gemini SSE stream into
// Anthropic's stream events, in Anthropic's order: message_start and ping
// with the first upstream event; then per block content_block_start,
// content_block_delta (text_delta, thinking_delta, signature_delta,
// input_json_delta) and content_block_stop; Finish adds message_delta (stop
// reason, usage) and message_stop. Blocks are formed as FromGemini forms
// them, so a streamed answer replays exactly like a whole one. Use one per
// response, from one goroutine.
type StreamTranslator struct {
	meta    Meta
	started bool
	index   int    // index of the next block
	open    string // type of the open block: "", "text" or "thinking"
	toolUse bool
	finish  string
	blocked string
	usage   *gemini.UsageMetadata
}

// NewStreamTranslator returns a translator for one stream.
func NewStreamTranslator(meta Meta) *StreamTranslator { return &StreamTranslator{meta: meta} }

// Usage returns the latest usage metadata seen.
func (t *StreamTranslator) Usage() (gemini.UsageMetadata, bool) {
	if t.usage == nil {
		return gemini.UsageMetadata{}, false
	}
	return *t.usage, true
}

// Translate appends to dst the events for the data of one Gemini SSE
// event. An event that is not a Gemini chunk, or is an error object,
// returns an *Error: end the stream with ErrorEvent.
func (t *StreamTranslator) Translate(dst, data []byte) ([]byte, error) {
	r, code, err := t.meta.decode(data)
	if err != nil {
		return dst, err
	}
	if code != 0 {
		return dst, FromGeminiError(code, data)
	}
	if r.UsageMetadata != nil {
		t.usage = r.UsageMetadata
	}
	if !t.started {
		dst = t.start(dst, r.ResponseID)
	}
	if len(r.Candidates) == 0 {
		if block := promptBlock(r.PromptFeedback); block != "" {
			t.blocked = block
		}
		return dst, nil
	}
	c := &r.Candidates[0]
	if c.Content != nil {
		for i := range c.Content.Parts {
			dst = t.part(dst, &c.Content.Parts[i])
		}
	}
	if c.FinishReason != "" {
		t.finish = c.FinishReason
	}
	return dst, nil
}

// Finish appends the events that end a complete stream.
func (t *StreamTranslator) Finish(dst []byte) []byte {
	if !t.started {
		dst = t.start(dst, "")
	}
	finish := t.finish
	if t.blocked != "" {
		finish = "SAFETY"
		if t.index == 0 {
			dst = t.textDelta(dst, refusalText(t.blocked))
		}
	}
	reason := StopReason(finish, t.toolUse)
	if reason == "refusal" && t.index == 0 && t.open == "" {
		dst = t.textDelta(dst, refusalText(finish))
	}
	dst = t.close(dst)
	u := UsageFrom(t.usage)
	dst = append(dst, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"...)
	dst = openai.AppendJSONString(dst, reason)
	dst = append(dst, `,"stop_sequence":null},"usage":{"input_tokens":`...)
	dst = strconv.AppendInt(dst, u.InputTokens, 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, u.OutputTokens, 10)
	dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, u.CacheReadInputTokens, 10)
	dst = append(dst, "}}\n\n"...)
	return append(dst, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
}

func (t *StreamTranslator) start(dst []byte, responseID string) []byte {
	t.started = true
	u := UsageFrom(t.usage)
	dst = append(dst, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"...)
	dst = openai.AppendJSONString(dst, t.meta.messageID(responseID))
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = openai.AppendJSONString(dst, t.meta.Model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
	dst = strconv.AppendInt(dst, u.InputTokens, 10)
	dst = append(dst, `,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, u.CacheReadInputTokens, 10)
	dst = append(dst, "}}}\n\n"...)
	return append(dst, "event: ping\ndata: {\"type\":\"ping\"}\n\n"...)
}

// part appends the events of one Gemini part (see appendPart for the
// block rules).
func (t *StreamTranslator) part(dst []byte, p *gemini.Part) []byte {
	if p.Thought {
		if p.Text == "" && p.ThoughtSignature == "" {
			return dst
		}
		if t.open != "thinking" || p.Text == "" {
			dst = t.close(dst)
			dst = t.startBlock(dst, `{"type":"thinking","thinking":"","signature":""}`, "thinking")
		}
		if p.Text != "" {
			dst = t.delta(dst, `{"type":"thinking_delta","thinking":`, p.Text)
		}
		if p.ThoughtSignature != "" {
			dst = t.delta(dst, `{"type":"signature_delta","signature":`, p.ThoughtSignature)
			dst = t.close(dst)
		}
		return dst
	}
	if p.ThoughtSignature != "" {
		dst = t.close(dst)
		dst = t.startBlock(dst, `{"type":"thinking","thinking":"","signature":""}`, "thinking")
		dst = t.delta(dst, `{"type":"signature_delta","signature":`, p.ThoughtSignature)
		dst = t.close(dst)
	}
	if fc := p.FunctionCall; fc != nil {
		t.toolUse = true
		id := fc.ID
		if id == "" {
			id = t.meta.id("toolu_")
		}
		if p.ThoughtSignature != "" && t.meta.Signatures != nil {
			t.meta.Signatures.Remember(id, p.ThoughtSignature)
		}
		dst = t.close(dst)
		head := make([]byte, 0, 64+len(id)+len(fc.Name))
		head = append(head, `{"type":"tool_use","id":`...)
		head = openai.AppendJSONString(head, id)
		head = append(head, `,"name":`...)
		head = openai.AppendJSONString(head, fc.Name)
		head = append(head, `,"input":{}}`...)
		dst = t.startBlock(dst, string(head), "tool_use")
		dst = t.delta(dst, `{"type":"input_json_delta","partial_json":`, string(argsOf(fc.Args)))
		return t.close(dst)
	}
	return t.textDelta(dst, visibleText(p))
}

// textDelta appends text to the open text block, opening one if needed.
func (t *StreamTranslator) textDelta(dst []byte, text string) []byte {
	if text == "" {
		return dst
	}
	if t.open != "text" {
		dst = t.close(dst)
		dst = t.startBlock(dst, `{"type":"text","text":""}`, "text")
	}
	return t.delta(dst, `{"type":"text_delta","text":`, text)
}

func (t *StreamTranslator) startBlock(dst []byte, block, kind string) []byte {
	dst = append(dst, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(t.index), 10)
	dst = append(dst, `,"content_block":`...)
	dst = append(dst, block...)
	dst = append(dst, "}\n\n"...)
	t.open = kind
	return dst
}

// delta appends a content_block_delta whose delta is head + the JSON
// string of s + "}".
func (t *StreamTranslator) delta(dst []byte, head, s string) []byte {
	dst = append(dst, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(t.index), 10)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, head...)
	dst = openai.AppendJSONString(dst, s)
	return append(dst, "}}\n\n"...)
}

// close ends the open block, if any.
func (t *StreamTranslator) close(dst []byte) []byte {
	if t.open == "" {
		return dst
	}
	dst = append(dst, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(t.index), 10)
	dst = append(dst, "}\n\n"...)
	t.open = ""
	t.index++
	return dst
}
