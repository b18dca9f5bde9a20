package openai

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

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
//
// To add a field: add it to the Gemini types (proxy/gemini) as usual, then
// a case for its key in the wireReader method of the object that holds it
// (event, candidate, part, usage) — the fast reader skips keys it does not
// know, so until then the field stays empty on this path only. Add a body
// that carries it to TestDecodeAnswerMatchesEncodingJSON, which checks
// that both decoders agree. Why it stays: measured in build/bench (-tags
// gbd_stdjson swaps it for encoding/json; see the README's benchmarks).

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
	if !fastJSON {
		return errWire
	}
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
		i = digits(b, i)
	default:
		return errWire
	}
	if i < len(b) && b[i] == '.' {
		d := i + 1
		if i = digits(b, d); i == d {
			return errWire
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		if i = digits(b, d); i == d {
			return errWire
		}
	}
	r.i = i
	return nil
}

// digits returns the index of the first byte of b from i on that is not
// a decimal digit.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
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
			return nullable(r, &p.FunctionCall, r.functionCall)
		case "inlineData":
			return nullable(r, &p.InlineData, func(d *gemini.Blob) error {
				return r.twoStrings("mimeType", &d.MIMEType, "data", &d.Data)
			})
		case "fileData":
			return nullable(r, &p.FileData, func(d *gemini.FileData) error {
				return r.twoStrings("mimeType", &d.MIMEType, "fileUri", &d.FileURI)
			})
		case "executableCode":
			return nullable(r, &p.ExecutableCode, func(x *gemini.ExecutableCode) error {
				return r.twoStrings("language", &x.Language, "code", &x.Code)
			})
		case "codeExecutionResult":
			return nullable(r, &p.CodeExecutionResult, func(x *gemini.CodeExecutionResult) error {
				return r.twoStrings("outcome", &x.Outcome, "output", &x.Output)
			})
		}
		return r.skip()
	})
}

// nullable reads an object field held by pointer as encoding/json does:
// null sets *dst to nil; an object is read by read into *dst, allocated
// when nil.
func nullable[T any](r *wireReader, dst **T, read func(*T) error) error {
	if r.null() {
		*dst = nil
		return nil
	}
	if *dst == nil {
		*dst = new(T)
	}
	return read(*dst)
}

func (r *wireReader) functionCall(fc *gemini.FunctionCall) error {
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
}

// twoStrings reads an object of which the string fields ka and kb count
// (into a and b) and the others are skipped.
func (r *wireReader) twoStrings(ka string, a *string, kb string, b *string) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case ka:
			return r.str(a)
		case kb:
			return r.str(b)
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
			rr, n := unescapeU(s[r-1:])
			if n == 0 {
				return "", false
			}
			b.WriteRune(rr)
			r += n - 2
		default:
			return "", false
		}
		r++
		run = r
	}
	b.Write(s[run:])
	return b.String(), true
}

// unescapeU decodes the \uXXXX escape at the start of s, with the low
// half that follows a high surrogate, as encoding/json does (a lone
// surrogate is U+FFFD); n is the bytes it spans, 0 when it is malformed.
func unescapeU(s []byte) (rr rune, n int) {
	rr = getu4(s)
	if rr < 0 {
		return 0, 0
	}
	if !utf16.IsSurrogate(rr) {
		return rr, 6
	}
	if dec := utf16.DecodeRune(rr, getu4(s[6:])); dec != unicode.ReplacementChar {
		return dec, 12
	}
	return unicode.ReplacementChar, 6
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
