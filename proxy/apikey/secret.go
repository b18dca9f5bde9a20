package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Secret holds an API key. Every way of printing it (fmt with any verb,
// log/slog, encoding/json, encoding.TextMarshaler) yields the masked form;
// only Reveal returns the raw key.
//
// The zero Secret holds no key. Secrets are safe to copy. Two Secrets made
// from the same key are not ==; use Equal.
type Secret struct {
	// The key is only reachable through a function value: reflection-based
	// printers (fmt on a struct holding a Secret in an unexported field, where
	// fmt cannot call the methods below, including its %!verb(...) fallback)
	// print functions as addresses and cannot follow them.
	b *box
}

type box struct{ raw func() string }

// NewSecret wraps raw. An empty raw gives the zero Secret.
func NewSecret(raw string) Secret {
	if raw == "" {
		return Secret{}
	}
	return Secret{b: &box{raw: func() string { return raw }}}
}

// Reveal returns the raw key. Call it only to put the key into the upstream
// request header or the keychain; never log or print the result.
func (s Secret) Reveal() string {
	if s.b == nil {
		return ""
	}
	return s.b.raw()
}

// IsZero reports whether s holds no key.
func (s Secret) IsZero() bool { return s.b == nil }

// Equal reports whether s and o hold the same key.
func (s Secret) Equal(o Secret) bool { return s.Reveal() == o.Reveal() }

// ID returns the stable identifier of the key, see [ID]. The zero Secret has
// the ID "".
func (s Secret) ID() string {
	if s.IsZero() {
		return ""
	}
	return ID(s.Reveal())
}

// String returns the masked key, see [Mask].
func (s Secret) String() string { return Mask(s.Reveal()) }

// GoString returns the masked key as a Go expression, for %#v.
func (s Secret) GoString() string { return "apikey.Secret(" + strconv.Quote(s.String()) + ")" }

// Format implements fmt.Formatter: every verb prints the masked key
// (%q quoted, %#v as GoString). Width and the '-' flag are honoured.
func (s Secret) Format(f fmt.State, verb rune) {
	var out string
	switch {
	case verb == 'v' && f.Flag('#'):
		out = s.GoString()
	case verb == 'q':
		out = strconv.Quote(s.String())
	default:
		out = s.String()
	}
	if w, ok := f.Width(); ok {
		if pad := w - utf8.RuneCountInString(out); pad > 0 {
			spaces := strings.Repeat(" ", pad)
			if f.Flag('-') {
				out += spaces
			} else {
				out = spaces + out
			}
		}
	}
	_, _ = io.WriteString(f, out)
}

// LogValue implements slog.LogValuer: the masked key.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the masked key as a JSON string. There is deliberately
// no UnmarshalJSON: a Secret never round-trips through JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText implements encoding.TextMarshaler with the masked key, so
// that text encoders (and JSON map keys) never see the raw key either.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Mask returns a display form of raw that does not reveal it: the first 4
// and last 4 characters around "…" ("AIza…wxyz") for inputs of 16 or more
// characters, "…" plus the last 2 for 8 to 15 characters, "****" for shorter
// non-empty inputs, and "" for "".
func Mask(raw string) string {
	n := utf8.RuneCountInString(raw)
	switch {
	case n == 0:
		return ""
	case n >= 16:
		return firstRunes(raw, 4) + "…" + lastRunes(raw, 4)
	case n >= 8:
		return "…" + lastRunes(raw, 2)
	default:
		return "****"
	}
}

func firstRunes(s string, n int) string {
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func lastRunes(s string, n int) string {
	i := len(s)
	for range n {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// Fingerprint returns the first 16 hex characters of the SHA-256 of raw:
// enough to recognise a key, useless to recover it.
func Fingerprint(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:8])
}

// ID returns the stable identifier of a key: "k" + Fingerprint(raw). It is
// the keychain account name and the database id of the key.
func ID(raw string) string { return "k" + Fingerprint(raw) }

// KeyLen is the length of a Gemini API key.
const KeyLen = 39

// Prefix starts every Gemini API key.
const Prefix = "AIza"

// Valid reports whether raw has the shape of a Gemini API key:
// ^AIza[0-9A-Za-z_-]{35}$.
func Valid(raw string) bool {
	if len(raw) != KeyLen || raw[:len(Prefix)] != Prefix {
		return false
	}
	for i := len(Prefix); i < len(raw); i++ {
		if !keyChar(raw[i]) {
			return false
		}
	}
	return true
}

func keyChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-'
}
