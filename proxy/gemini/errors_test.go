package gemini

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeKey returns a deterministic key of the real shape: AIza + 35 chars.
func fakeKey(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
	var b strings.Builder
	b.WriteString("AIza")
	x := uint32(n)*2654435761 + 12345
	for range 35 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte(alphabet[x%uint32(len(alphabet))])
	}
	return b.String()
}

func TestParseError(t *testing.T) {
	body := readFixture(t, "errors/429-RESOURCE_EXHAUSTED.quota-2025-06.json")
	e, ok := ParseError(body)
	if !ok {
		t.Fatalf("ParseError(429 fixture) = _, false, want true")
	}
	if e.Code != 429 || e.Status != "RESOURCE_EXHAUSTED" || len(e.Details) != 3 || !strings.HasPrefix(e.Message, "You exceeded your current quota") {
		t.Errorf("ParseError(429 fixture) = %+v, want code 429, RESOURCE_EXHAUSTED, 3 details", e)
	}
	if got, want := e.Error(), "gemini: 429 RESOURCE_EXHAUSTED: You exceeded"; !strings.HasPrefix(got, want) {
		t.Errorf("APIError.Error() = %q, want prefix %q", got, want)
	}

	for _, in := range []string{"", "  ", "null", "{}", `{"error":{}}`, `{"error":"x"}`, "[]", `[{"x":1}]`, "<html>", readFixtureString(t, "native/generateContent.text.gemini-2.0-flash.json")} {
		if e, ok := ParseError([]byte(in)); ok {
			t.Errorf("ParseError(%.30q) = %+v, true, want false", in, e)
		}
	}
	e, ok = ParseError([]byte(`[{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}]`))
	if !ok || e.Code != 400 || e.Message != "m" {
		t.Errorf("ParseError(array) = %+v, %v, want code 400 message m", e, ok)
	}
}

func readFixtureString(t *testing.T, name string) string { return string(readFixture(t, name)) }

func TestAPIErrorRedacts(t *testing.T) {
	key := fakeKey(7)
	e := &APIError{Code: 403, Status: "PERMISSION_DENIED", Message: "Consumer 'api_key:" + key + "' has been suspended."}
	if got := e.Error(); strings.Contains(got, key[4:]) {
		t.Errorf("APIError.Error() = %q, leaks the key", got)
	}
}

func TestWriteError(t *testing.T) {
	key := fakeKey(8)
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusTooManyRequests, "", "all keys cooling down, key "+key)
	if rec.Code != 429 {
		t.Errorf("WriteError code = %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json; charset=UTF-8" {
		t.Errorf("WriteError Content-Type = %q, want application/json; charset=UTF-8", got)
	}
	e, ok := ParseError(rec.Body.Bytes())
	if !ok {
		t.Fatalf("ParseError(WriteError output %q) = false", rec.Body.String())
	}
	if e.Code != 429 || e.Status != "RESOURCE_EXHAUSTED" || !strings.HasPrefix(e.Message, "all keys cooling down") {
		t.Errorf("WriteError wrote %+v, want 429 RESOURCE_EXHAUSTED", e)
	}
	if strings.Contains(rec.Body.String(), key[4:]) {
		t.Errorf("WriteError body = %q, leaks the key", rec.Body.String())
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || len(raw["error"]) != 3 {
		t.Errorf("WriteError body = %s, want exactly code, message, status", rec.Body.String())
	}

	rec = httptest.NewRecorder()
	WriteError(rec, 400, "FAILED_PRECONDITION", "x")
	if e, _ := ParseError(rec.Body.Bytes()); e == nil || e.Status != "FAILED_PRECONDITION" {
		t.Errorf("WriteError(400, FAILED_PRECONDITION) wrote %s", rec.Body.String())
	}
}

func TestStatusName(t *testing.T) {
	for code, want := range map[int]string{400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 418: "FAILED_PRECONDITION", 200: "UNKNOWN"} {
		if got := StatusName(code); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	key := fakeKey(9)
	mask := "AIza…" + key[len(key)-4:]
	tests := []struct{ in, want string }{
		{"", ""},
		{"nothing here", "nothing here"},
		{key, mask},
		{"bad key " + key + ".", "bad key " + mask + "."},
		{"Consumer 'api_key:" + key + "' has been suspended.", "Consumer 'api_key:" + mask + "' has been suspended."},
		{"https://x/v1beta/models?key=" + key + "&pageSize=1", "https://x/v1beta/models?key=" + mask + "&pageSize=1"},
		{"https://x/upload?upload_id=1&key=notakey", "https://x/upload?upload_id=1&key=****"},
		{"two " + key + " " + key, "two " + mask + " " + mask},
		{"AIzaShort", "AIza…"},
		{mask, mask},
		{"key=" + mask, "key=" + mask},
		{"AIza…", "AIza…"},
		{"monkey=banana", "monkey=banana"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Redact(Redact(tt.in)); got != tt.want {
			t.Errorf("Redact(Redact(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("key=" + fakeKey(1))
	f.Add("x AIza" + strings.Repeat("a", 40))
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if keyShaped.MatchString(out) {
			t.Errorf("Redact(%q) = %q, still holds a key-shaped token", s, out)
		}
		if Redact(out) != out {
			t.Errorf("Redact is not idempotent on %q", s)
		}
	})
}
