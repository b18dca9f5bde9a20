package anthropic

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// Meta is what the answer translators need besides Gemini's answer.
type Meta struct {
	// Model is the model name the client asked for; the answer names it.
	Model string
	// Signatures records each tool_use id's thought signature; may be nil.
	Signatures Signatures
	// NewID makes the ids Gemini does not give (message, tool_use) from a
	// prefix ("msg_", "toolu_"); nil: random ids. Tests make them
	// deterministic.
	NewID func(prefix string) string
	// Decode decodes a generateContent body or the data of one stream
	// event; errorCode > 0 is the code of an {"error":{...}} object in it.
	// nil: encoding/json. The server passes proxy/openai's fast reader of
	// Gemini answers (openai.DecodeAnswer).
	Decode func(data []byte) (resp *gemini.GenerateContentResponse, errorCode int, err error)
}

// decode decodes Gemini's answer or stream event data.
func (m *Meta) decode(data []byte) (*gemini.GenerateContentResponse, int, error) {
	if m.Decode != nil {
		r, code, err := m.Decode(data)
		if err != nil {
			return nil, 0, &Error{Status: http.StatusBadGateway, Type: "api_error", Message: err.Error()}
		}
		return r, code, nil
	}
	var ev struct {
		gemini.GenerateContentResponse
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, 0, &Error{Status: http.StatusBadGateway, Type: "api_error", Message: "the upstream answer is not valid JSON: " + jsonProblem(err)}
	}
	if ev.Error != nil {
		return &ev.GenerateContentResponse, max(ev.Error.Code, 1), nil
	}
	return &ev.GenerateContentResponse, 0, nil
}

// id returns a fresh id with prefix.
func (m *Meta) id(prefix string) string {
	if m.NewID != nil {
		return m.NewID(prefix)
	}
	return newID(prefix)
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by 24 random base-62 characters.
func newID(prefix string) string {
	var b [24]byte
	rand.Read(b[:])
	out := make([]byte, 0, len(prefix)+len(b))
	out = append(out, prefix...)
	for _, c := range b {
		out = append(out, idAlphabet[int(c)%len(idAlphabet)])
	}
	return string(out)
}

// messageID is "msg_" + Gemini's responseId, or a fresh id.
func (m *Meta) messageID(responseID string) string {
	if responseID != "" {
		return "msg_" + responseID
	}
	return m.id("msg_")
}

// StopReason maps Gemini's finishReason: any function call → tool_use,
// MAX_TOKENS → max_tokens, the safety, recitation and policy blocks →
// refusal, everything else (STOP included) → end_turn. Gemini does not say
// whether a stop sequence ended the answer, so stop_sequence is never
// reported.
func StopReason(finishReason string, toolUse bool) string {
	switch {
	case toolUse:
		return "tool_use"
	case finishReason == "MAX_TOKENS":
		return "max_tokens"
	case isRefusal(finishReason):
		return "refusal"
	}
	return "end_turn"
}

func isRefusal(r string) bool {
	switch r {
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return true
	}
	return false
}

// UsageFrom maps Gemini's usage: input = prompt + tool-use prompt − cached,
// output = candidates + thoughts, cache read = cached content tokens.
func UsageFrom(u *gemini.UsageMetadata) Usage {
	if u == nil {
		return Usage{}
	}
	// Anthropic counts the cached tokens apart from the input.
	in := max(u.InputTokens()-u.CachedContentTokenCount, 0)
	return Usage{InputTokens: in, OutputTokens: u.OutputTokens(), CacheReadInputTokens: u.CachedContentTokenCount}
}

// refusalText explains an answer Gemini blocked without content.
func refusalText(reason string) string {
	return "Gemini declined to answer (" + reason + ")."
}

// promptBlock says why Gemini refused the prompt itself ("" when it did
// not): the block reason, with Google's message when there is one.
func promptBlock(pf *gemini.PromptFeedback) string {
	if pf == nil || (pf.BlockReason == "" && pf.BlockReasonMessage == "") {
		return ""
	}
	reason := pf.BlockReason
	if reason == "" {
		reason = "BLOCKED"
	}
	if pf.BlockReasonMessage != "" {
		reason += ": " + pf.BlockReasonMessage
	}
	return reason
}

// FromGeminiJSON translates a generateContent answer body.
func FromGeminiJSON(body []byte, meta Meta) (*Response, error) {
	resp, code, err := meta.decode(body)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, FromGeminiError(code, body)
	}
	return FromGemini(resp, meta), nil
}

// FromGemini translates a generateContent answer. Only the first candidate
// is used (Anthropic has no n). Thought parts become thinking blocks with
// their signatures; a signature Gemini put on an answer or function-call
// part travels in a thinking block with empty text just before that part's
// block, where ToGemini finds it again.
func FromGemini(resp *gemini.GenerateContentResponse, meta Meta) *Response {
	out := &Response{ID: meta.messageID(resp.ResponseID), Type: "message", Role: "assistant", Model: meta.Model,
		Content: []ContentBlock{}, Usage: UsageFrom(resp.UsageMetadata)}
	finish := ""
	toolUse := false
	if len(resp.Candidates) > 0 {
		c := &resp.Candidates[0]
		finish = c.FinishReason
		if c.Content != nil {
			for i := range c.Content.Parts {
				p := &c.Content.Parts[i]
				if p.FunctionCall != nil {
					toolUse = true
				}
				out.Content = appendPart(out.Content, p, &meta)
			}
		}
	} else if block := promptBlock(resp.PromptFeedback); block != "" {
		finish = "SAFETY"
		out.Content = append(out.Content, textBlock(refusalText(block)))
	}
	reason := StopReason(finish, toolUse)
	if reason == "refusal" && len(out.Content) == 0 {
		out.Content = append(out.Content, textBlock(refusalText(finish)))
	}
	out.StopReason = &reason
	return out
}

func textBlock(s string) ContentBlock { return ContentBlock{Type: "text", Text: &s} }

func thinkingBlock(text, sig string) ContentBlock {
	return ContentBlock{Type: "thinking", Thinking: &text, Signature: &sig}
}

// appendPart adds the blocks of one Gemini part to blocks, merging text
// into the text block before it and thought text into an unsigned
// thinking block before it.
func appendPart(blocks []ContentBlock, p *gemini.Part, meta *Meta) []ContentBlock {
	last := func() *ContentBlock {
		if len(blocks) == 0 {
			return nil
		}
		return &blocks[len(blocks)-1]
	}
	if p.Thought {
		if p.Text == "" && p.ThoughtSignature == "" {
			return blocks
		}
		if l := last(); l != nil && l.Type == "thinking" && *l.Signature == "" && *l.Thinking != "" && p.Text != "" {
			s := *l.Thinking + p.Text
			l.Thinking, l.Signature = &s, &p.ThoughtSignature
			return blocks
		}
		return append(blocks, thinkingBlock(p.Text, p.ThoughtSignature))
	}
	if p.ThoughtSignature != "" {
		blocks = append(blocks, thinkingBlock("", p.ThoughtSignature))
	}
	if fc := p.FunctionCall; fc != nil {
		id := fc.ID
		if id == "" {
			id = meta.id("toolu_")
		}
		if p.ThoughtSignature != "" && meta.Signatures != nil {
			meta.Signatures.Remember(id, p.ThoughtSignature)
		}
		return append(blocks, ContentBlock{Type: "tool_use", ID: id, Name: fc.Name, Input: argsOf(fc.Args)})
	}
	text := visibleText(p)
	if text == "" {
		return blocks
	}
	if l := last(); l != nil && l.Type == "text" {
		s := *l.Text + text
		l.Text = &s
		return blocks
	}
	return append(blocks, textBlock(text))
}

// argsOf returns function-call arguments as a JSON object.
func argsOf(args json.RawMessage) json.RawMessage {
	if len(args) == 0 || string(args) == "null" {
		return json.RawMessage("{}")
	}
	return args
}

// visibleText is the text a non-thought part shows: its text, generated
// images as Markdown data-URI images, code-execution parts as fenced
// blocks, so that nothing the model produced disappears.
func visibleText(p *gemini.Part) string {
	switch {
	case p.InlineData != nil:
		return "![image](data:" + p.InlineData.MIMEType + ";base64," + p.InlineData.Data + ")"
	case p.ExecutableCode != nil:
		return "\n```" + strings.ToLower(p.ExecutableCode.Language) + "\n" + p.ExecutableCode.Code + "\n```\n"
	case p.CodeExecutionResult != nil:
		return "\n```\n" + p.CodeExecutionResult.Output + "\n```\n"
	}
	return p.Text
}

// AppendJSON appends r as JSON: what json.Marshal makes of it, written by
// hand because every non-stream answer is encoded (to add a field, add it
// to the struct and here; TestAppendJSON compares the two).
func (r *Response) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = openai.AppendJSONString(dst, r.ID)
	dst = append(dst, `,"type":`...)
	dst = openai.AppendJSONString(dst, r.Type)
	dst = append(dst, `,"role":`...)
	dst = openai.AppendJSONString(dst, r.Role)
	dst = append(dst, `,"model":`...)
	dst = openai.AppendJSONString(dst, r.Model)
	dst = append(dst, `,"content":[`...)
	for i := range r.Content {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.Content[i].appendJSON(dst)
	}
	dst = append(dst, `],"stop_reason":`...)
	dst = appendNullable(dst, r.StopReason)
	dst = append(dst, `,"stop_sequence":`...)
	dst = appendNullable(dst, r.StopSequence)
	dst = append(dst, `,"usage":{"input_tokens":`...)
	dst = strconv.AppendInt(dst, r.Usage.InputTokens, 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, r.Usage.OutputTokens, 10)
	dst = append(dst, `,"cache_creation_input_tokens":`...)
	dst = strconv.AppendInt(dst, r.Usage.CacheCreationInputTokens, 10)
	dst = append(dst, `,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, r.Usage.CacheReadInputTokens, 10)
	return append(dst, "}}"...)
}

func (b *ContentBlock) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":`...)
	dst = openai.AppendJSONString(dst, b.Type)
	if b.Text != nil {
		dst = append(dst, `,"text":`...)
		dst = openai.AppendJSONString(dst, *b.Text)
	}
	if b.Thinking != nil {
		dst = append(dst, `,"thinking":`...)
		dst = openai.AppendJSONString(dst, *b.Thinking)
	}
	if b.Signature != nil {
		dst = append(dst, `,"signature":`...)
		dst = openai.AppendJSONString(dst, *b.Signature)
	}
	if b.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = openai.AppendJSONString(dst, b.ID)
	}
	if b.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = openai.AppendJSONString(dst, b.Name)
	}
	if len(b.Input) > 0 {
		dst = append(dst, `,"input":`...)
		dst = appendCompact(dst, b.Input)
	}
	return append(dst, '}')
}

func appendNullable(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return openai.AppendJSONString(dst, *s)
}

// appendCompact appends JSON raw compacted (function arguments come from
// Gemini as valid JSON; anything else is sent as an empty object).
func appendCompact(dst []byte, raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return append(dst, "{}"...)
	}
	return append(dst, buf.Bytes()...)
}
