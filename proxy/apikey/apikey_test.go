package apikey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"

// fakeKey returns a well-formed, made-up key derived from seed.
func fakeKey(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := []byte(Prefix)
	for range KeyLen - len(Prefix) {
		b = append(b, keyAlphabet[r.IntN(len(keyAlphabet))])
	}
	return string(b)
}

func TestFakeKeyValid(t *testing.T) {
	for i := range uint64(100) {
		if k := fakeKey(i); !Valid(k) {
			t.Fatalf("Valid(fakeKey(%d)) = false, want true", i)
		}
	}
}

func TestValid(t *testing.T) {
	k := fakeKey(1)
	tests := []struct {
		in   string
		want bool
	}{
		{k, true},
		{"AIza" + strings.Repeat("_", 35), true},
		{"AIza" + strings.Repeat("-", 35), true},
		{"", false},
		{k[:38], false},
		{k + "a", false},
		{"AIzb" + k[4:], false},
		{"aiza" + k[4:], false},
		{k[:20] + "." + k[21:], false},
		{k[:20] + "é" + k[22:], false},
		{k[:38] + " ", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "****"},
		{"abcdefg", "****"},
		{"abcdefgh", "…gh"},
		{"abcdefghijklmno", "…no"},
		{"abcdefghijklmnop", "abcd…mnop"},
		{"AIzaSyA1234567890abcdefghijklmnopqrwxyz", "AIza…wxyz"},
		{"ééééééééééééééééxy", "éééé…ééxy"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFingerprintAndID(t *testing.T) {
	k := fakeKey(2)
	fp := Fingerprint(k)
	if len(fp) != 16 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint(key) = %q, want 16 lower-case hex characters", fp)
	}
	if got := Fingerprint(k); got != fp {
		t.Errorf("Fingerprint(key) = %q then %q, want stable", fp, got)
	}
	if got := Fingerprint(fakeKey(3)); got == fp {
		t.Errorf("Fingerprint of two keys = %q for both, want different", got)
	}
	// SHA-256("abc") = ba7816bf8f01cfea...
	if got, want := Fingerprint("abc"), "ba7816bf8f01cfea"; got != want {
		t.Errorf("Fingerprint(%q) = %q, want %q", "abc", got, want)
	}
	if got, want := ID(k), "k"+fp; got != want {
		t.Errorf("ID(key) = %q, want %q", got, want)
	}
	if got, want := NewSecret(k).ID(), ID(k); got != want {
		t.Errorf("Secret.ID() = %q, want %q", got, want)
	}
	if got := (Secret{}).ID(); got != "" {
		t.Errorf("Secret{}.ID() = %q, want %q", got, "")
	}
}

func TestSecretBasics(t *testing.T) {
	k := fakeKey(4)
	s := NewSecret(k)
	if got := s.Reveal(); got != k {
		t.Errorf("NewSecret(k).Reveal() = %q, want %q", got, k)
	}
	if s.IsZero() {
		t.Errorf("NewSecret(k).IsZero() = true, want false")
	}
	if !(Secret{}).IsZero() || !NewSecret("").IsZero() {
		t.Errorf("zero Secret IsZero() = false, want true")
	}
	if got := (Secret{}).Reveal(); got != "" {
		t.Errorf("Secret{}.Reveal() = %q, want \"\"", got)
	}
	if !s.Equal(NewSecret(k)) || s.Equal(NewSecret(fakeKey(5))) {
		t.Errorf("Secret.Equal is wrong")
	}
	if got, want := s.String(), Mask(k); got != want {
		t.Errorf("Secret.String() = %q, want %q", got, want)
	}
}

type exported struct {
	Name string
	Key  Secret
	Ptr  *Secret
}

type hidden struct {
	name string
	key  Secret
	keys []Secret
	m    map[string]Secret
}

// TestSecretNeverPrinted prints Secrets, and structs, slices, maps and
// pointers holding them, through every path we know, and looks for the key.
func TestSecretNeverPrinted(t *testing.T) {
	k := fakeKey(6)
	s := NewSecret(k)
	values := map[string]any{
		"Secret":          s,
		"*Secret":         &s,
		"exported":        exported{Name: "n", Key: s, Ptr: &s},
		"*exported":       &exported{Name: "n", Key: s, Ptr: &s},
		"hidden":          hidden{name: "n", key: s, keys: []Secret{s}, m: map[string]Secret{"a": s}},
		"*hidden":         &hidden{name: "n", key: s},
		"[]Secret":        []Secret{s, s},
		"map[string]Sec":  map[string]Secret{"a": s},
		"map[Secret]int":  map[Secret]int{s: 1},
		"[]any":           []any{s, &s},
		"nested exported": struct{ In exported }{exported{Key: s}},
		"nested hidden":   struct{ in hidden }{hidden{key: s}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%10v", "%-50s|", "%p"}
	for name, v := range values {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, k) {
				t.Errorf("fmt.Sprintf(%q, %s) = %q, contains the raw key", verb, name, out)
			}
		}
		for _, out := range []string{fmt.Sprint(v), fmt.Sprintln(v)} {
			if strings.Contains(out, k) {
				t.Errorf("fmt.Sprint(%s) = %q, contains the raw key", name, out)
			}
		}
		if b, err := json.Marshal(v); err == nil && bytes.Contains(b, []byte(k)) {
			t.Errorf("json.Marshal(%s) = %s, contains the raw key", name, b)
		}
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
			slog.New(h).Info("msg", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
		}
		if strings.Contains(buf.String(), k) {
			t.Errorf("slog output for %s = %q, contains the raw key", name, buf.String())
		}
	}
	if err := fmt.Errorf("wrap %v: %w", s, fmt.Errorf("%s", s)); strings.Contains(err.Error(), k) {
		t.Errorf("fmt.Errorf(...) = %q, contains the raw key", err)
	}
}

func TestSecretFormats(t *testing.T) {
	k := fakeKey(7)
	s := NewSecret(k)
	m := Mask(k)
	tests := []struct {
		format string
		want   string
	}{
		{"%v", m},
		{"%s", m},
		{"%+v", m},
		{"%x", m},
		{"%q", `"` + m + `"`},
		{"%#v", `apikey.Secret("` + m + `")`},
		{"%11s|", "  " + m + "|"},
		{"%-11s|", m + "  |"},
		{"%v", m},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, s); got != tt.want {
			t.Errorf("fmt.Sprintf(%q, s) = %q, want %q", tt.format, got, tt.want)
		}
	}
	if got, want := fmt.Sprintf("%+v", exported{Name: "n", Key: s}), "{Name:n Key:"+m+" Ptr:<nil>}"; got != want {
		t.Errorf("fmt.Sprintf(%%+v, exported) = %q, want %q", got, want)
	}
	b, err := json.Marshal(exported{Key: s})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"Name":"","Key":"`+m+`","Ptr":null}`; got != want {
		t.Errorf("json.Marshal(exported) = %s, want %s", got, want)
	}
	if got := s.LogValue().String(); got != m {
		t.Errorf("Secret.LogValue() = %q, want %q", got, m)
	}
	if got, _ := s.MarshalText(); string(got) != m {
		t.Errorf("Secret.MarshalText() = %q, want %q", got, m)
	}
}
