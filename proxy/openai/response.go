package openai

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// ResponseMeta is what a translated answer takes from outside the Gemini
// body.
type ResponseMeta struct {
	// ID is the chat completion id. Empty: "chatcmpl-" + Gemini's
	// responseId, or a fresh id when there is none.
	ID string
	// Model is the model name to report (usually the one the client asked
	// for). Empty: Gemini's modelVersion.
	Model string
	// Created is the Unix time to report.
	Created int64
	// NewID returns a fresh random id; tool call ids are "call_" + NewID().
	// nil: 24 random alphanumerics. Tests inject a deterministic one.
	NewID func() string
	// Signatures, when set, records the thought signature of every tool
	// call returned, so ToGemini can restore it for clients that replay the
	// call without extra_content. nil: nothing is recorded.
	Signatures *SignatureCache
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomID() string {
	var b [24]byte
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b[:])
}

func (m *ResponseMeta) newID() string {
	if m.NewID != nil {
		return m.NewID()
	}
	return randomID()
}

func (m *ResponseMeta) completionID(responseID string) string {
	switch {
	case m.ID != "":
		return m.ID
	case responseID != "":
		return "chatcmpl-" + responseID
	default:
		return "chatcmpl-" + m.newID()
	}
}

func (m *ResponseMeta) model(modelVersion string) string {
	if m.Model != "" {
		return m.Model
	}
	return modelVersion
}

// FinishReason maps a Gemini finishReason to OpenAI's. hasToolCalls wins over
// everything: the client must run the calls.
func FinishReason(geminiReason string, hasToolCalls bool) string {
	if hasToolCalls {
		return "tool_calls"
	}
	switch geminiReason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	default:
		return "stop"
	}
}

// FromGeminiJSON decodes a generateContent body and translates it. A body
// that is not a Gemini answer is a 502 *Error.
func FromGeminiJSON(body []byte, meta ResponseMeta) (*ChatCompletion, error) {
	var ev wireEvent
	if decodeAnswer(body, &ev) != nil {
		var resp gemini.GenerateContentResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, &Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream answer is not valid JSON: " + err.Error()}
		}
		return FromGemini(&resp, meta), nil
	}
	return FromGemini(&ev.GenerateContentResponse, meta), nil
}

// FromGemini translates a generateContent answer into a chat completion:
// one choice per candidate.
func FromGemini(resp *gemini.GenerateContentResponse, meta ResponseMeta) *ChatCompletion {
	out := &ChatCompletion{
		ID:      meta.completionID(resp.ResponseID),
		Object:  "chat.completion",
		Created: meta.Created,
		Model:   meta.model(resp.ModelVersion),
		Choices: make([]Choice, 0, max(1, len(resp.Candidates))),
	}
	for i := range resp.Candidates {
		out.Choices = append(out.Choices, choiceOf(&resp.Candidates[i], &meta))
	}
	if len(resp.Candidates) == 0 {
		empty := ""
		ch := Choice{Message: AssistantMessage{Role: "assistant", Content: &empty}, FinishReason: "stop"}
		if r := promptBlockRefusal(resp.PromptFeedback); r != "" {
			ch.FinishReason = "content_filter"
			ch.Message.Refusal = r
		}
		out.Choices = append(out.Choices, ch)
	}
	if resp.UsageMetadata != nil {
		out.Usage = UsageFrom(resp.UsageMetadata)
	} else {
		out.Usage = &Usage{} // OpenAI always reports usage on a completion
	}
	return out
}

// promptBlockRefusal explains a blocked prompt, or "" when it was not.
func promptBlockRefusal(pf *gemini.PromptFeedback) string {
	if pf == nil || (pf.BlockReason == "" && pf.BlockReasonMessage == "") {
		return ""
	}
	s := "The prompt was blocked by Gemini"
	if pf.BlockReason != "" {
		s += " (blockReason " + pf.BlockReason + ")"
	}
	if pf.BlockReasonMessage != "" {
		s += ": " + pf.BlockReasonMessage
	}
	return s
}

// candidateRefusal explains a candidate that was filtered with nothing to
// show.
func candidateRefusal(c *gemini.Candidate) string {
	s := "The response was blocked by Gemini (finishReason " + c.FinishReason + ")"
	if c.FinishMessage != "" {
		s += ": " + c.FinishMessage
	}
	return s
}

func choiceOf(c *gemini.Candidate, meta *ResponseMeta) Choice {
	var text, reasoning strings.Builder
	var calls []ToolCall
	if c.Content != nil {
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			if p.FunctionCall != nil {
				calls = append(calls, toolCallOf(p, meta))
				continue
			}
			if p.Thought {
				reasoning.WriteString(p.Text)
				continue
			}
			appendVisible(&text, p)
		}
	}
	ch := Choice{
		Index:        c.Index,
		Message:      AssistantMessage{Role: "assistant", ReasoningContent: reasoning.String(), ToolCalls: calls},
		FinishReason: FinishReason(c.FinishReason, len(calls) > 0),
		Logprobs:     logprobsOf(c.LogprobsResult),
	}
	if text.Len() > 0 || len(calls) == 0 {
		s := text.String()
		ch.Message.Content = &s
	}
	if ch.FinishReason == "content_filter" && text.Len() == 0 {
		ch.Message.Refusal = candidateRefusal(c)
	}
	return ch
}

// appendVisible appends what a non-thought part shows in content. Text is
// copied unchanged; generated images and code execution, which have no
// OpenAI field, are rendered as Markdown so they are not lost.
func appendVisible(b *strings.Builder, p *gemini.Part) {
	switch {
	case p.InlineData != nil:
		b.WriteString("![image](data:")
		b.WriteString(p.InlineData.MIMEType)
		b.WriteString(";base64,")
		b.WriteString(p.InlineData.Data)
		b.WriteString(")")
	case p.FileData != nil:
		b.WriteString(p.FileData.FileURI)
	case p.ExecutableCode != nil:
		b.WriteString("\n```")
		b.WriteString(strings.ToLower(p.ExecutableCode.Language))
		b.WriteString("\n")
		b.WriteString(p.ExecutableCode.Code)
		if !strings.HasSuffix(p.ExecutableCode.Code, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("```\n")
	case p.CodeExecutionResult != nil:
		b.WriteString("\n```output\n")
		b.WriteString(p.CodeExecutionResult.Output)
		if !strings.HasSuffix(p.CodeExecutionResult.Output, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("```\n")
	default:
		b.WriteString(p.Text)
	}
}

func toolCallOf(p *gemini.Part, meta *ResponseMeta) ToolCall {
	fc := p.FunctionCall
	id := fc.ID
	if id == "" {
		id = "call_" + meta.newID()
	}
	args := "{}"
	if a := bytes.TrimSpace(fc.Args); len(a) > 0 && string(a) != "null" {
		var buf bytes.Buffer
		if json.Compact(&buf, a) == nil {
			args = buf.String()
		} else {
			args = string(a)
		}
	}
	tc := ToolCall{ID: id, Type: "function", Function: FunctionCall{Name: fc.Name, Arguments: args}}
	if p.ThoughtSignature != "" {
		tc.ExtraContent = &ExtraContent{Google: &GoogleExtra{ThoughtSignature: p.ThoughtSignature}}
		meta.Signatures.Remember(id, p.ThoughtSignature)
	}
	return tc
}

func logprobsOf(r *gemini.LogprobsResult) *ChoiceLogprobs {
	if r == nil || len(r.ChosenCandidates) == 0 {
		return nil
	}
	out := &ChoiceLogprobs{Content: make([]TokenLogprob, len(r.ChosenCandidates))}
	for i, c := range r.ChosenCandidates {
		tl := TokenLogprob{Token: c.Token, Logprob: c.LogProbability, Bytes: tokenBytes(c.Token), TopLogprobs: []TopLogprob{}}
		if i < len(r.TopCandidates) {
			for _, t := range r.TopCandidates[i].Candidates {
				tl.TopLogprobs = append(tl.TopLogprobs, TopLogprob{Token: t.Token, Logprob: t.LogProbability, Bytes: tokenBytes(t.Token)})
			}
		}
		out.Content[i] = tl
	}
	return out
}

func tokenBytes(s string) []int {
	b := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = int(s[i])
	}
	return b
}

// UsageFrom maps Gemini usage metadata to OpenAI usage: prompt = prompt +
// tool-use prompt, completion = candidates + thoughts, reasoning = thoughts,
// cached = cachedContentTokenCount.
func UsageFrom(u *gemini.UsageMetadata) *Usage {
	prompt := u.PromptTokenCount + u.ToolUsePromptTokenCount
	completion := u.CandidatesTokenCount + u.ThoughtsTokenCount
	total := u.TotalTokenCount
	if total == 0 {
		total = prompt + completion
	}
	return &Usage{
		PromptTokens:            prompt,
		CompletionTokens:        completion,
		TotalTokens:             total,
		PromptTokensDetails:     PromptTokensDetails{CachedTokens: u.CachedContentTokenCount},
		CompletionTokensDetails: CompletionTokensDetails{ReasoningTokens: u.ThoughtsTokenCount},
	}
}

// Decoding Gemini answers.
//
// Every OpenAI answer starts with decoding Gemini JSON, and in a stream that
// is once per event, so it is the largest part of the translation's cost.
// decodeAnswer is a reader made for the one shape it reads: it walks the
// bytes once and fills only the fields the translation reads (candidates'
// content parts, finishReason, finishMessage, index, logprobsResult;
// promptFeedback's block reason; the usage counts; modelVersion,
// responseId; an error object's code). Everything else (safety ratings,
// citation and grounding metadata, the usage details by modality, roles…)
// is checked to be well-formed JSON and skipped without allocating.
//
// It is strict: on anything it does not expect (a syntax error, a value of
// the wrong type, a key that only matches a field case-insensitively is
// simply not matched) it fails and the caller decodes the same bytes with
// encoding/json instead, so the result and the error messages are
// encoding/json's whenever the fast path is not sure.

// errWire says the fast decoder gave up; the caller falls back to
// encoding/json, whose error (if any) is the one reported.
var errWire = errors.New("openai: unexpected Gemini JSON")

// maxWireDepth bounds the nesting the fast decoder follows (encoding/json
// allows 10000; Gemini's answers are a handful deep).
const maxWireDepth = 1000

// wireEvent is a Gemini answer or stream event as decodeAnswer fills it.
type wireEvent = streamEvent

// decodeAnswer decodes a generateContent body or one stream event into ev
// (which must be zero). It returns errWire when the caller must decode with
// encoding/json instead.
func decodeAnswer(data []byte, ev *wireEvent) error {
	r := wireReader{b: data}
	if err := r.event(ev); err != nil {
		return err
	}
	r.ws()
	if r.i != len(r.b) {
		return errWire
	}
	return nil
}

// wireReader reads JSON from b at i.
type wireReader struct {
	b     []byte
	i     int
	depth int
}

func (r *wireReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// null consumes a null literal if one is next.
func (r *wireReader) null() bool {
	r.ws()
	if r.i+4 <= len(r.b) && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// object reads an object (null is an empty one), calling field for every
// member with the reader at the value, which field must consume. key is
// only valid during the call.
func (r *wireReader) object(field func(key []byte) error) error {
	if r.null() {
		return nil
	}
	if r.i >= len(r.b) || r.b[r.i] != '{' {
		return errWire
	}
	if r.depth++; r.depth > maxWireDepth {
		return errWire
	}
	r.i++
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.depth--
		return nil
	}
	for {
		key, err := r.key()
		if err != nil {
			return err
		}
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return errWire
		}
		r.i++
		if err := field(key); err != nil {
			return err
		}
		r.ws()
		if r.i >= len(r.b) {
			return errWire
		}
		switch r.b[r.i] {
		case ',':
			r.i++
			r.ws()
		case '}':
			r.i++
			r.depth--
			return nil
		default:
			return errWire
		}
	}
}

// array reads an array (null is an empty one), calling elem with the
// reader at each element, which elem must consume.
func (r *wireReader) array(elem func() error) error {
	if r.null() {
		return nil
	}
	if r.i >= len(r.b) || r.b[r.i] != '[' {
		return errWire
	}
	if r.depth++; r.depth > maxWireDepth {
		return errWire
	}
	r.i++
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		r.ws()
		if r.i >= len(r.b) {
			return errWire
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			return nil
		default:
			return errWire
		}
	}
}

// key reads an object key; escaped keys are unquoted (a copy).
func (r *wireReader) key() ([]byte, error) {
	r.ws()
	start := r.i
	raw, plain, err := r.stringSpan()
	if err != nil {
		return nil, err
	}
	if plain {
		return raw, nil
	}
	s, ok := unquoteWire(r.b[start:r.i])
	if !ok {
		return nil, errWire
	}
	return []byte(s), nil
}

// stringSpan reads a string literal and returns its contents between the
// quotes. plain is true when they need no unquoting: no escapes, valid
// UTF-8.
func (r *wireReader) stringSpan() (raw []byte, plain bool, err error) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, false, errWire
	}
	start := r.i + 1
	// Fast path: up to the next quote, nothing but printable ASCII.
	if q := bytes.IndexByte(r.b[start:], '"'); q >= 0 {
		raw = r.b[start : start+q]
		if plainASCII(raw) {
			r.i = start + q + 1
			return raw, true, nil
		}
	}
	plain, ascii := true, true
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			raw = r.b[start:j]
			if !ascii && plain && !utf8.Valid(raw) {
				plain = false
			}
			return raw, plain, nil
		case c == '\\':
			plain = false
			j++
			if j >= len(r.b) {
				return nil, false, errWire
			}
			switch r.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(r.b) {
					return nil, false, errWire
				}
				for _, h := range r.b[j+1 : j+5] {
					if unhex(h) < 0 {
						return nil, false, errWire
					}
				}
				j += 4
			default:
				return nil, false, errWire
			}
		case c < ' ':
			return nil, false, errWire
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, errWire
}

// plainASCII reports whether s has only bytes 0x20–0x7f other than the
// backslash, eight at a time.
func plainASCII(s []byte) bool {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		bs := x ^ (lo * '\\')
		// A high bit in: x itself (≥ 0x80), x-0x20 without x's (< 0x20),
		// bs-1 without bs's (a backslash).
		if (x|((x-lo*' ')&^x)|((bs-lo)&^bs))&hi != 0 {
			return false
		}
		s = s[8:]
	}
	for _, c := range s {
		if c < ' ' || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// str reads a string (null leaves *dst unchanged, as encoding/json does).
func (r *wireReader) str(dst *string) error {
	if r.null() {
		return nil
	}
	start := r.i
	raw, plain, err := r.stringSpan()
	if err != nil {
		return err
	}
	if plain {
		*dst = string(raw)
		return nil
	}
	s, ok := unquoteWire(r.b[start:r.i])
	if !ok {
		return errWire
	}
	*dst = s
	return nil
}

// boolean reads true or false (null leaves *dst unchanged).
func (r *wireReader) boolean(dst *bool) error {
	if r.null() {
		return nil
	}
	switch {
	case r.i+4 <= len(r.b) && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		*dst = true
	case r.i+5 <= len(r.b) && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		*dst = false
	default:
		return errWire
	}
	return nil
}

// integer reads an integer literal (null leaves *dst unchanged). A
// fraction, an exponent or an overflow is errWire, as encoding/json
// refuses them for integer fields.
func (r *wireReader) integer(dst *int64) error {
	if r.null() {
		return nil
	}
	start := r.i
	if err := r.number(); err != nil {
		return err
	}
	lit := r.b[start:r.i]
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var n uint64
	for _, c := range lit {
		if c < '0' || c > '9' {
			return errWire
		}
		if n > (1<<63)/10 {
			return errWire
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case !neg && n > 1<<63-1, neg && n > 1<<63:
		return errWire
	case neg:
		*dst = -int64(n)
	default:
		*dst = int64(n)
	}
	return nil
}

// integerInt is integer for an int field.
func (r *wireReader) integerInt(dst *int) error {
	n := int64(*dst)
	if err := r.integer(&n); err != nil {
		return err
	}
	if int64(int(n)) != n {
		return errWire
	}
	*dst = int(n)
	return nil
}

// number skips a number literal, checking its grammar.
func (r *wireReader) number() error {
	b, i := r.b, r.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return errWire
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return errWire
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return errWire
		}
	}
	r.i = i
	return nil
}

// skip consumes any value, checking that it is well-formed.
func (r *wireReader) skip() error {
	r.ws()
	if r.i >= len(r.b) {
		return errWire
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object(func([]byte) error { return r.skip() })
	case c == '[':
		return r.array(r.skip)
	case c == '"':
		_, _, err := r.stringSpan()
		return err
	case c == 't':
		var v bool
		return r.boolean(&v)
	case c == 'f':
		var v bool
		return r.boolean(&v)
	case c == 'n':
		if r.null() {
			return nil
		}
		return errWire
	default:
		return r.number()
	}
}

// raw consumes any value and returns a copy of its bytes.
func (r *wireReader) raw() ([]byte, error) {
	r.ws()
	start := r.i
	if err := r.skip(); err != nil {
		return nil, err
	}
	return bytes.Clone(r.b[start:r.i]), nil
}

func (r *wireReader) event(ev *wireEvent) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "candidates":
			ev.Candidates = ev.Candidates[:0]
			if r.null() {
				ev.Candidates = nil
				return nil
			}
			err := r.array(func() error {
				ev.Candidates = append(ev.Candidates, gemini.Candidate{})
				return r.candidate(&ev.Candidates[len(ev.Candidates)-1])
			})
			if err == nil && ev.Candidates == nil {
				ev.Candidates = []gemini.Candidate{}
			}
			return err
		case "usageMetadata":
			if r.null() {
				ev.UsageMetadata = nil
				return nil
			}
			if ev.UsageMetadata == nil {
				ev.UsageMetadata = &gemini.UsageMetadata{}
			}
			return r.usage(ev.UsageMetadata)
		case "promptFeedback":
			if r.null() {
				ev.PromptFeedback = nil
				return nil
			}
			if ev.PromptFeedback == nil {
				ev.PromptFeedback = &gemini.PromptFeedback{}
			}
			pf := ev.PromptFeedback
			return r.object(func(key []byte) error {
				switch string(key) {
				case "blockReason":
					return r.str(&pf.BlockReason)
				case "blockReasonMessage":
					return r.str(&pf.BlockReasonMessage)
				}
				return r.skip()
			})
		case "modelVersion":
			return r.str(&ev.ModelVersion)
		case "responseId":
			return r.str(&ev.ResponseID)
		case "error":
			if r.null() {
				ev.Error = nil
				return nil
			}
			if ev.Error == nil {
				ev.Error = &struct {
					Code int `json:"code"`
				}{}
			}
			e := ev.Error
			return r.object(func(key []byte) error {
				if string(key) == "code" {
					return r.integerInt(&e.Code)
				}
				return r.skip()
			})
		}
		return r.skip()
	})
}

func (r *wireReader) usage(u *gemini.UsageMetadata) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "promptTokenCount":
			return r.integer(&u.PromptTokenCount)
		case "candidatesTokenCount":
			return r.integer(&u.CandidatesTokenCount)
		case "totalTokenCount":
			return r.integer(&u.TotalTokenCount)
		case "cachedContentTokenCount":
			return r.integer(&u.CachedContentTokenCount)
		case "thoughtsTokenCount":
			return r.integer(&u.ThoughtsTokenCount)
		case "toolUsePromptTokenCount":
			return r.integer(&u.ToolUsePromptTokenCount)
		}
		return r.skip()
	})
}

func (r *wireReader) candidate(c *gemini.Candidate) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "content":
			if r.null() {
				c.Content = nil
				return nil
			}
			if c.Content == nil {
				c.Content = &gemini.Content{}
			}
			ct := c.Content
			return r.object(func(key []byte) error {
				if string(key) != "parts" {
					return r.skip()
				}
				ct.Parts = ct.Parts[:0]
				if r.null() {
					ct.Parts = nil
					return nil
				}
				err := r.array(func() error {
					ct.Parts = append(ct.Parts, gemini.Part{})
					return r.part(&ct.Parts[len(ct.Parts)-1])
				})
				if err == nil && ct.Parts == nil {
					ct.Parts = []gemini.Part{}
				}
				return err
			})
		case "finishReason":
			return r.str(&c.FinishReason)
		case "finishMessage":
			return r.str(&c.FinishMessage)
		case "index":
			return r.integerInt(&c.Index)
		case "logprobsResult":
			// Rare and numeric: encoding/json decodes it.
			raw, err := r.raw()
			if err != nil {
				return err
			}
			if string(raw) == "null" {
				c.LogprobsResult = nil
				return nil
			}
			if c.LogprobsResult == nil {
				c.LogprobsResult = &gemini.LogprobsResult{}
			}
			if json.Unmarshal(raw, c.LogprobsResult) != nil {
				return errWire
			}
			return nil
		}
		return r.skip()
	})
}

func (r *wireReader) part(p *gemini.Part) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "text":
			return r.str(&p.Text)
		case "thought":
			return r.boolean(&p.Thought)
		case "thoughtSignature":
			return r.str(&p.ThoughtSignature)
		case "functionCall":
			if r.null() {
				p.FunctionCall = nil
				return nil
			}
			if p.FunctionCall == nil {
				p.FunctionCall = &gemini.FunctionCall{}
			}
			fc := p.FunctionCall
			return r.object(func(key []byte) error {
				switch string(key) {
				case "id":
					return r.str(&fc.ID)
				case "name":
					return r.str(&fc.Name)
				case "args":
					raw, err := r.raw()
					fc.Args = raw
					return err
				}
				return r.skip()
			})
		case "inlineData":
			if r.null() {
				p.InlineData = nil
				return nil
			}
			if p.InlineData == nil {
				p.InlineData = &gemini.Blob{}
			}
			d := p.InlineData
			return r.object(func(key []byte) error {
				switch string(key) {
				case "mimeType":
					return r.str(&d.MIMEType)
				case "data":
					return r.str(&d.Data)
				}
				return r.skip()
			})
		case "fileData":
			if r.null() {
				p.FileData = nil
				return nil
			}
			if p.FileData == nil {
				p.FileData = &gemini.FileData{}
			}
			d := p.FileData
			return r.object(func(key []byte) error {
				switch string(key) {
				case "mimeType":
					return r.str(&d.MIMEType)
				case "fileUri":
					return r.str(&d.FileURI)
				}
				return r.skip()
			})
		case "executableCode":
			if r.null() {
				p.ExecutableCode = nil
				return nil
			}
			if p.ExecutableCode == nil {
				p.ExecutableCode = &gemini.ExecutableCode{}
			}
			x := p.ExecutableCode
			return r.object(func(key []byte) error {
				switch string(key) {
				case "language":
					return r.str(&x.Language)
				case "code":
					return r.str(&x.Code)
				}
				return r.skip()
			})
		case "codeExecutionResult":
			if r.null() {
				p.CodeExecutionResult = nil
				return nil
			}
			if p.CodeExecutionResult == nil {
				p.CodeExecutionResult = &gemini.CodeExecutionResult{}
			}
			x := p.CodeExecutionResult
			return r.object(func(key []byte) error {
				switch string(key) {
				case "outcome":
					return r.str(&x.Outcome)
				case "output":
					return r.str(&x.Output)
				}
				return r.skip()
			})
		}
		return r.skip()
	})
}

// unquoteWire unquotes a JSON string literal (with its quotes) exactly as
// encoding/json does: invalid UTF-8 and lone surrogates become U+FFFD.
func unquoteWire(s []byte) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	b.Grow(len(s))
	run := 0 // start of the bytes not yet copied
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '"', c < ' ':
			return "", false
		case c < utf8.RuneSelf && c != '\\':
			r++
			continue
		case c >= utf8.RuneSelf:
			rr, size := utf8.DecodeRune(s[r:])
			if rr != utf8.RuneError || size != 1 {
				r += size
				continue
			}
			b.Write(s[run:r])
			b.WriteRune(utf8.RuneError)
			r++
			run = r
			continue
		}
		// A backslash.
		b.Write(s[run:r])
		r++
		if r >= len(s) {
			return "", false
		}
		switch s[r] {
		case '"', '\\', '/':
			b.WriteByte(s[r])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			rr := getu4(s[r-1:])
			if rr < 0 {
				return "", false
			}
			r += 4
			if utf16.IsSurrogate(rr) {
				if dec := utf16.DecodeRune(rr, getu4(s[r+1:])); dec != unicode.ReplacementChar {
					r += 6
					rr = dec
				} else {
					rr = unicode.ReplacementChar
				}
			}
			b.WriteRune(rr)
		default:
			return "", false
		}
		r++
		run = r
	}
	b.Write(s[run:])
	return b.String(), true
}

// getu4 decodes \uXXXX from the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		r = r*16 + h
	}
	return r
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}
