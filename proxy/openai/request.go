package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// RequestOptions are the settings ToGemini needs from the server.
type RequestOptions struct {
	// Aliases maps model names clients hard-code (e.g. "gpt-4o-mini") to
	// Gemini models. Names not in the table pass through unchanged.
	Aliases map[string]string
	// FetchImage fetches http(s) image URLs; nil rejects them with a 400.
	FetchImage gemini.FetchFunc
	// Signatures restores the thought signature of a replayed tool call
	// that has none in extra_content, by tool call id (see
	// ResponseMeta.Signatures). nil: only the placeholder is used.
	Signatures *SignatureCache
}

// Translated is a chat request ready for Gemini.
type Translated struct {
	// Model is the Gemini model id, without "models/".
	Model string
	// Stream: call :streamGenerateContent?alt=sse and translate with a
	// StreamTranslator.
	Stream bool
	// IncludeUsage is stream_options.include_usage: end the stream with a
	// usage chunk.
	IncludeUsage bool
	// Body is the generateContent request body.
	Body *gemini.GenerateContentRequest
}

// ParseChatRequest decodes a chat completions body. Unknown fields are
// ignored; malformed input is an *Error with status 400 naming the field.
func ParseChatRequest(data []byte) (*ChatRequest, error) {
	var req ChatRequest
	if e := decodeBody(data, &req); e != nil {
		if strings.HasPrefix(e.Param, "messages.") || strings.HasPrefix(e.Param, "tools.") {
			return nil, locateArrayError(data, e)
		}
		return nil, e
	}
	if req.Model == "" {
		return nil, invalid("model", "model is required")
	}
	if len(req.Messages) == 0 {
		return nil, invalid("messages", "messages must be a non-empty array")
	}
	return &req, nil
}

func decodeBody(data []byte, v any) *Error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return invalid("", "the request body is empty; expected a JSON object")
	}
	if data[0] != '{' {
		return invalid("", "the request body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return decodeError(err)
	}
	return nil
}

func decodeError(err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return invalid("", "the request body is not valid JSON: %v", err)
	case errors.As(err, &te):
		param := fieldPath(te.Field)
		if param == "" {
			return invalid("", "the request body must be a JSON object")
		}
		return invalid(param, "%s must be %s, not a JSON %s", param, typeName(te.Type), te.Value)
	default:
		return invalid("", "invalid request body: %v", err)
	}
}

// locateArrayError finds which element of messages or tools a type error is
// in (encoding/json does not say) and names it, e.g. messages[2].role.
func locateArrayError(data []byte, e *Error) *Error {
	var arrays struct {
		Messages []json.RawMessage `json:"messages"`
		Tools    []json.RawMessage `json:"tools"`
	}
	if json.Unmarshal(data, &arrays) != nil {
		return e
	}
	name, items := "messages", arrays.Messages
	var v any = &Message{}
	if strings.HasPrefix(e.Param, "tools.") {
		name, items, v = "tools", arrays.Tools, &Tool{}
	}
	for i, item := range items {
		if err := json.Unmarshal(item, v); err != nil {
			inner := decodeError(err)
			prefix := fmt.Sprintf("%s[%d]", name, i)
			if inner.Param == "" {
				return invalid(prefix, "%s must be an object", prefix)
			}
			param := prefix + "." + inner.Param
			return invalid(param, "%s%s", prefix+".", inner.Message)
		}
	}
	return e
}

// fieldPath turns encoding/json's "messages.0.content" into
// "messages[0].content".
func fieldPath(f string) string {
	if f == "" {
		return ""
	}
	var b strings.Builder
	for i, seg := range strings.Split(f, ".") {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			b.WriteString("[" + seg + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// ResolveModel maps a client's model name to a Gemini model id: a leading
// "models/" is removed, then the alias table is applied. Names that cannot be
// a Gemini model id are a 400 (they end up in the upstream URL path).
func ResolveModel(name string, aliases map[string]string) (string, error) {
	m, e := resolveModel(name, aliases)
	if e != nil {
		return "", e
	}
	return m, nil
}

func resolveModel(name string, aliases map[string]string) (string, *Error) {
	if name == "" {
		return "", invalid("model", "model is required")
	}
	m := name
	if a, ok := aliases[m]; ok {
		m = a
	} else if s := strings.TrimPrefix(m, "models/"); s != m {
		m = s
		if a, ok := aliases[m]; ok {
			m = a
		}
	}
	m = strings.TrimPrefix(m, "models/")
	if !validModelID(m) {
		return "", invalid("model", "model %q is not a valid Gemini model name (letters, digits, '.', '_' and '-')", name)
	}
	return m, nil
}

func validModelID(m string) bool {
	if m == "" || len(m) > 128 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return m != "." && m != ".."
}

// ToGemini translates a parsed chat request into a Gemini generateContent
// call. ctx bounds image fetches. Every error is an *Error (400).
func ToGemini(ctx context.Context, req *ChatRequest, opts RequestOptions) (*Translated, error) {
	t, e := toGemini(ctx, req, opts)
	if e != nil {
		return nil, e
	}
	return t, nil
}

func toGemini(ctx context.Context, req *ChatRequest, opts RequestOptions) (*Translated, *Error) {
	if req == nil {
		return nil, invalid("", "the request is empty")
	}
	model, e := resolveModel(req.Model, opts.Aliases)
	if e != nil {
		return nil, e
	}
	body := &gemini.GenerateContentRequest{}
	tb := translator{ctx: ctx, fetch: opts.FetchImage, sigs: opts.Signatures, names: map[string]string{}}
	if e := tb.messages(req.Messages, body); e != nil {
		return nil, e
	}
	if e := tools(req, body); e != nil {
		return nil, e
	}
	gc, e := generationConfig(req)
	if e != nil {
		return nil, e
	}
	body.GenerationConfig = gc

	g := req.Google
	if g == nil && req.ExtraBody != nil {
		g = req.ExtraBody.Google
	}
	var tc *ThinkingConfig
	if g != nil {
		tc = g.ThinkingConfig
		for _, s := range g.SafetySettings {
			body.SafetySettings = append(body.SafetySettings, gemini.SafetySetting(s))
		}
		if cc := strings.TrimSpace(g.CachedContent); cc != "" {
			if !strings.Contains(cc, "/") {
				cc = "cachedContents/" + cc
			}
			body.CachedContent = cc
		}
	}
	think, e := thinkingConfig(model, req.ReasoningEffort, tc)
	if e != nil {
		return nil, e
	}
	if think != nil {
		if body.GenerationConfig == nil {
			body.GenerationConfig = &gemini.GenerationConfig{}
		}
		body.GenerationConfig.ThinkingConfig = think
	}
	return &Translated{
		Model:        model,
		Stream:       req.Stream,
		IncludeUsage: req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage,
		Body:         body,
	}, nil
}

type translator struct {
	ctx   context.Context
	fetch gemini.FetchFunc
	sigs  *SignatureCache
	names map[string]string // tool call id → function name
}

func (t *translator) messages(msgs []Message, body *gemini.GenerateContentRequest) *Error {
	var sys []gemini.Part
	lastTool := false // the previous turn is a merged tool-response turn
	for i := range msgs {
		m := &msgs[i]
		p := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "developer":
			parts, e := t.parts(m.Content, p+".content", textOnly)
			if e != nil {
				return e
			}
			sys = append(sys, parts...)
		case "user":
			lastTool = false
			parts, e := t.parts(m.Content, p+".content", anyPart)
			if e != nil {
				return e
			}
			if len(parts) > 0 {
				body.Contents = append(body.Contents, gemini.Content{Role: "user", Parts: parts})
			}
		case "assistant":
			lastTool = false
			parts, e := t.parts(m.Content, p+".content", textOnly)
			if e != nil {
				return e
			}
			calls, e := t.toolCalls(m.ToolCalls, p)
			if e != nil {
				return e
			}
			parts = append(parts, calls...)
			if len(parts) > 0 {
				body.Contents = append(body.Contents, gemini.Content{Role: "model", Parts: parts})
			}
		case "tool":
			part, e := t.toolResult(m, p)
			if e != nil {
				return e
			}
			if lastTool {
				last := &body.Contents[len(body.Contents)-1]
				last.Parts = append(last.Parts, part)
			} else {
				body.Contents = append(body.Contents, gemini.Content{Role: "user", Parts: []gemini.Part{part}})
			}
			lastTool = true
		case "function":
			return invalid(p+".role", "%s.role \"function\" (the deprecated function-calling API) is not supported; use tools and tool messages", p)
		case "":
			return invalid(p+".role", "%s.role is required", p)
		default:
			return invalid(p+".role", "%s.role %q is not supported; use system, developer, user, assistant or tool", p, m.Role)
		}
	}
	if len(sys) > 0 {
		body.SystemInstruction = &gemini.Content{Parts: sys}
	}
	if len(body.Contents) == 0 {
		return invalid("messages", "messages must include at least one user or assistant message with content")
	}
	return nil
}

type partPolicy int

const (
	textOnly partPolicy = iota
	anyPart
)

// parts converts a message content (string, array of parts or null).
func (t *translator) parts(raw json.RawMessage, p string, policy partPolicy) ([]gemini.Part, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(p, "%s is not a valid JSON string", p)
		}
		if s == "" {
			return nil, nil
		}
		return []gemini.Part{{Text: s}}, nil
	case '[':
	default:
		return nil, invalid(p, "%s must be a string or an array of content parts", p)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid(p, "%s must be a string or an array of content parts", p)
	}
	out := make([]gemini.Part, 0, len(items))
	for j, item := range items {
		pp := fmt.Sprintf("%s[%d]", p, j)
		var cp ContentPart
		if err := json.Unmarshal(item, &cp); err != nil {
			return nil, invalid(pp, "%s must be a content part object ({\"type\": ...})", pp)
		}
		part, ok, e := t.part(&cp, pp, policy)
		if e != nil {
			return nil, e
		}
		if ok {
			out = append(out, part)
		}
	}
	return out, nil
}

// part converts one content part at path pp; ok is false for a part that
// carries nothing (empty text or refusal).
func (t *translator) part(cp *ContentPart, pp string, policy partPolicy) (part gemini.Part, ok bool, e *Error) {
	switch cp.Type {
	case "text", "input_text", "output_text":
		if cp.Text == nil {
			return part, false, invalid(pp+".text", "%s.text is required for a text part", pp)
		}
		return gemini.Part{Text: *cp.Text}, *cp.Text != "", nil
	case "refusal":
		if cp.Refusal == nil {
			return part, false, nil
		}
		return gemini.Part{Text: *cp.Refusal}, *cp.Refusal != "", nil
	case "":
		return part, false, invalid(pp+".type", "%s.type is required", pp)
	}
	if policy == textOnly {
		return part, false, invalid(pp+".type", "%s.type %q is not allowed here: this message can only hold text", pp, cp.Type)
	}
	switch cp.Type {
	case "image_url", "input_image":
		u, ok := imageURLOf(cp.ImageURL)
		if !ok {
			return part, false, invalid(pp+".image_url", "%s.image_url must be an object with a url", pp)
		}
		part, e = imagePart(t.ctx, u, pp+".image_url", t.fetch)
	case "input_audio":
		part, e = audioPart(cp.InputAudio, pp+".input_audio")
	case "file":
		part, e = filePart(cp.File, pp+".file")
	default:
		return part, false, invalid(pp+".type", "%s.type %q is not supported; use text, image_url, input_audio or file", pp, cp.Type)
	}
	return part, e == nil, e
}

func imageURLOf(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	var u ImageURL
	if json.Unmarshal(raw, &u) != nil {
		return "", false
	}
	return u.URL, true
}

func (t *translator) toolCalls(calls []ToolCall, p string) ([]gemini.Part, *Error) {
	if len(calls) == 0 {
		return nil, nil
	}
	out := make([]gemini.Part, 0, len(calls))
	for j := range calls {
		tc := &calls[j]
		tp := fmt.Sprintf("%s.tool_calls[%d]", p, j)
		if tc.Type != "" && tc.Type != "function" {
			return nil, invalid(tp+".type", "%s.type %q is not supported; only function tool calls are", tp, tc.Type)
		}
		if tc.Function.Name == "" {
			return nil, invalid(tp+".function.name", "%s.function.name is required", tp)
		}
		args := bytes.TrimSpace([]byte(tc.Function.Arguments))
		switch {
		case len(args) == 0:
			args = []byte("{}")
		case args[0] != '{' || !json.Valid(args):
			return nil, invalid(tp+".function.arguments", "%s.function.arguments must be a JSON object encoded as a string", tp)
		}
		sig := ""
		if tc.ExtraContent != nil && tc.ExtraContent.Google != nil {
			sig = tc.ExtraContent.Google.ThoughtSignature
		}
		if sig == "" && tc.ID != "" {
			// The client dropped extra_content: restore the signature
			// Gemini gave this call, if this proxy returned it.
			sig, _ = t.sigs.Lookup(tc.ID)
		}
		if sig == "" && j == 0 {
			sig = gemini.SkipThoughtSignature
		}
		if tc.ID != "" {
			t.names[tc.ID] = tc.Function.Name
		}
		out = append(out, gemini.Part{
			FunctionCall:     &gemini.FunctionCall{Name: tc.Function.Name, Args: json.RawMessage(args)},
			ThoughtSignature: sig,
		})
	}
	return out, nil
}

func (t *translator) toolResult(m *Message, p string) (gemini.Part, *Error) {
	if m.ToolCallID == "" {
		return gemini.Part{}, invalid(p+".tool_call_id", "%s.tool_call_id is required for a tool message", p)
	}
	name, ok := t.names[m.ToolCallID]
	if !ok {
		return gemini.Part{}, invalid(p+".tool_call_id", "%s.tool_call_id %q matches no tool call of an earlier assistant message", p, m.ToolCallID)
	}
	parts, e := t.parts(m.Content, p+".content", textOnly)
	if e != nil {
		return gemini.Part{}, e
	}
	var text strings.Builder
	for _, part := range parts {
		text.WriteString(part.Text)
	}
	s := text.String()
	trimmed := strings.TrimSpace(s)
	var resp json.RawMessage
	if strings.HasPrefix(trimmed, "{") && json.Valid([]byte(trimmed)) {
		resp = json.RawMessage(trimmed)
	} else {
		b, _ := json.Marshal(struct {
			Output string `json:"output"`
		}{s})
		resp = b
	}
	return gemini.Part{FunctionResponse: &gemini.FunctionResponse{Name: name, Response: resp}}, nil
}

// tools maps the function tools and tool_choice to Gemini's tools and
// function calling config.
func tools(req *ChatRequest, body *gemini.GenerateContentRequest) *Error {
	decls, declared, e := functionDeclarations(req.Tools)
	if e != nil {
		return e
	}
	if len(decls) > 0 {
		body.Tools = []gemini.Tool{{FunctionDeclarations: decls}}
	}
	return toolChoice(req.ToolChoice, declared, body)
}

// functionDeclarations checks the tools (function tools only) and returns
// their declarations and the set of declared names.
func functionDeclarations(ts []Tool) ([]gemini.FunctionDeclaration, map[string]bool, *Error) {
	declared := map[string]bool{}
	var decls []gemini.FunctionDeclaration
	for i, tl := range ts {
		tp := fmt.Sprintf("tools[%d]", i)
		if tl.Type != "function" && tl.Type != "" {
			return nil, nil, invalid(tp+".type", "%s.type %q is not supported; only function tools are", tp, tl.Type)
		}
		f := tl.Function
		if f == nil {
			return nil, nil, invalid(tp+".function", "%s.function is required", tp)
		}
		if !gemini.ValidFunctionName(f.Name) {
			return nil, nil, invalid(tp+".function.name", "%s.function.name %q cannot be used with Gemini: use letters, digits, '_', '-', '.' or ':' (at most 128)", tp, f.Name)
		}
		d := gemini.FunctionDeclaration{Name: f.Name, Description: f.Description}
		if ps := bytes.TrimSpace(f.Parameters); len(ps) > 0 && string(ps) != "null" {
			clean, e := cleanSchema(ps, tp+".function.parameters")
			if e != nil {
				return nil, nil, e
			}
			d.ParametersJSONSchema = clean
		}
		declared[f.Name] = true
		decls = append(decls, d)
	}
	return decls, declared, nil
}

// ToolChoiceMode maps a tool_choice string of OpenAI's APIs (Chat
// Completions and Responses) to Gemini's function calling mode: none →
// NONE, auto → AUTO, required → ANY; ok is false for any other string.
func ToolChoiceMode(s string) (mode string, ok bool) {
	switch s {
	case "none":
		return "NONE", true
	case "auto":
		return "AUTO", true
	case "required":
		return "ANY", true
	}
	return "", false
}

// toolChoice maps tool_choice, a string or a named function among
// declared, to Gemini's function calling config.
func toolChoice(raw json.RawMessage, declared map[string]bool, body *gemini.GenerateContentRequest) *Error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var mode string
	var allowed []string
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		var ok bool
		if mode, ok = ToolChoiceMode(s); !ok {
			return invalid("tool_choice", "tool_choice %q is not supported; use none, auto, required or a function", s)
		}
	} else {
		var tc struct {
			Type     string `json:"type"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(raw, &tc); err != nil {
			return invalid("tool_choice", "tool_choice must be a string or an object")
		}
		if tc.Type != "function" {
			return invalid("tool_choice.type", "tool_choice.type %q is not supported; use {\"type\":\"function\",\"function\":{\"name\":...}}", tc.Type)
		}
		if tc.Function == nil || tc.Function.Name == "" {
			return invalid("tool_choice.function.name", "tool_choice.function.name is required")
		}
		if !declared[tc.Function.Name] {
			return invalid("tool_choice.function.name", "tool_choice names function %q, which is not in tools", tc.Function.Name)
		}
		mode, allowed = "ANY", []string{tc.Function.Name}
	}
	if len(declared) == 0 {
		if mode == "ANY" {
			return invalid("tool_choice", "tool_choice requires tools")
		}
		return nil
	}
	body.ToolConfig = &gemini.ToolConfig{FunctionCallingConfig: &gemini.FunctionCallingConfig{Mode: mode, AllowedFunctionNames: allowed}}
	return nil
}

func generationConfig(req *ChatRequest) (*gemini.GenerationConfig, *Error) {
	gc := gemini.GenerationConfig{
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		Seed:             req.Seed,
		PresencePenalty:  nonZero(req.PresencePenalty),
		FrequencyPenalty: nonZero(req.FrequencyPenalty),
	}
	if e := counts(req, &gc); e != nil {
		return nil, e
	}
	stop, e := stopSequences(req.Stop)
	if e != nil {
		return nil, e
	}
	gc.StopSequences = stop
	if e := logprobs(req, &gc); e != nil {
		return nil, e
	}
	if e := responseFormat(req.ResponseFormat, &gc); e != nil {
		return nil, e
	}
	if reflect.ValueOf(gc).IsZero() {
		return nil, nil
	}
	return &gc, nil
}

// nonZero is p, or nil when p points to 0 (Gemini's default).
func nonZero(p *float64) *float64 {
	if p != nil && *p == 0 {
		return nil
	}
	return p
}

// counts maps max_completion_tokens (or the older max_tokens) and n.
func counts(req *ChatRequest, gc *gemini.GenerationConfig) *Error {
	maxTok, maxParam := req.MaxCompletionTokens, "max_completion_tokens"
	if maxTok == nil {
		maxTok, maxParam = req.MaxTokens, "max_tokens"
	}
	if maxTok != nil {
		if *maxTok < 1 {
			return invalid(maxParam, "%s must be at least 1", maxParam)
		}
		gc.MaxOutputTokens = maxTok
	}
	if req.N != nil {
		if *req.N < 1 {
			return invalid("n", "n must be at least 1")
		}
		if *req.N > 1 {
			gc.CandidateCount = req.N
		}
	}
	return nil
}

// logprobs maps logprobs and top_logprobs.
func logprobs(req *ChatRequest, gc *gemini.GenerationConfig) *Error {
	if req.Logprobs == nil || !*req.Logprobs {
		if req.TopLogprobs != nil {
			return invalid("top_logprobs", "top_logprobs requires logprobs to be true")
		}
		return nil
	}
	gc.ResponseLogprobs = true
	if req.TopLogprobs != nil && *req.TopLogprobs > 0 {
		gc.Logprobs = req.TopLogprobs
	}
	return nil
}

func stopSequences(raw json.RawMessage) ([]string, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, invalid("stop", "stop must be a string or an array of strings")
		}
		if s == "" {
			return nil, nil
		}
		return []string{s}, nil
	}
	var arr []string
	if json.Unmarshal(raw, &arr) != nil {
		return nil, invalid("stop", "stop must be a string or an array of strings")
	}
	out := arr[:0]
	for _, s := range arr {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func responseFormat(rf *ResponseFormat, gc *gemini.GenerationConfig) *Error {
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "", "text":
		return nil
	case "json_object":
		gc.ResponseMIMEType = "application/json"
		return nil
	case "json_schema":
	default:
		return invalid("response_format.type", "response_format.type %q is not supported; use text, json_object or json_schema", rf.Type)
	}
	if rf.JSONSchema == nil {
		return invalid("response_format.json_schema", "response_format.json_schema is required when type is json_schema")
	}
	gc.ResponseMIMEType = "application/json"
	raw := bytes.TrimSpace(rf.JSONSchema.Schema)
	switch string(raw) {
	case "", "null", "true", "{}":
		return nil
	case "false":
		return invalid("response_format.json_schema.schema", "response_format.json_schema.schema false admits no value and cannot be expressed")
	}
	clean, e := cleanSchema(raw, "response_format.json_schema.schema")
	if e != nil {
		return e
	}
	if d := rf.JSONSchema.Description; d != "" {
		clean = gemini.SchemaWithDescription(clean, d)
	}
	gc.ResponseJSONSchema = clean
	return nil
}

// CleanSchema is gemini.CleanSchema for a schema given alone (tests and
// callers outside a request).
func CleanSchema(schema json.RawMessage) (json.RawMessage, error) {
	return gemini.CleanSchema(schema, "")
}

// cleanSchema cleans the schema at param, as a 400 *Error on failure.
func cleanSchema(raw json.RawMessage, param string) (json.RawMessage, *Error) {
	out, err := gemini.CleanSchema(raw, param)
	if err != nil {
		return nil, invalid(param, "%s", err.Error())
	}
	return out, nil
}
