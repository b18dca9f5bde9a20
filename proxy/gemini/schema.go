package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CleanSchema rewrites a JSON Schema (tool parameters or
// response_format.json_schema.schema) into what Gemini's JSON-Schema fields
// (parametersJsonSchema, responseJsonSchema) accept. Key order is kept: Gemini
// orders the generated object's properties by it.
//
// Those fields take a full JSON Schema and apply the subset Google documents
// ($id, $defs, $ref, $anchor, type, format, title, description, enum, items,
// prefixItems, minItems, maxItems, minimum, maximum, anyOf, oneOf, properties,
// additionalProperties, required, propertyOrdering); other validation keywords
// (pattern, minLength, …) are forwarded as given, never dropped. The rewriting:
//
//   - removed, as pure annotations that constrain nothing: $schema, $comment,
//     $vocabulary, examples, example, deprecated, readOnly, writeOnly;
//   - definitions → $defs (and local $refs to #/definitions/… follow);
//   - const: v → enum: [v] (when there is no enum);
//   - allOf with a single member is merged into its parent when no keyword
//     clashes (what Pydantic emits around a $ref);
//   - a $ref with sibling keywords (e.g. a description) becomes
//     anyOf: [{$ref}] next to those siblings, since Gemini allows only $-keys
//     beside a $ref.
//
// What cannot be expressed is a *SchemaError (a 400 for the client): a $ref
// that does not point inside the document ("#…"), and a schema that is not a
// JSON object. param names the schema in error messages (e.g.
// "tools[0].function.parameters"); "" says "schema". Every dialect that
// offers tools or structured output uses this one cleaner.
func CleanSchema(schema json.RawMessage, param string) (json.RawMessage, error) {
	out, err := cleanSchema(schema, param)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SchemaError says why a schema cannot be sent to Gemini. Param is the
// parameter given to CleanSchema.
type SchemaError struct {
	Param   string
	Message string
}

// Error returns the message.
func (e *SchemaError) Error() string { return e.Message }

// invalidSchema builds a *SchemaError.
func invalidSchema(param, format string, args ...any) *SchemaError {
	return &SchemaError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// SchemaWithDescription adds a top-level description to a schema that has
// none, so that a description given beside the schema still reaches the
// model. Key order is kept.
func SchemaWithDescription(schema json.RawMessage, desc string) json.RawMessage {
	v, err := decodeOrdered(schema)
	if err != nil {
		return schema
	}
	o, ok := v.(*object)
	if !ok || o.has("description") {
		return schema
	}
	o.kv = append([]kv{{"description", desc}}, o.kv...)
	var buf bytes.Buffer
	encodeOrdered(&buf, o)
	return buf.Bytes()
}

// schemaTriggers are the substrings without which a schema needs no rewrite.
var schemaTriggers = [][]byte{
	[]byte(`"$schema"`), []byte(`"$comment"`), []byte(`"$vocabulary"`),
	[]byte(`"example`), []byte(`"deprecated"`), []byte(`"readOnly"`),
	[]byte(`"writeOnly"`), []byte(`"definitions"`), []byte(`"$ref"`),
	[]byte(`"const"`), []byte(`"allOf"`),
}

var removedKeywords = map[string]bool{
	"$schema": true, "$comment": true, "$vocabulary": true, "examples": true,
	"example": true, "deprecated": true, "readOnly": true, "writeOnly": true,
}

// Keywords whose value is a map of name → schema.
var schemaMapKeywords = map[string]bool{
	"properties": true, "$defs": true, "definitions": true,
	"patternProperties": true, "dependentSchemas": true,
}

// Keywords whose value is a schema (items may also be an array of schemas).
var schemaKeywords = map[string]bool{
	"items": true, "additionalProperties": true, "not": true, "contains": true,
	"propertyNames": true, "if": true, "then": true, "else": true,
	"unevaluatedItems": true, "unevaluatedProperties": true,
	"additionalItems": true, "contentSchema": true,
}

// Keywords whose value is an array of schemas.
var schemaArrayKeywords = map[string]bool{
	"anyOf": true, "oneOf": true, "allOf": true, "prefixItems": true,
}

// cleanSchema returns the cleaned schema; param prefixes error messages.
func cleanSchema(raw json.RawMessage, param string) (json.RawMessage, *SchemaError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, invalidSchema(param, "%s must be a JSON Schema object", orSchema(param))
	}
	needed := false
	for _, t := range schemaTriggers {
		if bytes.Contains(raw, t) {
			needed = true
			break
		}
	}
	if !needed {
		if !json.Valid(raw) {
			return nil, invalidSchema(param, "%s is not valid JSON", orSchema(param))
		}
		return raw, nil
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, invalidSchema(param, "%s is not valid JSON: %v", orSchema(param), err)
	}
	c := &cleaner{param: param}
	c.renamed = hasDefinitions(v)
	v, e := c.node(v, "#")
	if e != nil {
		return nil, e
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	encodeOrdered(&buf, v)
	return buf.Bytes(), nil
}

func orSchema(param string) string {
	if param == "" {
		return "schema"
	}
	return param
}

type cleaner struct {
	param   string
	renamed bool // some "definitions" is renamed to "$defs": follow in $refs
}

func hasDefinitions(v any) bool {
	switch t := v.(type) {
	case *object:
		for _, kv := range t.kv {
			if kv.k == "definitions" {
				return true
			}
			if hasDefinitions(kv.v) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasDefinitions(x) {
				return true
			}
		}
	}
	return false
}

// node cleans one schema; at is its location, for error messages.
func (c *cleaner) node(v any, at string) (any, *SchemaError) {
	o, ok := v.(*object)
	if !ok {
		return v, nil // boolean schema or something Gemini will judge
	}
	out := &object{kv: make([]kv, 0, len(o.kv))}
	hasDefs := o.has("$defs")
	for _, p := range o.kv {
		k, val := p.k, p.v
		if removedKeywords[k] {
			continue
		}
		if k == "definitions" && !hasDefs {
			k = "$defs"
		}
		var err *SchemaError
		switch {
		case schemaMapKeywords[k] || k == "definitions":
			if m, ok := val.(*object); ok {
				val, err = c.schemaMap(m, at+"/"+k)
			}
		case schemaKeywords[k]:
			if arr, ok := val.([]any); ok && k == "items" {
				val, err = c.array(arr, at+"/items")
			} else {
				val, err = c.node(val, at+"/"+k)
			}
		case schemaArrayKeywords[k]:
			if arr, ok := val.([]any); ok {
				val, err = c.array(arr, at+"/"+k)
			}
		case k == "$ref":
			val, err = c.ref(val, at)
		}
		if err != nil {
			return nil, err
		}
		out.kv = append(out.kv, kv{k, val})
	}
	if cv, ok := out.get("const"); ok && !out.has("enum") {
		out.set("const", "enum", []any{cv})
	}
	mergeSingleAllOf(out)
	wrapRefSiblings(out)
	return out, nil
}

// schemaMap cleans each schema of a keyword whose value maps names to
// schemas (properties, $defs, …).
func (c *cleaner) schemaMap(m *object, at string) (*object, *SchemaError) {
	nm := &object{kv: make([]kv, 0, len(m.kv))}
	for _, q := range m.kv {
		cv, e := c.node(q.v, at+"/"+q.k)
		if e != nil {
			return nil, e
		}
		nm.kv = append(nm.kv, kv{q.k, cv})
	}
	return nm, nil
}

// ref checks a $ref (a local reference) and follows the renaming of
// definitions to $defs.
func (c *cleaner) ref(val any, at string) (string, *SchemaError) {
	s, ok := val.(string)
	if !ok {
		return "", invalidSchema(c.param, "%s: $ref at %s must be a string", orSchema(c.param), at)
	}
	if !strings.HasPrefix(s, "#") {
		return "", invalidSchema(c.param, "%s: $ref %q at %s points outside the schema; Gemini resolves only local references (\"#/...\")", orSchema(c.param), s, at)
	}
	if c.renamed {
		s = strings.ReplaceAll(s, "/definitions/", "/$defs/")
		if strings.HasSuffix(s, "/definitions") {
			s = strings.TrimSuffix(s, "/definitions") + "/$defs"
		}
	}
	return s, nil
}

func (c *cleaner) array(arr []any, at string) ([]any, *SchemaError) {
	out := make([]any, len(arr))
	for i, x := range arr {
		cv, err := c.node(x, at+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		out[i] = cv
	}
	return out, nil
}

// mergeSingleAllOf replaces allOf: [X] by X's keywords when none clashes.
func mergeSingleAllOf(o *object) {
	v, ok := o.get("allOf")
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 1 {
		return
	}
	member, ok := arr[0].(*object)
	if !ok {
		return
	}
	for _, p := range member.kv {
		if o.has(p.k) {
			return
		}
	}
	i := o.index("allOf")
	merged := make([]kv, 0, len(o.kv)-1+len(member.kv))
	merged = append(merged, o.kv[:i]...)
	merged = append(merged, member.kv...)
	merged = append(merged, o.kv[i+1:]...)
	o.kv = merged
}

// wrapRefSiblings moves a $ref that has non-$ siblings into anyOf: [{$ref}].
func wrapRefSiblings(o *object) {
	i := o.index("$ref")
	if i < 0 || o.has("anyOf") {
		return
	}
	siblings := false
	for _, p := range o.kv {
		if !strings.HasPrefix(p.k, "$") {
			siblings = true
			break
		}
	}
	if !siblings {
		return
	}
	ref := &object{kv: []kv{o.kv[i]}}
	o.kv[i] = kv{"anyOf", []any{ref}}
}

// object is a JSON object that keeps its key order.
type object struct{ kv []kv }

type kv struct {
	k string
	v any
}

func (o *object) index(k string) int {
	for i, p := range o.kv {
		if p.k == k {
			return i
		}
	}
	return -1
}

func (o *object) has(k string) bool { return o.index(k) >= 0 }

func (o *object) get(k string) (any, bool) {
	if i := o.index(k); i >= 0 {
		return o.kv[i].v, true
	}
	return nil, false
}

// set replaces key old (kept in place) by key k with value v.
func (o *object) set(old, k string, v any) {
	if i := o.index(old); i >= 0 {
		o.kv[i] = kv{k, v}
	}
}

// maxSchemaDepth bounds the nesting decodeOrdered accepts.
const maxSchemaDepth = 512

// decodeOrdered decodes JSON into *object / []any / string / json.Number /
// bool / nil, keeping object key order.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the schema")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxSchemaDepth {
		return nil, errors.New("schema nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &object{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			o.kv = append(o.kv, kv{k, v})
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return o, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

func encodeOrdered(buf *bytes.Buffer, v any) {
	switch t := v.(type) {
	case *object:
		buf.WriteByte('{')
		for i, p := range t.kv {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, p.k)
			buf.WriteByte(':')
			encodeOrdered(buf, p.v)
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeOrdered(buf, x)
		}
		buf.WriteByte(']')
	case string:
		writeJSONString(buf, t)
	case json.Number:
		buf.WriteString(t.String())
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case nil:
		buf.WriteString("null")
	}
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
