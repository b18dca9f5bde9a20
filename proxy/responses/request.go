package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// RequestOptions are the settings ToGemini needs from the server.
type RequestOptions struct {
	// Aliases maps model names clients hard-code to Gemini models.
	Aliases map[string]string
	// FetchImage fetches http(s) image URLs; nil rejects them with a 400.
	FetchImage gemini.FetchFunc
	// Signatures restores the thought signature of a replayed call whose
	// reasoning item did not come back, by call id. nil: placeholder only.
	Signatures *openai.SignatureCache
	// Store holds recent responses for previous_response_id. nil: every
	// previous_response_id is unknown.
	Store *Store
}

// Translated is a Responses request ready for Gemini.
type Translated struct {
	// Model is the Gemini model id, without "models/".
	Model string
	// Stream: call :streamGenerateContent?alt=sse and translate with a
	// StreamTranslator.
	Stream bool
	// Body is the generateContent request body.
	Body *gemini.GenerateContentRequest
	// Meta is what the answer's translation needs from the request (the
	// caller sets Created, and may set ID, NewID and Signatures).
	Meta ResponseMeta
	// Notes say what was accepted but left out (e.g. a web_search tool the
	// model cannot use beside functions); the server logs them.
	Notes []string
	// Store says whether to keep the response for previous_response_id
	// (store is true unless the client sent store: false).
	Store bool
	// History is the whole conversation as input items: the stored one of
	// previous_response_id, then this request's input. With the answer's
	// output items it is what a later previous_response_id continues.
	History []json.RawMessage
}

// ParseRequest decodes a Responses request body. Unknown fields are
// ignored; malformed input is an *openai.Error 400 naming the field.
func ParseRequest(data []byte) (*Request, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, openai.Invalid("", "the request body is empty; expected a JSON object")
	}
	if data[0] != '{' {
		return nil, openai.Invalid("", "the request body must be a JSON object")
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, decodeError(err, "")
	}
	if req.Model == "" {
		return nil, openai.Invalid("model", "model is required")
	}
	if len(bytes.TrimSpace(req.Input)) == 0 || string(bytes.TrimSpace(req.Input)) == "null" {
		if req.PreviousResponseID == "" {
			return nil, openai.Invalid("input", "input is required: a string or an array of input items")
		}
	}
	switch {
	case req.Background != nil && *req.Background:
		return nil, openai.Invalid("background", "background responses are not supported by this proxy (they need server-side storage); send the request without background")
	case len(req.Conversation) > 0 && string(req.Conversation) != "null":
		return nil, openai.Invalid("conversation", "conversation objects are not supported by this proxy; send the whole conversation in input, or use previous_response_id")
	case len(req.Prompt) > 0 && string(req.Prompt) != "null":
		return nil, openai.Invalid("prompt", "prompt templates are stored at OpenAI and are not supported by this proxy; send instructions and input instead")
	}
	return &req, nil
}

func decodeError(err error, prefix string) *openai.Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return openai.Invalid(prefix, "the request body is not valid JSON: %v", err)
	case errors.As(err, &te):
		param := openai.FieldPath(te.Field)
		if prefix != "" {
			if param == "" {
				return openai.Invalid(prefix, "%s must be an object", prefix)
			}
			param = prefix + "." + param
		}
		if param == "" {
			return openai.Invalid("", "the request body must be a JSON object")
		}
		return openai.Invalid(param, "%s must not be a JSON %s", param, te.Value)
	default:
		return openai.Invalid(prefix, "invalid request body: %v", err)
	}
}

// ToGemini translates a parsed request into a Gemini generateContent call.
// ctx bounds image fetches. Every error is an *openai.Error: 400, or 404
// for an unknown previous_response_id.
func ToGemini(ctx context.Context, req *Request, opts RequestOptions) (*Translated, error) {
	t, e := toGemini(ctx, req, opts)
	if e != nil {
		return nil, e
	}
	return t, nil
}

func toGemini(ctx context.Context, req *Request, opts RequestOptions) (*Translated, *openai.Error) {
	if req == nil {
		return nil, openai.Invalid("", "the request is empty")
	}
	model, err := openai.ResolveModel(req.Model, opts.Aliases)
	if err != nil {
		return nil, err.(*openai.Error)
	}
	var history []json.RawMessage
	if id := req.PreviousResponseID; id != "" {
		prior, ok := opts.Store.Get(id)
		if !ok {
			return nil, &openai.Error{
				Status: 400, Type: "invalid_request_error", Param: "previous_response_id", Code: "previous_response_not_found",
				Message: fmt.Sprintf("Previous response with id %q not found. This proxy keeps recent responses in memory only (not across restarts, and not those sent with store: false); send the whole conversation in input instead.", id),
			}
		}
		history = append(history, prior...)
	}
	nPrior := len(history)
	store := req.Store == nil || *req.Store

	body := &gemini.GenerateContentRequest{}
	ts := newToolSet()
	if raw := bytes.TrimSpace(req.Tools); len(raw) > 0 && string(raw) != "null" {
		var list []Tool
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, decodeError(err, "tools")
		}
		if e := ts.add(list, "tools"); e != nil {
			return nil, e
		}
	}
	c := &conv{ctx: ctx, fetch: opts.FetchImage, sigs: opts.Signatures, ts: ts}
	decoded, items, e := decodeInput(history, req.Input, store)
	if e != nil {
		return nil, e
	}
	history = append(history, items...)
	if e := c.collect(decoded, nPrior); e != nil {
		return nil, e
	}
	if s, e := instructions(req.Instructions); e != nil {
		return nil, e
	} else if s != "" {
		c.sys = append(c.sys, gemini.Part{Text: s})
	}
	for i := range decoded {
		if e := c.item(&decoded[i], itemParam(i, nPrior)); e != nil {
			return nil, e
		}
	}
	c.placeholders()
	if len(c.contents) == 0 {
		return nil, openai.Invalid("input", "input must hold at least one user or assistant item with content")
	}
	body.Contents = c.contents
	if len(c.sys) > 0 {
		body.SystemInstruction = &gemini.Content{Parts: c.sys}
	}
	ts.finish(model, body)
	if e := ts.toolChoice(req.ToolChoice, body); e != nil {
		return nil, e
	}
	gc, e := generationConfig(req, model)
	if e != nil {
		return nil, e
	}
	body.GenerationConfig = gc

	return &Translated{
		Model:  model,
		Stream: req.Stream,
		Body:   body,
		Meta: ResponseMeta{
			Model: req.Model,
			Tools: ts.refs,
			Echo:  echo(req, store),
		},
		Notes:   append(ts.notes, c.notes...),
		Store:   store,
		History: history,
	}, nil
}

func itemParam(i, nPrior int) string {
	if i < nPrior {
		return "previous_response_id (item " + strconv.Itoa(i) + ")"
	}
	return index("input", i-nPrior)
}

// index is param + "[i]", the name of an array element in error messages.
func index(param string, i int) string {
	return param + "[" + strconv.Itoa(i) + "]"
}

// decodeInput decodes the stored items of previous_response_id (prior) and
// input. raw are input's items as JSON, for the store: only split out when
// the response is to be stored (keep), else input is decoded in one pass.
func decodeInput(prior []json.RawMessage, input json.RawMessage, keep bool) (items []Item, raw []json.RawMessage, e *openai.Error) {
	in := bytes.TrimSpace(input)
	if !keep && len(in) > 0 && in[0] == '[' {
		var list []Item
		if json.Unmarshal(in, &list) == nil {
			items = make([]Item, len(prior), len(prior)+len(list))
			for i, r := range prior {
				if e := decodeItem(r, &items[i], itemParam(i, len(prior))); e != nil {
					return nil, nil, e
				}
			}
			return append(items, list...), nil, nil
		}
		// Decode item by item below, for an error that names the item.
	}
	raw, e = inputItems(input)
	if e != nil {
		return nil, nil, e
	}
	items = make([]Item, len(prior)+len(raw))
	for i, r := range prior {
		if e := decodeItem(r, &items[i], itemParam(i, len(prior))); e != nil {
			return nil, nil, e
		}
	}
	for i, r := range raw {
		if e := decodeItem(r, &items[len(prior)+i], itemParam(len(prior)+i, len(prior))); e != nil {
			return nil, nil, e
		}
	}
	return items, raw, nil
}

// inputItems splits input (a string or an array of items) into raw items.
func inputItems(raw json.RawMessage) ([]json.RawMessage, *openai.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, openai.Invalid("input", "input is not a valid JSON string")
		}
		b, _ := json.Marshal(struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}{"user", s})
		return []json.RawMessage{b}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, openai.Invalid("input", "input must be a string or an array of input items")
		}
		return items, nil
	}
	return nil, openai.Invalid("input", "input must be a string or an array of input items")
}

func decodeItem(raw json.RawMessage, it *Item, p string) *openai.Error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return openai.Invalid(p, "%s must be an input item object", p)
	}
	if err := json.Unmarshal(raw, it); err != nil {
		return decodeError(err, p)
	}
	return nil
}

func instructions(raw json.RawMessage) (string, *openai.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", openai.Invalid("instructions", "instructions must be a string")
	}
	return s, nil
}

func generationConfig(req *Request, model string) (*gemini.GenerationConfig, *openai.Error) {
	gc := &gemini.GenerationConfig{Temperature: req.Temperature, TopP: req.TopP}
	if req.MaxOutputTokens != nil {
		if *req.MaxOutputTokens < 1 {
			return nil, openai.Invalid("max_output_tokens", "max_output_tokens must be at least 1")
		}
		gc.MaxOutputTokens = req.MaxOutputTokens
	}
	if tx := req.Text; tx != nil && tx.Format != nil {
		switch f := tx.Format; f.Type {
		case "", "text":
		case "json_object":
			gc.ResponseMIMEType = "application/json"
		case "json_schema":
			gc.ResponseMIMEType = "application/json"
			switch raw := bytes.TrimSpace(f.Schema); string(raw) {
			case "", "null", "true", "{}":
			default:
				clean, err := openai.CleanSchemaAt(raw, "text.format.schema")
				if err != nil {
					return nil, err.(*openai.Error)
				}
				gc.ResponseJSONSchema = clean
			}
		default:
			return nil, openai.Invalid("text.format.type", "text.format.type %q is not supported; use text, json_object or json_schema", f.Type)
		}
	}
	think, e := thinking(req.Reasoning, model)
	if e != nil {
		return nil, e
	}
	gc.ThinkingConfig = think
	if reflect.ValueOf(*gc).IsZero() {
		return nil, nil
	}
	return gc, nil
}

// thinking maps reasoning.effort to a thinking budget or level (as the chat
// route maps reasoning_effort; xhigh is high) and reasoning.summary to
// includeThoughts: thought summaries are returned when a summary is asked
// for, as on OpenAI.
func thinking(r *Reasoning, model string) (*gemini.ThinkingConfig, *openai.Error) {
	if r == nil {
		return nil, nil
	}
	summary := r.Summary
	if summary == "" {
		summary = r.GenerateSummary
	}
	switch summary {
	case "", "none", "auto", "concise", "detailed":
	default:
		return nil, openai.Invalid("reasoning.summary", "reasoning.summary %q is not supported; use auto, concise, detailed or none", summary)
	}
	wantSummary := summary != "" && summary != "none"
	effort := strings.ToLower(r.Effort)
	if effort == "xhigh" || effort == "max" {
		effort = "high"
	}
	if effort == "" {
		if wantSummary && gemini.ThinksByDefault(model) {
			return &gemini.ThinkingConfig{IncludeThoughts: true}, nil
		}
		return nil, nil
	}
	tc, err := openai.EffortThinking(model, effort, "reasoning.effort")
	if err != nil {
		return nil, err.(*openai.Error)
	}
	tc.IncludeThoughts = wantSummary && effort != "none"
	return tc, nil
}

// echo is the request's settings as the response object repeats them:
// JSON object members without braces.
func echo(req *Request, store bool) []byte {
	b := make([]byte, 0, 320+len(req.Tools)+len(req.Instructions)+len(req.ToolChoice)+len(req.Metadata))
	key := func(name string) {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	raw := func(name string, v json.RawMessage, def string) {
		key(name)
		if v = bytes.TrimSpace(v); len(v) > 0 {
			b = append(b, v...)
		} else {
			b = append(b, def...)
		}
		b = append(b, ',')
	}
	num := func(name string, f *float64) {
		key(name)
		if f != nil {
			b = strconv.AppendFloat(b, *f, 'g', -1, 64)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, ',')
	}
	str := func(name, s, def string) {
		key(name)
		if s != "" {
			b = appendString(b, s)
		} else {
			b = append(b, def...)
		}
		b = append(b, ',')
	}
	raw("instructions", req.Instructions, "null")
	key("max_output_tokens")
	if req.MaxOutputTokens != nil {
		b = strconv.AppendInt(b, int64(*req.MaxOutputTokens), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ',')
	key("parallel_tool_calls")
	b = strconv.AppendBool(b, req.ParallelToolCalls == nil || *req.ParallelToolCalls)
	b = append(b, ',')
	str("previous_response_id", req.PreviousResponseID, "null")
	var effort, summary string
	if r := req.Reasoning; r != nil {
		effort, summary = r.Effort, r.Summary
		if summary == "" {
			summary = r.GenerateSummary
		}
	}
	key("reasoning")
	b = append(b, '{')
	str("effort", effort, "null")
	str("summary", summary, "null")
	b[len(b)-1] = '}'
	b = append(b, ',')
	key("store")
	b = strconv.AppendBool(b, store)
	b = append(b, ',')
	num("temperature", req.Temperature)
	key("text")
	b = append(b, '{')
	verbosity := "medium"
	var format *TextFormat
	if tx := req.Text; tx != nil {
		format = tx.Format
		if tx.Verbosity != "" {
			verbosity = tx.Verbosity
		}
	}
	if format != nil {
		f, _ := json.Marshal(format)
		raw("format", f, "")
	} else {
		raw("format", nil, `{"type":"text"}`)
	}
	str("verbosity", verbosity, "")
	b[len(b)-1] = '}'
	b = append(b, ',')
	raw("tool_choice", req.ToolChoice, `"auto"`)
	raw("tools", req.Tools, "[]")
	num("top_p", req.TopP)
	str("truncation", req.Truncation, `"disabled"`)
	raw("metadata", req.Metadata, "{}")
	if req.PromptCacheKey != "" {
		str("prompt_cache_key", req.PromptCacheKey, "")
	}
	return b[:len(b)-1]
}
