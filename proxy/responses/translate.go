package responses

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// ResponseMeta is what a translated answer takes from outside the Gemini
// body.
type ResponseMeta struct {
	// ID is the response id. Empty: "resp_" + NewID().
	ID string
	// Model is the model name to report (the one the client asked for).
	// Empty: Gemini's modelVersion.
	Model string
	// Created is the Unix time to report as created_at.
	Created int64
	// NewID returns a fresh random id for responses, items and calls. nil:
	// 24 random alphanumerics. Tests inject a deterministic one.
	NewID func() string
	// Signatures, when set, records the thought signature of every call
	// returned, by call id, for clients that drop reasoning items.
	Signatures *openai.SignatureCache
	// Tools maps Gemini function names back to the client's tools
	// (namespaces, custom tools, tool_search); Translated.Meta has it.
	Tools map[string]ToolRef
	// Echo is the request's settings repeated in the response object
	// (Translated.Meta has it).
	Echo []byte
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomID returns 24 random alphanumerics (143 bits), 8 from each of three
// random 64-bit numbers.
func randomID() string {
	var b [24]byte
	for i := 0; i < len(b); i += 8 {
		x := rand.Uint64()
		for j := i; j < i+8; j++ {
			b[j] = idAlphabet[x%62]
			x /= 62
		}
	}
	return string(b[:])
}

func (m *ResponseMeta) newID() string {
	if m.NewID != nil {
		return m.NewID()
	}
	return randomID()
}

// Event is one Responses stream event. Which fields are used depends on
// Type; AppendSSE writes it.
type Event struct {
	Type        string
	Seq         int
	Response    *Response  // response.created, in_progress, completed, incomplete, failed
	Item        OutputItem // output_item.added / done (a snapshot)
	OutputIndex int
	// Index is content_index, or summary_index for reasoning events.
	Index  int
	ItemID string
	// Delta is the text of a delta event; Text the whole text (or
	// arguments, or input) of a done event.
	Delta string
	Text  string
	// Code and Message are an error event's.
	Code, Message string
}

// StreamTranslator turns the events of one Gemini SSE stream into
// Responses stream events, and keeps the response being built. Use one per
// response, from one goroutine.
//
// The events come in the order OpenAI sends them: response.created and
// response.in_progress with the first upstream event; for each output item
// output_item.added, its content (content_part.added, output_text.delta …
// output_text.done, content_part.done for a message;
// reasoning_summary_part.added, reasoning_summary_text.delta … for a
// reasoning item; function_call_arguments.delta / done for a function call;
// custom_tool_call_input.delta / done for a custom tool call), and
// output_item.done; Finish ends with response.completed (or
// response.incomplete) carrying the whole response and its usage. Every
// event has a sequence_number, counted from 0.
type StreamTranslator struct {
	meta    ResponseMeta
	emit    bool
	seq     int
	started bool
	done    bool
	id      string
	model   string
	output  []OutputItem
	open    int // index in output of the open message or reasoning item, or -1
	buf     strings.Builder
	usage   *gemini.UsageMetadata
	finish  string // Gemini's finishReason
	filter  string // why a candidate was blocked with nothing shown
	blocked string // why the prompt was blocked
	visible bool   // some text was shown
	events  []Event
	final   *Response
}

// NewStreamTranslator returns a translator for one stream.
func NewStreamTranslator(meta ResponseMeta) *StreamTranslator {
	return &StreamTranslator{meta: meta, emit: true, open: -1}
}

// FromGeminiJSON decodes a generateContent body and translates it. A body
// that is not a Gemini answer is a 502 *openai.Error.
func FromGeminiJSON(body []byte, meta ResponseMeta) (*Response, error) {
	resp, code, err := openai.DecodeAnswer(body)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, openai.FromGeminiError(code, body)
	}
	return FromGemini(resp, meta), nil
}

// FromGemini translates a generateContent answer into a response object:
// the same items, in the same order, as the stream would give.
func FromGemini(resp *gemini.GenerateContentResponse, meta ResponseMeta) *Response {
	t := &StreamTranslator{meta: meta, open: -1}
	t.translate(resp)
	t.Finish()
	return t.final
}

// Usage returns the latest usage metadata seen; ok is false when no chunk
// carried any.
func (t *StreamTranslator) Usage() (gemini.UsageMetadata, bool) {
	if t.usage == nil {
		return gemini.UsageMetadata{}, false
	}
	return *t.usage, true
}

// Response returns the response as it stands: final after Finish or Fail.
func (t *StreamTranslator) Response() *Response {
	if t.final != nil {
		return t.final
	}
	return t.response("in_progress")
}

// Translate translates the data of one Gemini SSE event. The events
// returned are valid until the next call. An event that is not a Gemini
// chunk, or is an error object, returns an *openai.Error: end the stream
// with Fail.
func (t *StreamTranslator) Translate(data []byte) ([]Event, error) {
	resp, code, err := openai.DecodeAnswer(data)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, openai.FromGeminiError(code, data)
	}
	t.events = t.events[:0]
	t.translate(resp)
	return t.events, nil
}

// Start returns the response.created and response.in_progress events if
// they were not sent yet (Translate sends them with the first chunk).
func (t *StreamTranslator) Start() []Event {
	t.events = t.events[:0]
	t.start("")
	return t.events
}

func (t *StreamTranslator) start(modelVersion string) {
	if t.started {
		return
	}
	t.started = true
	t.id = t.meta.ID
	if t.id == "" {
		t.id = "resp_" + t.meta.newID()
	}
	t.model = t.meta.Model
	if t.model == "" {
		t.model = modelVersion
	}
	if t.emit {
		t.ev(Event{Type: "response.created", Response: t.response("in_progress")})
		t.ev(Event{Type: "response.in_progress", Response: t.response("in_progress")})
	}
}

func (t *StreamTranslator) ev(e Event) {
	if !t.emit {
		return
	}
	e.Seq = t.seq
	t.seq++
	t.events = append(t.events, e)
}

func (t *StreamTranslator) translate(resp *gemini.GenerateContentResponse) {
	t.start(resp.ModelVersion)
	if resp.UsageMetadata != nil {
		t.usage = resp.UsageMetadata
	}
	for i := range resp.Candidates {
		c := &resp.Candidates[i]
		if c.Index != 0 {
			continue // Responses has one answer; candidateCount is never set
		}
		if c.Content != nil {
			for j := range c.Content.Parts {
				t.part(&c.Content.Parts[j])
			}
		}
		if c.FinishReason != "" {
			t.finish = c.FinishReason
			if incompleteReason(c.FinishReason) == "content_filter" && !t.visible {
				t.filter = "The response was blocked by Gemini (finishReason " + c.FinishReason + ")"
				if c.FinishMessage != "" {
					t.filter += ": " + c.FinishMessage
				}
			}
		}
	}
	if len(resp.Candidates) == 0 && resp.PromptFeedback != nil && (resp.PromptFeedback.BlockReason != "" || resp.PromptFeedback.BlockReasonMessage != "") {
		pf := resp.PromptFeedback
		s := "The prompt was blocked by Gemini"
		if pf.BlockReason != "" {
			s += " (blockReason " + pf.BlockReason + ")"
		}
		if pf.BlockReasonMessage != "" {
			s += ": " + pf.BlockReasonMessage
		}
		t.blocked = s
	}
}

func (t *StreamTranslator) part(p *gemini.Part) {
	switch {
	case p.FunctionCall != nil:
		t.call(p)
	case p.Thought:
		if p.Text == "" {
			return
		}
		t.openItem("reasoning")
		t.buf.WriteString(p.Text)
		t.ev(Event{Type: "response.reasoning_summary_text.delta", ItemID: t.output[t.open].ID, OutputIndex: t.open, Delta: p.Text})
	default:
		s := visibleText(p)
		if s == "" {
			return
		}
		t.visible = true
		t.openItem("message")
		t.buf.WriteString(s)
		t.ev(Event{Type: "response.output_text.delta", ItemID: t.output[t.open].ID, OutputIndex: t.open, Delta: s})
	}
}

// openItem makes sure a message or reasoning item is open, closing the
// other kind first.
func (t *StreamTranslator) openItem(kind string) {
	if t.open >= 0 && t.output[t.open].Type == kind {
		return
	}
	t.closeItem()
	it := OutputItem{Type: kind}
	if kind == "message" {
		it.ID, it.Status = "msg_"+t.meta.newID(), "in_progress"
	} else {
		it.ID = "rs_" + t.meta.newID()
	}
	t.open = len(t.output)
	t.output = append(t.output, it)
	t.ev(Event{Type: "response.output_item.added", OutputIndex: t.open, Item: it})
	if kind == "message" {
		t.ev(Event{Type: "response.content_part.added", ItemID: it.ID, OutputIndex: t.open})
	} else {
		t.ev(Event{Type: "response.reasoning_summary_part.added", ItemID: it.ID, OutputIndex: t.open})
	}
}

// closeItem finishes the open message or reasoning item.
func (t *StreamTranslator) closeItem() {
	if t.open < 0 {
		return
	}
	i := t.open
	it := &t.output[i]
	text := t.buf.String()
	t.buf.Reset()
	t.open = -1
	if it.Type == "message" {
		it.Text, it.Status = text, "completed"
		t.ev(Event{Type: "response.output_text.done", ItemID: it.ID, OutputIndex: i, Text: text})
		t.ev(Event{Type: "response.content_part.done", ItemID: it.ID, OutputIndex: i, Text: text})
	} else {
		it.Summary = text
		if text != "" {
			t.ev(Event{Type: "response.reasoning_summary_text.done", ItemID: it.ID, OutputIndex: i, Text: text})
			t.ev(Event{Type: "response.reasoning_summary_part.done", ItemID: it.ID, OutputIndex: i, Text: text})
		}
	}
	t.ev(Event{Type: "response.output_item.done", OutputIndex: i, Item: *it})
}

// call adds a function_call, custom_tool_call or tool_search_call item.
// Its thought signature goes into the encrypted_content of the reasoning
// item just before it: the open one (the thoughts that led to the call), or
// a new one without summary.
func (t *StreamTranslator) call(p *gemini.Part) {
	fc := p.FunctionCall
	callID := fc.ID
	if callID == "" {
		callID = "call_" + t.meta.newID()
	}
	if sig := p.ThoughtSignature; sig != "" {
		t.meta.Signatures.Remember(callID, sig)
		if t.open < 0 || t.output[t.open].Type != "reasoning" {
			t.closeItem()
			it := OutputItem{Type: "reasoning", ID: "rs_" + t.meta.newID()}
			t.open = len(t.output)
			t.output = append(t.output, it)
			t.ev(Event{Type: "response.output_item.added", OutputIndex: t.open, Item: it})
		}
		t.output[t.open].EncryptedContent = EncodeSignature(callID, sig)
	}
	t.closeItem()

	args := "{}"
	if a := bytes.TrimSpace(fc.Args); len(a) > 0 && string(a) != "null" {
		var buf bytes.Buffer
		if json.Compact(&buf, a) == nil {
			args = buf.String()
		} else {
			args = string(a)
		}
	}
	ref, ok := t.meta.Tools[fc.Name]
	if !ok {
		ref = ToolRef{Kind: "function", Name: fc.Name}
	}
	i := len(t.output)
	switch ref.Kind {
	case "custom":
		it := OutputItem{Type: "custom_tool_call", ID: "ctc_" + t.meta.newID(), Status: "in_progress", CallID: callID, Name: ref.Name, Namespace: ref.Namespace}
		t.output = append(t.output, it)
		t.ev(Event{Type: "response.output_item.added", OutputIndex: i, Item: it})
		var in struct {
			Input *string `json:"input"`
		}
		input := args
		if json.Unmarshal([]byte(args), &in) == nil && in.Input != nil {
			input = *in.Input
		}
		t.ev(Event{Type: "response.custom_tool_call_input.delta", ItemID: it.ID, OutputIndex: i, Delta: input})
		t.ev(Event{Type: "response.custom_tool_call_input.done", ItemID: it.ID, OutputIndex: i, Text: input})
		t.output[i].Input, t.output[i].Status = input, "completed"
	case "tool_search":
		it := OutputItem{Type: "tool_search_call", ID: "ts_" + t.meta.newID(), Status: "in_progress", CallID: callID}
		t.output = append(t.output, it)
		t.ev(Event{Type: "response.output_item.added", OutputIndex: i, Item: it})
		t.output[i].Arguments, t.output[i].Status = args, "completed"
	default:
		it := OutputItem{Type: "function_call", ID: "fc_" + t.meta.newID(), Status: "in_progress", CallID: callID, Name: ref.Name, Namespace: ref.Namespace}
		t.output = append(t.output, it)
		t.ev(Event{Type: "response.output_item.added", OutputIndex: i, Item: it})
		t.ev(Event{Type: "response.function_call_arguments.delta", ItemID: it.ID, OutputIndex: i, Delta: args})
		t.ev(Event{Type: "response.function_call_arguments.done", ItemID: it.ID, OutputIndex: i, Text: args})
		t.output[i].Arguments, t.output[i].Status = args, "completed"
	}
	t.ev(Event{Type: "response.output_item.done", OutputIndex: i, Item: t.output[i]})
}

// incompleteReason maps a Gemini finishReason to the reason of an
// incomplete response, or "" when the response is complete.
func incompleteReason(finish string) string {
	switch finish {
	case "MAX_TOKENS":
		return "max_output_tokens"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	}
	return ""
}

// Finish ends the response: it closes the open item and returns the last
// events, ending with response.completed (or response.incomplete when
// Gemini stopped at the token limit or a filter). It returns nothing when
// called again.
func (t *StreamTranslator) Finish() []Event {
	t.events = t.events[:0]
	if t.done {
		return nil
	}
	t.done = true
	t.start("")
	t.closeItem()
	reason := incompleteReason(t.finish)
	refusal := t.blocked
	if refusal != "" {
		reason = "content_filter"
	} else if reason == "content_filter" && !t.visible {
		refusal = t.filter
	}
	if refusal != "" {
		i := len(t.output)
		it := OutputItem{Type: "message", ID: "msg_" + t.meta.newID(), Status: "in_progress"}
		t.output = append(t.output, it)
		t.ev(Event{Type: "response.output_item.added", OutputIndex: i, Item: it})
		t.output[i].Refusal, t.output[i].Status = refusal, "completed"
		t.ev(Event{Type: "response.output_item.done", OutputIndex: i, Item: t.output[i]})
	}
	if reason != "" {
		t.final = t.response("incomplete")
		t.final.IncompleteDetails = &IncompleteDetails{Reason: reason}
		t.ev(Event{Type: "response.incomplete", Response: t.final})
	} else {
		t.final = t.response("completed")
		t.ev(Event{Type: "response.completed", Response: t.final})
	}
	return t.events
}

// Fail ends a stream that broke after its first event: response.failed
// with the error and the output so far. It returns nothing once the
// response has ended.
func (t *StreamTranslator) Fail(e *openai.Error) []Event {
	t.events = t.events[:0]
	if t.done {
		return nil
	}
	t.done = true
	t.start("")
	if t.open >= 0 {
		// The output so far, as the client saw it: the open item keeps its
		// status in_progress.
		it := &t.output[t.open]
		if it.Type == "message" {
			it.Text = t.buf.String()
		} else {
			it.Summary = t.buf.String()
		}
	}
	code := "server_error"
	if e.Status == http.StatusTooManyRequests {
		code = "rate_limit_exceeded"
	}
	t.final = t.response("failed")
	t.final.Error = &ResponseError{Code: code, Message: e.Message}
	t.ev(Event{Type: "response.failed", Response: t.final})
	return t.events
}

func (t *StreamTranslator) response(status string) *Response {
	r := &Response{ID: t.id, CreatedAt: t.meta.Created, Status: status, Model: t.model, Echo: t.meta.Echo}
	if status != "in_progress" {
		r.Output = t.output
		r.Usage = &Usage{}
		if t.usage != nil {
			r.Usage = UsageFrom(t.usage)
		}
	}
	return r
}

// UsageFrom maps Gemini usage metadata: input = prompt + tool-use prompt,
// output = candidates + thoughts, reasoning = thoughts, cached =
// cachedContentTokenCount.
func UsageFrom(u *gemini.UsageMetadata) *Usage {
	return &Usage{InputTokens: u.InputTokens(), CachedTokens: u.CachedContentTokenCount, OutputTokens: u.OutputTokens(), ReasoningTokens: u.ThoughtsTokenCount, TotalTokens: u.TotalTokens()}
}

// visibleText is what a non-thought part shows: its text, or generated
// images and code execution rendered as Markdown so nothing is lost.
func visibleText(p *gemini.Part) string {
	switch {
	case p.InlineData != nil:
		return "![image](data:" + p.InlineData.MIMEType + ";base64," + p.InlineData.Data + ")"
	case p.FileData != nil:
		return p.FileData.FileURI
	case p.ExecutableCode != nil:
		return "\n```" + strings.ToLower(p.ExecutableCode.Language) + "\n" + withNewline(p.ExecutableCode.Code) + "```\n"
	case p.CodeExecutionResult != nil:
		return "\n```output\n" + withNewline(p.CodeExecutionResult.Output) + "```\n"
	}
	return p.Text
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
