package proxy

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// secretMasker hides the pool's keys and the access key in everything the
// proxy sends a client on the API routes: an upstream answer may echo the
// key it was called with (error bodies, headers), and that key must not
// reach the client. Only those secrets are masked: other key-shaped text
// (say, an example key in a model's answer, or a passthrough client's own
// key) passes untouched.
//
// Cost on the hot path: one bytes.Index for "AIza" and one for the access
// key per write; a hit costs a SHA-256 (the key id) and a pool lookup.
type secretMasker struct {
	pool   *keypool.Pool
	access []byte
}

var keyPrefix = []byte(apikey.Prefix)

// isPoolKey reports whether tok (KeyLen bytes) is a key of the pool.
func (m *secretMasker) isPoolKey(tok []byte) bool {
	if m.pool == nil || !apikey.Valid(string(tok)) {
		return false
	}
	k, ok := m.pool.Get(apikey.ID(string(tok)))
	return ok && k.Secret.Reveal() == string(tok)
}

// apply returns b with every secret in it masked ("AIza…wxyz"). b itself
// is not modified; the result is b when there was nothing to mask. When
// more text may follow (final false), hold is how many bytes at the end of
// the result could be the start of a secret that the next write completes:
// the caller keeps them back until then.
func (m *secretMasker) apply(b []byte, final bool) (out []byte, hold int) {
	out = b
	if i := bytes.Index(out, keyPrefix); i >= 0 {
		out = m.maskKeys(out, i)
	}
	if len(m.access) > 0 && bytes.Contains(out, m.access) {
		out = bytes.ReplaceAll(out, m.access, []byte(apikey.Mask(string(m.access))))
	}
	if !final {
		hold = m.partialTail(out)
	}
	return out, hold
}

// maskKeys masks the pool keys in b, the first "AIza" being at i.
func (m *secretMasker) maskKeys(b []byte, i int) []byte {
	var out []byte // nil until the first replacement
	done := 0      // b[:done] is in out
	for i >= 0 {
		if i+apikey.KeyLen <= len(b) && m.isPoolKey(b[i:i+apikey.KeyLen]) {
			if out == nil {
				out = make([]byte, 0, len(b))
			}
			out = append(out, b[done:i]...)
			out = append(out, apikey.Mask(string(b[i:i+apikey.KeyLen]))...)
			done = i + apikey.KeyLen
			i = done
		} else {
			i++
		}
		j := bytes.Index(b[i:], keyPrefix)
		if j < 0 {
			break
		}
		i += j
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}

// partialTail returns the length of the longest suffix of b that could be
// the beginning of a pool key (a prefix of "AIza" or "AIza" and key
// characters, shorter than a key) or of the access key.
func (m *secretMasker) partialTail(b []byte) int {
	longest := max(apikey.KeyLen, len(m.access)) - 1
	start := max(len(b)-longest, 0)
	for s := start; s < len(b); s++ {
		c := b[s]
		if c != 'A' && (len(m.access) == 0 || c != m.access[0]) {
			continue
		}
		tail := b[s:]
		if len(tail) < apikey.KeyLen && keyStart(tail) {
			return len(tail)
		}
		if len(tail) < len(m.access) && bytes.HasPrefix(m.access, tail) {
			return len(tail)
		}
	}
	return 0
}

// keyStart reports whether t could begin a Gemini key.
func keyStart(t []byte) bool {
	if len(t) <= len(keyPrefix) {
		return bytes.HasPrefix(keyPrefix, t)
	}
	if !bytes.HasPrefix(t, keyPrefix) {
		return false
	}
	for _, c := range t[len(keyPrefix):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// header masks the secrets in every value of h.
func (m *secretMasker) header(h http.Header) {
	for k, vs := range h {
		for i, v := range vs {
			if strings.Contains(v, apikey.Prefix) || (len(m.access) > 0 && strings.Contains(v, string(m.access))) {
				out, _ := m.apply([]byte(v), true)
				h[k][i] = string(out)
			}
		}
	}
}
