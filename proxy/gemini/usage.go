package gemini

import "bytes"

// UsageCounts reads the three token counters of the last usageMetadata in
// body (a generateContent answer, one SSE event's data, or a streamed JSON
// array) without decoding JSON: the proxy calls it for every answer, so it
// scans bytes and allocates nothing. ok is false when body has no usage
// object; counters it lacks are 0. UsageOf gives the whole object.
func UsageCounts(body []byte) (prompt, candidates, thoughts int64, ok bool) {
	i := bytes.LastIndex(body, usageKey)
	if i < 0 {
		return 0, 0, 0, false
	}
	obj := objectAt(body[i+len(usageKey):])
	if obj == nil {
		return 0, 0, 0, false
	}
	prompt = intField(obj, `"promptTokenCount"`)
	candidates = intField(obj, `"candidatesTokenCount"`)
	thoughts = intField(obj, `"thoughtsTokenCount"`)
	return prompt, candidates, thoughts, true
}

// objectAt returns the JSON object that follows `: ` at the start of b, up
// to its matching brace, or nil.
func objectAt(b []byte) []byte {
	j := skipSpace(b, 0)
	if j >= len(b) || b[j] != ':' {
		return nil
	}
	j = skipSpace(b, j+1)
	if j >= len(b) || b[j] != '{' {
		return nil
	}
	return balanced(b[j:])
}

// skipSpace returns the index of the first byte of b from j on that is
// not JSON white space.
func skipSpace(b []byte, j int) int {
	for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
		j++
	}
	return j
}

// balanced returns the JSON object or array that starts b, up to its
// matching brace (strings skipped), or nil when it does not end in b.
func balanced(b []byte) []byte {
	depth, inStr := 0, false
	for j := 0; j < len(b); j++ {
		c := b[j]
		switch {
		case inStr:
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return b[:j+1]
			}
		}
	}
	return nil
}

// intField returns the non-negative integer value of the top-level-named
// key in obj (names are unique among usage counters), or 0.
func intField(obj []byte, key string) int64 {
	k := bytes.Index(obj, []byte(key))
	if k < 0 {
		return 0
	}
	rest := obj[k+len(key):]
	j := 0
	for j < len(rest) && (rest[j] == ' ' || rest[j] == ':' || rest[j] == '\t' || rest[j] == '\r' || rest[j] == '\n') {
		j++
	}
	var n int64
	for ; j < len(rest) && rest[j] >= '0' && rest[j] <= '9'; j++ {
		n = n*10 + int64(rest[j]-'0')
	}
	return n
}
