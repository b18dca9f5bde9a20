package apikey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Extraction is the result of [Extract].
type Extraction struct {
	// Keys are the valid keys found, each once, in order of first appearance.
	Keys []string
	// Duplicates counts the occurrences of a valid key after its first one.
	Duplicates int
	// Malformed lists tokens that look like a key attempt but are not a
	// valid key, in input order.
	Malformed []Malformed
}

// Malformed is a token of the input that looks like an attempt at a key but
// is not a valid one.
type Malformed struct {
	// Line is the 1-based line of the input the token is on.
	Line int `json:"line"`
	// Text is the token, masked with [Mask]: never the raw text.
	Text string `json:"text"`
	// Reason says what is wrong, e.g. "too short", "too long",
	// "wrong prefix", "invalid character", "masked (not the full key)".
	Reason string `json:"reason"`
}

// Reasons reported in Malformed.Reason.
const (
	ReasonTooShort    = "too short"
	ReasonTooLong     = "too long"
	ReasonWrongPrefix = "wrong prefix"
	ReasonInvalidChar = "invalid character"
	ReasonMasked      = "masked (not the full key)"
)

// minLongToken is the length from which a lone token of key characters is
// taken for a key attempt on a line that holds nothing but key-like values.
const minLongToken = 20

// Extract finds Gemini API keys in pasted text.
//
// Tokens are separated by whitespace, commas, semicolons, quotes (straight,
// curly and backticks), brackets and braces, '=', ':', '&', '?', '|', '/',
// backslashes (and the escapes \n \r \t) and zero-width characters, so one
// key per line, comma or space separated lists, quoted strings, .env and
// shell lines (KEY=..., GEMINI_API_KEY="...", export X=..., set X=...,
// $env:X="..."), JSON arrays and objects and URLs with ?key=... all work.
// Lines starting with '#' or "//" and everything after a " #" are comments.
//
// A token starting with "AIza" is a key attempt: valid keys go to Keys (once,
// Duplicates counts the repeats; keys pasted together without a separator are
// split), the rest to Malformed with a reason. Other tokens are ignored,
// except a token of 20 or more key characters that starts with "aiza" in any
// case, or that stands on a line holding only such long tokens and keys
// (names of assignments aside, when the name does not rule out a key, e.g.
// "id" or "model"): that is reported as "wrong prefix". Plain words never are.
func Extract(text string) Extraction {
	var x Extraction
	seen := make(map[string]bool)
	addKey := func(k string) {
		if seen[k] {
			x.Duplicates++
			return
		}
		seen[k] = true
		x.Keys = append(x.Keys, k)
	}
	var toks []token
	for lineNo := 1; ; lineNo++ {
		line, rest, more := strings.Cut(text, "\n")
		text = rest
		toks = scanLine(stripComment(line), toks[:0])
		keyOnly := keyOnlyLine(toks)
		for _, t := range toks {
			if t.name && !strings.HasPrefix(t.text, Prefix) {
				continue
			}
			reason, keys := classify(t, keyOnly)
			for _, k := range keys {
				addKey(k)
			}
			if reason != "" {
				x.Malformed = append(x.Malformed, Malformed{Line: lineNo, Text: Mask(t.text), Reason: reason})
			}
		}
		if !more {
			return x
		}
	}
}

type token struct {
	text  string // trimmed of sentence punctuation and markdown emphasis
	raw   string // as found
	name  bool   // followed by '=' or ':': the name of an assignment or field
	owner string // the last name before this token on its line
}

// stripComment drops comment lines and trailing " # ..." comments.
func stripComment(line string) string {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
		return ""
	}
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

func isSep(r rune) bool {
	switch r {
	case ',', ';', '"', '\'', '`', '=', ':', '[', ']', '{', '}', '(', ')', '<', '>',
		'&', '?', '|', '/', '\\',
		'\u2018', '\u2019', '\u201c', '\u201d', '\u00ab', '\u00bb', // curly quotes, guillemets
		'\u200b', '\u200c', '\u200d', '\u2060', '\ufeff': // zero-width characters, BOM
		return true
	}
	return unicode.IsSpace(r)
}

func isQuote(r rune) bool {
	switch r {
	case '"', '\'', '`', '\u2018', '\u2019', '\u201c', '\u201d', '\u00ab', '\u00bb':
		return true
	}
	return false
}

// scanLine splits a line into tokens, appending to toks.
func scanLine(line string, toks []token) []token {
	owner := ""
	start := -1
	emit := func(end int) {
		if start < 0 {
			return
		}
		raw := line[start:end]
		t := token{text: trimPunct(raw), raw: raw, owner: owner}
		start = -1
		// A token followed (after blanks and quotes) by '=' or ':' is a name.
		for j := end; j < len(line); {
			r, size := utf8.DecodeRuneInString(line[j:])
			if r == '=' || r == ':' {
				t.name = true
				owner = t.text
				break
			}
			if r != ' ' && r != '\t' && !isQuote(r) {
				break
			}
			j += size
		}
		toks = append(toks, t)
	}
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == '\\' && i+1 < len(line) && strings.IndexByte("nrt", line[i+1]) >= 0 {
			size = 2 // a JSON or shell escape: \n \r \t
		}
		if isSep(r) {
			emit(i)
		} else if start < 0 {
			start = i
		}
		i += size
	}
	emit(len(line))
	return toks
}

var shellWords = map[string]bool{
	"export": true, "set": true, "setx": true, "declare": true, "local": true,
	"let": true, "const": true, "var": true, "readonly": true, "env": true,
}

// keyOnlyLine reports whether every value token of the line (names and
// shell keywords aside) looks like a key: then a long token with the wrong
// prefix is a key attempt rather than a word.
func keyOnlyLine(toks []token) bool {
	values := 0
	for _, t := range toks {
		if t.name || shellWords[strings.ToLower(t.text)] || listMarker(t.raw) {
			continue
		}
		values++
		if !strings.HasPrefix(t.text, Prefix) && !longKeyChars(t.text) {
			return false
		}
	}
	return values > 0
}

// listMarker reports whether s is a bullet or a list number ("-", "*", "•",
// "1.", "12)"): no letters, at most 3 bytes or one rune.
func listMarker(s string) bool {
	if len(s) > 3 && utf8.RuneCountInString(s) > 1 {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// longKeyChars reports whether s is at least minLongToken key characters.
func longKeyChars(s string) bool {
	if len(s) < minLongToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !keyChar(s[i]) {
			return false
		}
	}
	return true
}

// trimPunct drops sentence punctuation and markdown emphasis around a token.
func trimPunct(s string) string { return strings.Trim(s, ".!*") }

// keyishOwner reports whether a value named owner may be a key: names such
// as "id", "name" or "model" rule it out; no name at all does not.
func keyishOwner(owner string) bool {
	if owner == "" {
		return true
	}
	o := strings.ToLower(owner)
	for _, w := range []string{"key", "token", "secret", "api", "cred", "gemini", "google"} {
		if strings.Contains(o, w) {
			return true
		}
	}
	return false
}

// classify returns the keys in t and, when t is a malformed key attempt, the
// reason.
func classify(t token, keyOnly bool) (reason string, keys []string) {
	s := t.text
	if strings.HasPrefix(s, Prefix) {
		if strings.Contains(s, "…") || strings.Contains(s, "...") || strings.Contains(s, "**") || strings.HasSuffix(t.raw, "...") {
			return ReasonMasked, nil
		}
		if Valid(s) {
			return "", []string{s}
		}
		for i := 0; i < len(s); i++ {
			if !keyChar(s[i]) {
				return ReasonInvalidChar, nil
			}
		}
		if len(s) < KeyLen {
			return ReasonTooShort, nil
		}
		if len(s)%KeyLen == 0 {
			for i := 0; i < len(s); i += KeyLen {
				if !Valid(s[i : i+KeyLen]) {
					return ReasonTooLong, nil
				}
			}
			for i := 0; i < len(s); i += KeyLen {
				keys = append(keys, s[i:i+KeyLen])
			}
			return "", keys
		}
		return ReasonTooLong, nil
	}
	if !longKeyChars(s) {
		return "", nil
	}
	if strings.EqualFold(s[:len(Prefix)], Prefix) || keyOnly && keyishOwner(t.owner) {
		return ReasonWrongPrefix, nil
	}
	return "", nil
}
