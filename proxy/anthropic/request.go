package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// Signatures keeps the thought signature of each tool call by tool_use id,
// for clients that replay a tool_use without the thinking block that
// carried its signature.
type Signatures interface {
	Remember(id, sig string)
	Lookup(id string) (string, bool)
}

// Options are what ToGemini needs from the server.
type Options struct {
	// ResolveModel maps the client's model name to a Gemini model id
	// (aliases, validation); nil takes the name as it is.
	ResolveModel func(name string) (string, error)
	// Fetch fetches image and document URLs; nil rejects them.
	Fetch gemini.FetchFunc
	// Signatures restores signatures by tool_use id; may be nil.
	Signatures Signatures
}

// Translated is a Messages request ready for Gemini.
type Translated struct {
	Model  string                         `json:"model"` // Gemini model id
	Stream bool                           `json:"stream"`
	Body   *gemini.GenerateContentRequest `json:"body"`
}

// ParseRequest decodes a Messages (or count_tokens) body. Unknown fields are
// ignored; malformed input is a 400 *Error.
func ParseRequest(data []byte) (*MessagesRequest, error) {
	var req MessagesRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, invalid("the request body is not a valid Messages request: %s", jsonProblem(err))
	}
	return &req, nil
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %s has the wrong type (%s)", e.Field, e.Value)
		}
		return fmt.Sprintf("wrong type (%s)", e.Value)
	case *json.SyntaxError:
		return fmt.Sprintf("malformed JSON at byte %d", e.Offset)
	}
	return err.Error()
}

// ToGemini translates a Messages request into a Gemini generateContent
// request. ctx bounds media fetches. Every error is an *Error (400).
func ToGemini(ctx context.Context, req *MessagesRequest, opts Options) (*Translated, error) {
	t, e := toGemini(ctx, req, opts, true)
	if e != nil {
		return nil, e
	}
	return t, nil
}

func toGemini(ctx context.Context, req *MessagesRequest, opts Options, generation bool) (*Translated, *Error) {
	if req == nil {
		return nil, invalid("the request is empty")
	}
	if req.Model == "" {
		return nil, invalid("model: field required")
	}
	model := req.Model
	if opts.ResolveModel != nil {
		m, err := opts.ResolveModel(req.Model)
		if err != nil {
			return nil, invalid("model: %s", err.Error())
		}
		model = m
	}
	if generation && req.MaxTokens == nil {
		return nil, invalid("max_tokens: field required")
	}
	body := &gemini.GenerateContentRequest{}
	tr := &translator{ctx: ctx, opts: opts, names: map[string]string{}}
	sys, e := tr.system(req.System)
	if e != nil {
		return nil, e
	}
	if e := tr.messages(req.Messages, body, &sys); e != nil {
		return nil, e
	}
	if len(sys) > 0 {
		body.SystemInstruction = &gemini.Content{Parts: sys}
	}
	if e := tools(req, body); e != nil {
		return nil, e
	}
	gc, e := generationConfig(req, model)
	if e != nil {
		return nil, e
	}
	body.GenerationConfig = gc
	return &Translated{Model: model, Stream: req.Stream, Body: body}, nil
}

// CountTokensRequest is the body of Gemini's countTokens for a Messages
// request.
type CountTokensRequest struct {
	GenerateContentRequest countTokensInner `json:"generateContentRequest"`
}

type countTokensInner struct {
	Model             string           `json:"model"`
	Contents          []gemini.Content `json:"contents"`
	SystemInstruction *gemini.Content  `json:"systemInstruction,omitempty"`
	Tools             []gemini.Tool    `json:"tools,omitempty"`
}

// ToCountTokens translates a count_tokens request (max_tokens not needed)
// into a Gemini countTokens body for model.
func ToCountTokens(ctx context.Context, req *MessagesRequest, opts Options) (model string, body *CountTokensRequest, err error) {
	t, e := toGemini(ctx, req, opts, false)
	if e != nil {
		return "", nil, e
	}
	return t.Model, &CountTokensRequest{GenerateContentRequest: countTokensInner{
		Model:             "models/" + t.Model,
		Contents:          t.Body.Contents,
		SystemInstruction: t.Body.SystemInstruction,
		Tools:             t.Body.Tools,
	}}, nil
}

// CountTokensFromGemini turns Gemini's countTokens answer into
// {"input_tokens": N}.
func CountTokensFromGemini(body []byte) (*CountTokensResponse, error) {
	var r struct {
		TotalTokens int64 `json:"totalTokens"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Type: "api_error", Message: "the upstream countTokens answer is not valid JSON"}
	}
	return &CountTokensResponse{InputTokens: r.TotalTokens}, nil
}

type translator struct {
	ctx   context.Context
	opts  Options
	names map[string]string // tool_use id → function name
}

// system reads the top-level system prompt: a string or text blocks
// (cache_control ignored).
func (t *translator) system(raw json.RawMessage) ([]gemini.Part, *Error) {
	blocks, e := decodeContent(raw, "system")
	if e != nil {
		return nil, e
	}
	var out []gemini.Part
	for i, b := range blocks {
		if b.Type != "text" {
			return nil, invalid("system[%d].type: %q is not allowed in system; use text blocks", i, b.Type)
		}
		if b.Text != "" {
			out = append(out, gemini.Part{Text: b.Text})
		}
	}
	return out, nil
}

// decodeContent reads a content field: a string (one text block), an
// array of blocks, or nothing.
func decodeContent(raw json.RawMessage, at string) ([]Block, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid("%s: not a valid JSON string", at)
		}
		return []Block{{Type: "text", Text: s}}, nil
	case '[':
		var blocks []Block
		if err := json.Unmarshal(raw, &blocks); err != nil {
			return nil, invalid("%s: %s", at, jsonProblem(err))
		}
		return blocks, nil
	}
	return nil, invalid("%s: must be a string or an array of content blocks", at)
}

// messages converts the conversation. Messages with role "system" add to
// the system instruction, in order; consecutive turns of one role are
// merged (Gemini wants them alternating).
func (t *translator) messages(msgs []Message, body *gemini.GenerateContentRequest, sys *[]gemini.Part) *Error {
	for i := range msgs {
		m := &msgs[i]
		at := fmt.Sprintf("messages[%d]", i)
		blocks, e := decodeContent(m.Content, at+".content")
		if e != nil {
			return e
		}
		var parts []gemini.Part
		role := ""
		switch m.Role {
		case "system":
			for j, b := range blocks {
				if b.Type != "text" {
					return invalid("%s.content[%d].type: a system message can only hold text", at, j)
				}
				if b.Text != "" {
					*sys = append(*sys, gemini.Part{Text: b.Text})
				}
			}
			continue
		case "user":
			role = "user"
			parts, e = t.userParts(blocks, at)
		case "assistant":
			role = "model"
			parts, e = t.assistantParts(blocks, at)
		case "":
			return invalid("%s.role: field required", at)
		default:
			return invalid("%s.role: %q is not supported; use user or assistant", at, m.Role)
		}
		if e != nil {
			return e
		}
		body.Contents = gemini.AppendTurn(body.Contents, role, parts...)
	}
	if len(body.Contents) == 0 {
		return invalid("messages: at least one message with content is required")
	}
	return nil
}

func (t *translator) userParts(blocks []Block, at string) ([]gemini.Part, *Error) {
	out := make([]gemini.Part, 0, len(blocks))
	for j := range blocks {
		b := &blocks[j]
		bp := fmt.Sprintf("%s.content[%d]", at, j)
		switch b.Type {
		case "text":
			if b.Text != "" {
				out = append(out, gemini.Part{Text: b.Text})
			}
		case "image", "document":
			parts, e := t.media(b, bp)
			if e != nil {
				return nil, e
			}
			out = append(out, parts...)
		case "tool_result":
			parts, e := t.toolResult(b, bp)
			if e != nil {
				return nil, e
			}
			out = append(out, parts...)
		case "thinking", "redacted_thinking":
			// Only assistant turns think; a stray block is ignored.
		case "":
			return nil, invalid("%s.type: field required", bp)
		default:
			return nil, invalid("%s.type: %q is not supported in a user message; use text, image, document or tool_result", bp, b.Type)
		}
	}
	return out, nil
}

// assistantParts converts an assistant turn. A thinking block becomes a
// thought part with its signature; a thinking block without text (what
// FromGemini and the stream emit for a signature Gemini put on an answer
// or function-call part) gives its signature to the next part of the turn,
// or, at the end of the turn, to its last unsigned answer part.
func (t *translator) assistantParts(blocks []Block, at string) ([]gemini.Part, *Error) {
	out := make([]gemini.Part, 0, len(blocks))
	pending := ""
	calls := 0
	take := func() string { s := pending; pending = ""; return s }
	for j := range blocks {
		b := &blocks[j]
		bp := fmt.Sprintf("%s.content[%d]", at, j)
		switch b.Type {
		case "text":
			if b.Text == "" && pending == "" {
				continue
			}
			out = append(out, gemini.Part{Text: b.Text, ThoughtSignature: take()})
		case "thinking":
			if b.Thinking == "" {
				if b.Signature != "" {
					pending = b.Signature
				}
				continue
			}
			out = append(out, gemini.Part{Text: b.Thinking, Thought: true, ThoughtSignature: b.Signature})
		case "redacted_thinking":
			// Anthropic's encrypted thinking means nothing to Gemini.
		case "tool_use":
			part, e := t.toolUse(b, bp, take(), calls == 0)
			if e != nil {
				return nil, e
			}
			calls++
			out = append(out, part)
		case "":
			return nil, invalid("%s.type: field required", bp)
		default:
			return nil, invalid("%s.type: %q is not supported in an assistant message; use text, thinking or tool_use", bp, b.Type)
		}
	}
	if pending != "" {
		signLast(out, pending)
	}
	return out, nil
}

// toolUse converts a tool_use block of an assistant turn to a function
// call signed with sig, else with the signature remembered for its id,
// else, for the turn's first call, with gemini.SkipThoughtSignature.
func (t *translator) toolUse(b *Block, bp, sig string, first bool) (gemini.Part, *Error) {
	if b.Name == "" {
		return gemini.Part{}, invalid("%s.name: field required", bp)
	}
	args := bytes.TrimSpace(b.Input)
	switch {
	case len(args) == 0 || string(args) == "null":
		args = []byte("{}")
	case args[0] != '{':
		return gemini.Part{}, invalid("%s.input: must be an object", bp)
	}
	if sig == "" && b.ID != "" && t.opts.Signatures != nil {
		sig, _ = t.opts.Signatures.Lookup(b.ID)
	}
	if sig == "" && first {
		sig = gemini.SkipThoughtSignature
	}
	if b.ID != "" {
		t.names[b.ID] = b.Name
	}
	return gemini.Part{FunctionCall: &gemini.FunctionCall{Name: b.Name, Args: json.RawMessage(args)}, ThoughtSignature: sig}, nil
}

// signLast gives sig, a signature after the turn's last block, to the
// turn's last unsigned answer part (where Gemini puts the signature of a
// streamed answer); a part of its own, with no data, would be refused.
func signLast(out []gemini.Part, sig string) {
	for i := len(out) - 1; i >= 0; i-- {
		if !out[i].Thought && out[i].ThoughtSignature == "" {
			out[i].ThoughtSignature = sig
			return
		}
	}
}

// toolResult converts a tool_result block: a functionResponse named after
// the matching tool_use ({"output": text}, or {"error": text} when
// is_error), followed by any images or documents of its content.
func (t *translator) toolResult(b *Block, at string) ([]gemini.Part, *Error) {
	if b.ToolUseID == "" {
		return nil, invalid("%s.tool_use_id: field required", at)
	}
	name, ok := t.names[b.ToolUseID]
	if !ok {
		return nil, invalid("%s.tool_use_id: %q matches no tool_use block of an earlier assistant message", at, b.ToolUseID)
	}
	inner, e := decodeContent(b.Content, at+".content")
	if e != nil {
		return nil, e
	}
	var text strings.Builder
	var media []gemini.Part
	for k := range inner {
		ib := &inner[k]
		switch ib.Type {
		case "text":
			if text.Len() > 0 && ib.Text != "" {
				text.WriteByte('\n')
			}
			text.WriteString(ib.Text)
		case "image", "document":
			parts, e := t.media(ib, fmt.Sprintf("%s.content[%d]", at, k))
			if e != nil {
				return nil, e
			}
			media = append(media, parts...)
		case "tool_reference":
			// Claude Code's ToolSearch answers with references to deferred
			// tools; Gemini was offered those tools from the start.
			if text.Len() > 0 {
				text.WriteByte('\n')
			}
			text.WriteString("Tool " + ib.ToolName + " is available.")
		default:
			return nil, invalid("%s.content[%d].type: %q is not supported in a tool_result; use text, image, document or tool_reference", at, k, ib.Type)
		}
	}
	key := "output"
	if b.IsError {
		key = "error"
	}
	resp, _ := json.Marshal(map[string]string{key: text.String()})
	out := make([]gemini.Part, 0, 1+len(media))
	out = append(out, gemini.Part{FunctionResponse: &gemini.FunctionResponse{Name: name, Response: resp}})
	return append(out, media...), nil
}

// media converts an image or document block.
func (t *translator) media(b *Block, at string) ([]gemini.Part, *Error) {
	s := b.Source
	if s == nil {
		return nil, invalid("%s.source: field required", at)
	}
	switch s.Type {
	case "base64":
		if s.MediaType == "" || s.Data == "" {
			return nil, invalid("%s.source: media_type and data are required for base64", at)
		}
		return []gemini.Part{{InlineData: &gemini.Blob{MIMEType: s.MediaType, Data: s.Data}}}, nil
	case "url":
		return t.urlMedia(strings.TrimSpace(s.URL), s.MediaType, at)
	case "text":
		if b.Type != "document" {
			return nil, invalid("%s.source.type: text sources are for documents", at)
		}
		text := s.Data
		if b.Title != "" {
			text = b.Title + "\n\n" + text
		}
		return []gemini.Part{{Text: text}}, nil
	case "content":
		return t.contentMedia(s.Content, at)
	case "file":
		return nil, invalid("%s.source: Anthropic Files API ids (%s) cannot be read here; send the data as base64", at, s.FileID)
	case "":
		return nil, invalid("%s.source.type: field required", at)
	}
	return nil, invalid("%s.source.type: %q is not supported; use base64, url, text or content", at, s.Type)
}

// urlMedia converts a url source: a Gemini Files API URL as file data,
// any other URL fetched (when the request may fetch) and sent inline.
func (t *translator) urlMedia(u, mediaType, at string) ([]gemini.Part, *Error) {
	if gemini.IsFilesURI(u) {
		return []gemini.Part{{FileData: &gemini.FileData{FileURI: u, MIMEType: mediaType}}}, nil
	}
	if t.opts.Fetch == nil {
		return nil, invalid("%s.source.url: URLs are not supported here; send the data as base64", at)
	}
	blob, err := t.opts.Fetch(t.ctx, u)
	if err != nil {
		return nil, invalid("%s.source.url: could not fetch it: %s", at, gemini.Redact(err.Error()))
	}
	if blob == nil || blob.Data == "" {
		return nil, invalid("%s.source.url: the URL returned no data", at)
	}
	return []gemini.Part{{InlineData: blob}}, nil
}

// contentMedia converts a document's content source: text and image
// blocks.
func (t *translator) contentMedia(content json.RawMessage, at string) ([]gemini.Part, *Error) {
	inner, e := decodeContent(content, at+".source.content")
	if e != nil {
		return nil, e
	}
	var out []gemini.Part
	for k := range inner {
		ib := &inner[k]
		switch ib.Type {
		case "text":
			if ib.Text != "" {
				out = append(out, gemini.Part{Text: ib.Text})
			}
		case "image":
			parts, e := t.media(ib, fmt.Sprintf("%s.source.content[%d]", at, k))
			if e != nil {
				return nil, e
			}
			out = append(out, parts...)
		default:
			return nil, invalid("%s.source.content[%d].type: %q is not supported; use text or image", at, k, ib.Type)
		}
	}
	return out, nil
}

// tools converts custom tools and tool_choice.
func tools(req *MessagesRequest, body *gemini.GenerateContentRequest) *Error {
	var decls []gemini.FunctionDeclaration
	declared := map[string]bool{}
	for i := range req.Tools {
		tl := &req.Tools[i]
		at := fmt.Sprintf("tools[%d]", i)
		if tl.Type != "" && tl.Type != "custom" {
			return invalid("%s.type: server tool %q is not supported by this proxy; only custom tools are", at, tl.Type)
		}
		if !gemini.ValidFunctionName(tl.Name) {
			return invalid("%s.name: %q must be 1 to 128 letters, digits, '_' or '-'", at, tl.Name)
		}
		if declared[tl.Name] {
			return invalid("%s.name: %q is declared twice", at, tl.Name)
		}
		declared[tl.Name] = true
		d := gemini.FunctionDeclaration{Name: tl.Name, Description: tl.Description}
		if s := bytes.TrimSpace(tl.InputSchema); len(s) > 0 && string(s) != "null" {
			clean, err := gemini.CleanSchema(s, at+".input_schema")
			if err != nil {
				return invalid("%s", err.Error())
			}
			d.ParametersJSONSchema = clean
		}
		decls = append(decls, d)
	}
	if len(decls) > 0 {
		body.Tools = []gemini.Tool{{FunctionDeclarations: decls}}
	}
	tc := req.ToolChoice
	if tc == nil {
		return nil
	}
	fc := &gemini.FunctionCallingConfig{}
	switch tc.Type {
	case "auto", "":
		fc.Mode = "AUTO"
	case "any":
		fc.Mode = "ANY"
	case "none":
		fc.Mode = "NONE"
	case "tool":
		if !declared[tc.Name] {
			return invalid("tool_choice.name: %q is not one of the tools", tc.Name)
		}
		fc.Mode, fc.AllowedFunctionNames = "ANY", []string{tc.Name}
	default:
		return invalid("tool_choice.type: %q is not supported; use auto, any, tool or none", tc.Type)
	}
	if len(decls) == 0 {
		return nil // nothing to choose from; Gemini rejects a tool config without tools
	}
	body.ToolConfig = &gemini.ToolConfig{FunctionCallingConfig: fc}
	return nil
}

// Thinking budgets (Gemini 2.5) and levels (Gemini 3+) for
// output_config.effort, on the steps proxy/openai uses for
// reasoning_effort; "max" is the largest budget every 2.5 model takes.
var (
	effortBudgets = map[string]int{"low": 1024, "medium": 8192, "high": 24576, "max": 24576}
	effortLevels  = map[string]string{"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "max": "HIGH"}
)

// generationConfig maps the sampling fields, max_tokens (clamped to the
// model's output limit), structured output and thinking.
func generationConfig(req *MessagesRequest, model string) (*gemini.GenerationConfig, *Error) {
	gc := &gemini.GenerationConfig{Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK}
	if len(req.StopSequences) > 0 {
		gc.StopSequences = req.StopSequences
	}
	if req.MaxTokens != nil {
		n := *req.MaxTokens
		if n < 1 {
			return nil, invalid("max_tokens: must be at least 1")
		}
		if limit := gemini.MaxOutputTokens(model); limit > 0 && n > limit {
			n = limit
		}
		gc.MaxOutputTokens = &n
	}
	if oc := req.OutputConfig; oc != nil && oc.Format != nil {
		if oc.Format.Type != "json_schema" {
			return nil, invalid("output_config.format.type: %q is not supported; use json_schema", oc.Format.Type)
		}
		gc.ResponseMIMEType = "application/json"
		if s := bytes.TrimSpace(oc.Format.Schema); len(s) > 0 {
			clean, err := gemini.CleanSchema(s, "output_config.format.schema")
			if err != nil {
				return nil, invalid("%s", err.Error())
			}
			gc.ResponseJSONSchema = clean
		}
	}
	tc, e := thinkingConfig(req, model)
	if e != nil {
		return nil, e
	}
	gc.ThinkingConfig = tc
	return gc, nil
}

// thinkingConfig maps thinking and output_config.effort. enabled sends
// budget_tokens as thinkingBudget (Gemini 2.5) or the nearest level
// (Gemini 3+); adaptive lets the model decide (dynamic budget), or uses the
// effort's level or budget; disabled turns thinking off (budget 0, level
// MINIMAL on Gemini 3, which cannot switch it off). Thought text is asked
// for unless display is "omitted". Without a thinking field the model's
// default stands and no thought text is asked for (Anthropic's default).
func thinkingConfig(req *MessagesRequest, model string) (*gemini.ThinkingConfig, *Error) {
	effort := ""
	if req.OutputConfig != nil && req.OutputConfig.Effort != "" {
		effort = strings.ToLower(req.OutputConfig.Effort)
		if _, ok := effortBudgets[effort]; !ok {
			return nil, invalid("output_config.effort: %q is not supported; use low, medium, high or max", req.OutputConfig.Effort)
		}
	}
	level := gemini.UsesThinkingLevel(model)
	th := req.Thinking
	if th == nil {
		if effort == "" {
			return nil, nil
		}
		th = &Thinking{Type: "adaptive", Display: "omitted"}
	}
	out := &gemini.ThinkingConfig{IncludeThoughts: th.Display != "omitted"}
	switch th.Type {
	case "enabled":
		if th.BudgetTokens < 1 {
			return nil, invalid("thinking.budget_tokens: required and at least 1 when thinking is enabled")
		}
		if level {
			out.ThinkingLevel = levelForBudget(th.BudgetTokens)
		} else {
			b := min(th.BudgetTokens, 32768)
			out.ThinkingBudget = &b
		}
	case "adaptive":
		switch {
		case effort != "" && level:
			out.ThinkingLevel = effortLevels[effort]
		case effort != "":
			b := effortBudgets[effort]
			out.ThinkingBudget = &b
		case !level:
			b := -1
			out.ThinkingBudget = &b
		}
	case "disabled":
		out.IncludeThoughts = false
		if level {
			out.ThinkingLevel = "MINIMAL"
		} else {
			b := 0
			out.ThinkingBudget = &b
		}
	default:
		return nil, invalid("thinking.type: %q is not supported; use enabled, adaptive or disabled", th.Type)
	}
	return out, nil
}

// levelForBudget picks the Gemini 3 thinking level nearest a token budget.
func levelForBudget(n int) string {
	switch {
	case n <= 2048:
		return "LOW"
	case n <= 12288:
		return "MEDIUM"
	}
	return "HIGH"
}
