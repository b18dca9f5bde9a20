package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// ToolRef is what a Gemini function name stands for: a client tool of kind
// "function", "custom" or "tool_search", by its own name and namespace.
type ToolRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// maxFunctionName is the longest function name Gemini accepts.
const maxFunctionName = 64

// toolSearchName is the function a client-executed tool_search tool
// becomes.
const toolSearchName = "tool_search"

// toolSet collects the function declarations of a request from tools,
// additional_tools items and tool_search_output items, and the mapping
// between Gemini function names and client tools.
type toolSet struct {
	decls  []gemini.FunctionDeclaration
	refs   map[string]ToolRef // Gemini name → client tool
	byRef  map[ToolRef]string // client tool → Gemini name
	search bool               // web_search was asked for
	notes  []string
	noted  map[string]bool
}

func newToolSet() *toolSet { return &toolSet{} }

func (ts *toolSet) note(key, msg string) {
	if ts.noted == nil {
		ts.noted = map[string]bool{}
	}
	if !ts.noted[key] {
		ts.noted[key] = true
		ts.notes = append(ts.notes, msg)
	}
}

// geminiName returns the Gemini function name of ref, making one when ref
// is new: namespace and name joined with "__" (or directly when the
// namespace already ends in '_', '.' or ':'), characters Gemini rejects
// replaced by '_', at most 64 long, and unique.
func (ts *toolSet) geminiName(ref ToolRef) string {
	if n, ok := ts.byRef[ref]; ok {
		return n
	}
	base := ref.Name
	if ref.Namespace != "" {
		sep := "__"
		if strings.HasSuffix(ref.Namespace, "_") || strings.HasSuffix(ref.Namespace, ".") || strings.HasSuffix(ref.Namespace, ":") {
			sep = ""
		}
		base = ref.Namespace + sep + ref.Name
	}
	base = sanitizeName(base, ref)
	n := base
	for i := 2; ; i++ {
		if _, taken := ts.refs[n]; !taken {
			break
		}
		suffix := fmt.Sprintf("_%d", i)
		n = base
		if len(n)+len(suffix) > maxFunctionName {
			n = n[:maxFunctionName-len(suffix)]
		}
		n += suffix
	}
	if ts.refs == nil {
		ts.refs, ts.byRef = map[string]ToolRef{}, map[ToolRef]string{}
	}
	ts.refs[n] = ref
	ts.byRef[ref] = n
	return n
}

func sanitizeName(s string, ref ToolRef) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] == '_') {
		b = append([]byte{'_'}, b...)
	}
	if len(b) > maxFunctionName {
		h := fnv.New32a()
		h.Write([]byte(ref.Kind + "\x00" + ref.Namespace + "\x00" + ref.Name))
		b = fmt.Appendf(b[:maxFunctionName-9], "_%08x", h.Sum32())
	}
	return string(b)
}

// add declares the tools of list (param names it in error messages).
func (ts *toolSet) add(list []Tool, param string) *openai.Error {
	for i := range list {
		if e := ts.addOne(&list[i], index(param, i), ""); e != nil {
			return e
		}
	}
	return nil
}

// addOne declares tool t at path p, a member of namespace when that is
// not "".
func (ts *toolSet) addOne(t *Tool, p, namespace string) *openai.Error {
	switch t.Type {
	case "function":
		if t.Name == "" {
			return openai.Invalid(p+".name", "%s.name is required for a function tool", p)
		}
		return ts.declare(ToolRef{Kind: "function", Namespace: namespace, Name: t.Name}, t.Description, t.Parameters, nil, p)
	case "custom":
		if t.Name == "" {
			return openai.Invalid(p+".name", "%s.name is required for a custom tool", p)
		}
		return ts.declare(ToolRef{Kind: "custom", Namespace: namespace, Name: t.Name}, customDescription(t), nil, customSchema, p)
	case "namespace":
		return ts.addNamespace(t, p, namespace)
	case "tool_search":
		desc := t.Description
		if desc == "" {
			desc = "Search for more tools by what they do; the tools found become available."
		}
		return ts.declare(ToolRef{Kind: "tool_search", Name: toolSearchName}, desc, t.Parameters, toolSearchSchema, p)
	case "web_search", "web_search_preview", "web_search_preview_2025_03_11", "web_search_2025_08_26":
		ts.search = true
	case "":
		return openai.Invalid(p+".type", "%s.type is required", p)
	default:
		ts.note("tool:"+t.Type, fmt.Sprintf("tool type %q has no Gemini counterpart and was left out", t.Type))
	}
	return nil
}

// declare adds the function declaration of ref (once: a ref declared
// already is skipped) with its parameters cleaned from params, or def when
// params are empty.
func (ts *toolSet) declare(ref ToolRef, description string, params, def json.RawMessage, p string) *openai.Error {
	if _, dup := ts.byRef[ref]; dup {
		return nil
	}
	d := gemini.FunctionDeclaration{Name: ts.geminiName(ref), Description: description, ParametersJSONSchema: def}
	if ps := bytes.TrimSpace(params); len(ps) > 0 && string(ps) != "null" {
		clean, err := openai.CleanSchemaAt(ps, p+".parameters")
		if err != nil {
			return err.(*openai.Error)
		}
		d.ParametersJSONSchema = clean
	}
	ts.decls = append(ts.decls, d)
	return nil
}

// addNamespace declares the function and custom tools of namespace t
// (namespaces do not nest: outer is "" at the top level).
func (ts *toolSet) addNamespace(t *Tool, p, outer string) *openai.Error {
	if outer != "" {
		return openai.Invalid(p+".type", "%s: a namespace cannot hold another namespace", p)
	}
	if t.Name == "" {
		return openai.Invalid(p+".name", "%s.name is required for a namespace", p)
	}
	for j := range t.Tools {
		m := &t.Tools[j]
		mp := index(p+".tools", j)
		if m.Type != "function" && m.Type != "custom" {
			return openai.Invalid(mp+".type", "%s.type %q cannot be in a namespace; use function or custom", mp, m.Type)
		}
		if e := ts.addOne(m, mp, t.Name); e != nil {
			return e
		}
	}
	return nil
}

// customSchema is the parameters of a custom tool: its free-text input as
// the one string argument "input".
var customSchema = json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"The tool's input, as free text (not JSON)."}},"required":["input"]}`)

var toolSearchSchema = json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"What the tools you need should do."}},"required":["query"]}`)

// customDescription is a custom tool's description with its input format,
// so the model knows what to write into "input".
func customDescription(t *Tool) string {
	var b strings.Builder
	b.WriteString(t.Description)
	if f := t.Format; f != nil && f.Type == "grammar" && f.Definition != "" {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		syntax := f.Syntax
		if syntax == "" {
			syntax = "lark"
		}
		b.WriteString("Put the whole input, as plain text, in the `input` argument. It must match this ")
		b.WriteString(syntax)
		b.WriteString(" grammar:\n")
		b.WriteString(f.Definition)
	} else {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("Put the whole input, as plain text, in the `input` argument.")
	}
	return b.String()
}

// finish adds the declarations and Google Search to body.
func (ts *toolSet) finish(model string, body *gemini.GenerateContentRequest) {
	if len(ts.decls) > 0 {
		body.Tools = append(body.Tools, gemini.Tool{FunctionDeclarations: ts.decls})
	}
	if ts.search {
		switch {
		case len(ts.decls) == 0:
			body.Tools = append(body.Tools, gemini.Tool{GoogleSearch: json.RawMessage(`{}`)})
		case gemini.UsesThinkingLevel(model):
			// Gemini 3 and later combine built-in tools with functions
			// when asked to (ai.google.dev, "tool combination").
			body.Tools = append(body.Tools, gemini.Tool{GoogleSearch: json.RawMessage(`{}`)})
			body.ToolConfig = &gemini.ToolConfig{IncludeServerSideToolInvocations: true}
		default:
			ts.note("web_search", fmt.Sprintf("web_search was left out: %s cannot use Google Search together with function tools (Gemini 3 and later can)", model))
		}
	}
}

// toolChoice maps tool_choice to Gemini's function calling config.
func (ts *toolSet) toolChoice(raw json.RawMessage, body *gemini.GenerateContentRequest) *openai.Error {
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
		if mode, ok = openai.ToolChoiceMode(s); !ok {
			return openai.Invalid("tool_choice", "tool_choice %q is not supported; use none, auto, required or an object", s)
		}
	} else {
		var tc struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
			Mode      string `json:"mode"`
			Tools     []struct {
				Type      string `json:"type"`
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"tools"`
		}
		if err := json.Unmarshal(raw, &tc); err != nil {
			return openai.Invalid("tool_choice", "tool_choice must be a string or an object")
		}
		switch tc.Type {
		case "function", "custom":
			n, ok := ts.byRef[ToolRef{Kind: tc.Type, Namespace: tc.Namespace, Name: tc.Name}]
			if !ok {
				return openai.Invalid("tool_choice.name", "tool_choice names %s tool %q, which is not in tools", tc.Type, tc.Name)
			}
			mode, allowed = "ANY", []string{n}
		case "allowed_tools":
			mode = "AUTO"
			if tc.Mode == "required" {
				mode = "ANY"
				for _, t := range tc.Tools {
					if n, ok := ts.byRef[ToolRef{Kind: t.Type, Namespace: t.Namespace, Name: t.Name}]; ok {
						allowed = append(allowed, n)
					}
				}
			}
		default:
			// A hosted tool (web_search_preview, file_search, …) cannot be
			// forced on Gemini: let the model choose.
			mode = "AUTO"
		}
	}
	if len(ts.decls) == 0 {
		return nil
	}
	if body.ToolConfig == nil {
		body.ToolConfig = &gemini.ToolConfig{}
	}
	body.ToolConfig.FunctionCallingConfig = &gemini.FunctionCallingConfig{Mode: mode, AllowedFunctionNames: allowed}
	return nil
}
