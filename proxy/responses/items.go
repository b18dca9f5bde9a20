package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// conv builds Gemini contents from input items. Consecutive items of the
// model's side (assistant messages, reasoning, calls) become one "model"
// turn and consecutive items of the client's side (user messages, tool
// outputs) one "user" turn, so turns alternate as Gemini expects and every
// function response directly follows its call.
type conv struct {
	ctx       context.Context
	fetch     gemini.FetchFunc
	sigs      *openai.SignatureCache
	ts        *toolSet
	contents  []gemini.Content
	sys       []gemini.Part
	callNames map[string]string // call_id → Gemini function name
	sigByCall map[string]string // call_id → thought signature, from reasoning items
	notes     []string
	noted     map[string]bool
}

func (c *conv) note(key, msg string) {
	if c.noted == nil {
		c.noted = map[string]bool{}
	}
	if !c.noted[key] {
		c.noted[key] = true
		c.notes = append(c.notes, msg)
	}
}

// collect reads what items contribute before the conversation is built:
// the tools of additional_tools and tool_search_output items, and the
// thought signatures in reasoning items.
func (c *conv) collect(items []Item, nPrior int) *openai.Error {
	for i := range items {
		it := &items[i]
		switch it.Type {
		case "additional_tools", "tool_search_output":
			if e := c.ts.add(it.Tools, itemParam(i, nPrior)+".tools"); e != nil {
				return e
			}
		case "reasoning":
			if it.EncryptedContent != nil {
				if id, sig, ok := DecodeSignature(*it.EncryptedContent); ok {
					if c.sigByCall == nil {
						c.sigByCall = map[string]string{}
					}
					c.sigByCall[id] = sig
				}
			}
		}
	}
	return nil
}

func (c *conv) add(role string, parts ...gemini.Part) {
	c.contents = gemini.AppendTurn(c.contents, role, parts...)
}

func (c *conv) item(it *Item, p string) *openai.Error {
	switch it.Type {
	case "message", "":
		return c.message(it, p)
	case "function_call", "custom_tool_call", "tool_search_call":
		return c.callItem(it, p)
	case "function_call_output", "custom_tool_call_output":
		return c.output(it, p)
	case "tool_search_output":
		return c.toolSearchOutput(it, p)
	case "reasoning", "additional_tools":
		// Read by collect: the signatures and the tools.
		return nil
	case "web_search_call":
		c.note("web_search_call", "web_search_call items in the input were left out (Gemini's search grounding is not replayed)")
		return nil
	case "compaction", "compaction_summary":
		c.note("compaction", "a compaction item (OpenAI's encrypted summary) was left out: only OpenAI can read it")
		return nil
	case "item_reference":
		return openai.Invalid(p+".type", "%s: item_reference is not supported by this proxy; send the item itself", p)
	default:
		return openai.Invalid(p+".type", "%s.type %q is not supported; use message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning, tool_search_call, tool_search_output or additional_tools", p, it.Type)
	}
}

// callItem converts a call the model made (function_call,
// custom_tool_call or tool_search_call) to a Gemini function call.
func (c *conv) callItem(it *Item, p string) *openai.Error {
	switch it.Type {
	case "function_call":
		if it.Name == "" {
			return openai.Invalid(p+".name", "%s.name is required for a function_call item", p)
		}
		args, e := callArguments(it.Arguments, p+".arguments")
		if e != nil {
			return e
		}
		return c.call(it, ToolRef{Kind: "function", Namespace: it.Namespace, Name: it.Name}, args, p)
	case "custom_tool_call":
		if it.Name == "" {
			return openai.Invalid(p+".name", "%s.name is required for a custom_tool_call item", p)
		}
		input := ""
		if it.Input != nil {
			input = *it.Input
		}
		args, _ := json.Marshal(struct {
			Input string `json:"input"`
		}{input})
		return c.call(it, ToolRef{Kind: "custom", Namespace: it.Namespace, Name: it.Name}, args, p)
	}
	args := bytes.TrimSpace(it.Arguments) // tool_search_call
	switch {
	case len(args) == 0 || string(args) == "null":
		args = []byte("{}")
	case args[0] != '{':
		args, _ = json.Marshal(struct {
			Arguments json.RawMessage `json:"arguments"`
		}{args})
	}
	return c.call(it, ToolRef{Kind: "tool_search", Name: toolSearchName}, args, p)
}

// toolSearchOutput converts a tool_search_output item to the function
// response of the tool search call: the Gemini names of the tools loaded.
func (c *conv) toolSearchOutput(it *Item, p string) *openai.Error {
	name, e := c.outputName(it, p)
	if e != nil {
		return e
	}
	loaded := []string{}
	for _, t := range it.Tools {
		if t.Type == "namespace" {
			for _, m := range t.Tools {
				loaded = append(loaded, c.ts.geminiName(ToolRef{Kind: m.Type, Namespace: t.Name, Name: m.Name}))
			}
			continue
		}
		loaded = append(loaded, c.ts.geminiName(ToolRef{Kind: t.Type, Name: t.Name}))
	}
	resp, _ := json.Marshal(struct {
		LoadedTools []string `json:"loaded_tools"`
	}{loaded})
	c.add("user", gemini.Part{FunctionResponse: &gemini.FunctionResponse{Name: name, Response: resp}})
	return nil
}

func (c *conv) message(it *Item, p string) *openai.Error {
	switch it.Role {
	case "system", "developer":
		parts, e := c.parts(it.Content, p+".content", false)
		if e != nil {
			return e
		}
		c.sys = append(c.sys, parts...)
	case "user":
		parts, e := c.parts(it.Content, p+".content", true)
		if e != nil {
			return e
		}
		c.add("user", parts...)
	case "assistant":
		parts, e := c.parts(it.Content, p+".content", false)
		if e != nil {
			return e
		}
		c.add("model", parts...)
	case "":
		return openai.Invalid(p+".role", "%s.role is required for a message", p)
	default:
		return openai.Invalid(p+".role", "%s.role %q is not supported; use user, assistant, system or developer", p, it.Role)
	}
	return nil
}

// parts converts message content: a string or an array of content parts.
// media allows images and files (user messages).
func (c *conv) parts(raw json.RawMessage, p string, media bool) ([]gemini.Part, *openai.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, openai.Invalid(p, "%s is not a valid JSON string", p)
		}
		if s == "" {
			return nil, nil
		}
		return []gemini.Part{{Text: s}}, nil
	case '[':
	default:
		return nil, openai.Invalid(p, "%s must be a string or an array of content parts", p)
	}
	var items []ContentPart
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, decodeError(err, p)
	}
	out := make([]gemini.Part, 0, len(items))
	for j := range items {
		cp := &items[j]
		pp := index(p, j)
		part, e := c.part(cp, pp, media)
		if e != nil {
			return nil, e
		}
		if part != nil {
			out = append(out, *part)
		}
	}
	return out, nil
}

func (c *conv) part(cp *ContentPart, pp string, media bool) (*gemini.Part, *openai.Error) {
	switch cp.Type {
	case "input_text", "output_text", "text", "summary_text", "reasoning_text":
		if cp.Text == nil {
			return nil, openai.Invalid(pp+".text", "%s.text is required for a text part", pp)
		}
		if *cp.Text == "" {
			return nil, nil
		}
		return &gemini.Part{Text: *cp.Text}, nil
	case "refusal":
		if cp.Refusal == "" {
			return nil, nil
		}
		return &gemini.Part{Text: cp.Refusal}, nil
	case "":
		return nil, openai.Invalid(pp+".type", "%s.type is required", pp)
	}
	if !media {
		return nil, openai.Invalid(pp+".type", "%s.type %q is not allowed here: this item can only hold text", pp, cp.Type)
	}
	var part gemini.Part
	var err error
	switch cp.Type {
	case "input_image":
		switch {
		case cp.ImageURL != "":
			part, err = openai.ImagePart(c.ctx, cp.ImageURL, pp+".image_url", c.fetch)
		case cp.FileID != "":
			part, err = openai.FileDataPart("", cp.FileID, cp.Filename, pp)
		default:
			return nil, openai.Invalid(pp+".image_url", "%s needs image_url (a data URI or an http(s) URL) or file_id", pp)
		}
	case "input_file":
		if cp.FileData == "" && cp.FileID == "" && cp.FileURL != "" {
			return nil, openai.Invalid(pp+".file_url", "%s.file_url is not supported; send the file as file_data (a data URI)", pp)
		}
		part, err = openai.FileDataPart(cp.FileData, cp.FileID, cp.Filename, pp)
	default:
		return nil, openai.Invalid(pp+".type", "%s.type %q is not supported; use input_text, input_image or input_file", pp, cp.Type)
	}
	if err != nil {
		return nil, err.(*openai.Error)
	}
	return &part, nil
}

// callArguments checks a function_call's arguments: a JSON object encoded
// as a string (empty means {}).
func callArguments(raw json.RawMessage, p string) (json.RawMessage, *openai.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	var s string
	if raw[0] == '{' {
		// Tolerate an object sent where the string belongs.
		return raw, nil
	}
	if json.Unmarshal(raw, &s) != nil {
		return nil, openai.Invalid(p, "%s must be a JSON object encoded as a string", p)
	}
	args := bytes.TrimSpace([]byte(s))
	switch {
	case len(args) == 0:
		return json.RawMessage("{}"), nil
	case args[0] != '{' || !json.Valid(args):
		return nil, openai.Invalid(p, "%s must be a JSON object encoded as a string", p)
	}
	return args, nil
}

// call adds a model functionCall part for a call item, with its thought
// signature restored: from a reasoning item of the input, else from the
// signature cache.
func (c *conv) call(it *Item, ref ToolRef, args json.RawMessage, p string) *openai.Error {
	if it.CallID == "" {
		return openai.Invalid(p+".call_id", "%s.call_id is required", p)
	}
	name := c.ts.geminiName(ref)
	if c.callNames == nil {
		c.callNames = map[string]string{}
	}
	c.callNames[it.CallID] = name
	sig := c.sigByCall[it.CallID]
	if sig == "" {
		sig, _ = c.sigs.Lookup(it.CallID)
	}
	c.add("model", gemini.Part{FunctionCall: &gemini.FunctionCall{Name: name, Args: args}, ThoughtSignature: sig})
	return nil
}

func (c *conv) outputName(it *Item, p string) (string, *openai.Error) {
	if it.CallID == "" {
		return "", openai.Invalid(p+".call_id", "%s.call_id is required", p)
	}
	name, ok := c.callNames[it.CallID]
	if !ok {
		return "", openai.Invalid(p+".call_id", "%s.call_id %q matches no call earlier in the input; send the call item (or use previous_response_id) before its output", p, it.CallID)
	}
	return name, nil
}

// output adds a functionResponse for a function or custom tool output. A
// text output that is a JSON object is sent as is, any other as
// {"output": text}; images and files in an output array follow as parts of
// the same turn.
func (c *conv) output(it *Item, p string) *openai.Error {
	name, e := c.outputName(it, p)
	if e != nil {
		return e
	}
	raw := bytes.TrimSpace(it.Output)
	var text string
	var media []gemini.Part
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		if json.Unmarshal(raw, &text) != nil {
			return openai.Invalid(p+".output", "%s.output is not a valid JSON string", p)
		}
	case raw[0] == '[':
		parts, e := c.parts(raw, p+".output", true)
		if e != nil {
			return e
		}
		var b strings.Builder
		for _, part := range parts {
			if part.InlineData != nil || part.FileData != nil {
				media = append(media, part)
				continue
			}
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
				b.WriteByte('\n')
			}
			b.WriteString(part.Text)
		}
		text = b.String()
	default:
		return openai.Invalid(p+".output", "%s.output must be a string or an array of content parts", p)
	}
	var resp json.RawMessage
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		resp = json.RawMessage(t)
	} else {
		resp, _ = json.Marshal(struct {
			Output string `json:"output"`
		}{text})
	}
	c.add("user", append([]gemini.Part{{FunctionResponse: &gemini.FunctionResponse{Name: name, Response: resp}}}, media...)...)
	return nil
}

// placeholders gives the first function call of each model turn that has
// no thought signature Google's documented placeholder, so Gemini 3 accepts
// a replayed history whose reasoning items were lost.
func (c *conv) placeholders() {
	for i := range c.contents {
		ct := &c.contents[i]
		if ct.Role != "model" {
			continue
		}
		for j := range ct.Parts {
			if ct.Parts[j].FunctionCall != nil {
				if ct.Parts[j].ThoughtSignature == "" {
					ct.Parts[j].ThoughtSignature = gemini.SkipThoughtSignature
				}
				break
			}
		}
	}
}
