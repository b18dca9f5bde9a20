package gemini

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClassifyErrorFixtures classifies every real error body in
// testdata/errors with the HTTP status it was captured with.
func TestClassifyErrorFixtures(t *testing.T) {
	tests := map[string]struct {
		status      int
		class       Class
		delay       time.Duration
		reasonHas   string
		shouldRetry bool
	}{
		"400-FAILED_PRECONDITION-user-location.json":            {400, ClassRegion, 0, RegionHint, false},
		"400-INVALID_ARGUMENT-API_KEY_INVALID.expired.json":     {400, ClassKeyExpired, 0, "API key expired", true},
		"400-INVALID_ARGUMENT-API_KEY_INVALID.json":             {400, ClassKeyInvalid, 0, "invalid API key", true},
		"403-PERMISSION_DENIED-SERVICE_DISABLED.json":           {403, ClassKeyDenied, 0, "disabled", true},
		"403-PERMISSION_DENIED-unregistered-callers.json":       {403, ClassClient, 0, "unregistered callers", false},
		"404-NOT_FOUND-model.v1.json":                           {404, ClassClient, 0, "gemini-5.0-flash is not found", false},
		"404-NOT_FOUND-model.v1beta.no-details.json":            {404, ClassClient, 0, "404 NOT_FOUND", false},
		"404-NOT_FOUND-model.v1beta.streamGenerateContent.json": {404, ClassClient, 0, "custom-gemini-2.0-flash", false},
		"429-RESOURCE_EXHAUSTED.bare.json":                      {429, ClassRateLimited, 0, "rate limited", true},
		"429-RESOURCE_EXHAUSTED.quota-2025-06.json":             {429, ClassRateLimited, 26 * time.Second, "PerMinute", true},
		"429-RESOURCE_EXHAUSTED.quota-2025-late.json":           {429, ClassQuotaDaily, 47884324799 * time.Nanosecond, "GenerateRequestsPerDayPerProjectPerModel-FreeTier", true},
		"500-INTERNAL.json":                                     {500, ClassTransient, 0, "500 INTERNAL", true},
		"503-UNAVAILABLE-high-demand.json":                      {503, ClassTransient, 0, "high demand", true},
		"503-UNAVAILABLE-overloaded.json":                       {503, ClassTransient, 0, "overloaded", true},
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "errors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(tests) {
		t.Errorf("testdata/errors has %d files, the table %d: every fixture needs a row", len(entries), len(tests))
	}
	for _, e := range entries {
		tt, ok := tests[e.Name()]
		if !ok {
			t.Errorf("no expectation for fixture %s", e.Name())
			continue
		}
		body := readFixture(t, filepath.Join("errors", e.Name()))
		got := Classify(tt.status, body)
		if got.Class != tt.class || got.RetryDelay != tt.delay {
			t.Errorf("Classify(%d, %s) = %v/%v, want %v/%v", tt.status, e.Name(), got.Class, got.RetryDelay, tt.class, tt.delay)
		}
		if !strings.Contains(got.Reason, tt.reasonHas) {
			t.Errorf("Classify(%d, %s).Reason = %q, want it to contain %q", tt.status, e.Name(), got.Reason, tt.reasonHas)
		}
		if got.Retry() != tt.shouldRetry {
			t.Errorf("Classify(%d, %s).Retry() = %v, want %v", tt.status, e.Name(), got.Retry(), tt.shouldRetry)
		}
	}
}

// TestClassifySuccess covers the empty-answer rule on real 2xx bodies.
func TestClassifySuccess(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want Class
	}{
		{"nil body (stream)", nil, ClassOK},
		{"text answer", readFixture(t, "native/generateContent.text.gemini-2.0-flash.json"), ClassOK},
		{"2.5 answer", readFixture(t, "native/generateContent.gemini-2.5-flash.recorded.json"), ClassOK},
		{"function call", readFixture(t, "native/generateContent.functionCall.gemini-2.0-flash.recorded.json"), ClassOK},
		{"thinking+function call", readFixture(t, "native/generateContent.thinking+functionCall.gemini-2.5-pro.json"), ClassOK},
		{"thinking reply", readFixture(t, "native/generateContent.thinking-reply.json"), ClassOK},
		{"finishReason SAFETY", readFixture(t, "native/generateContent.finishReason-SAFETY.json"), ClassOK},
		{"promptFeedback only", readFixture(t, "native/generateContent.promptFeedback-only.json"), ClassOK},
		{"finishReason OTHER, no content", readFixture(t, "native/generateContent.finishReason-OTHER-no-content.json"), ClassOK},
		{"countTokens", readFixture(t, "native/countTokens.gemini-2.5-flash.recorded.json"), ClassOK},
		{"embedContent", readFixture(t, "native/embedContent.SHAPE.json"), ClassOK},
		{"batchEmbedContents", readFixture(t, "native/batchEmbedContents.SHAPE.json"), ClassOK},
		{"models list", readFixture(t, "native/models.list.v1beta.page1.EXCERPT.json"), ClassOK},
		{"models get", readFixture(t, "native/models.get.gemini-2.5-flash.json"), ClassOK},
		{"empty object (DELETE)", []byte("{}"), ClassOK},
		{"empty body", []byte{}, ClassOK},
		{"not JSON", []byte("<html>ok</html>"), ClassOK},
		{"broken JSON", []byte(`{"candidates":[`), ClassOK},
		{"empty parts, no finishReason", []byte(`{"candidates":[{"content":{"parts":[]}}]}`), ClassEmpty},
		{"content without parts", []byte(`{"candidates":[{"content":{"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-2.5-pro","responseId":"abc"}`), ClassEmpty},
		{"empty text part", []byte(`{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"}}]}`), ClassEmpty},
		{"no candidates at all", []byte(`{"usageMetadata":{"promptTokenCount":7},"modelVersion":"gemini-2.5-flash"}`), ClassEmpty},
		{"empty candidates", []byte(`{"candidates":[]}`), ClassEmpty},
		{"empty promptFeedback", []byte(`{"candidates":[],"promptFeedback":{}}`), ClassEmpty},
		{"blockReason", []byte(`{"promptFeedback":{"blockReason":"SAFETY"}}`), ClassOK},
		{"thoughtSignature part", []byte(`{"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"abc"}]}}]}`), ClassOK},
		{"JSON array stream, empty", []byte(`[{"candidates":[{"content":{"parts":[]}}]},{"modelVersion":"x"}]`), ClassEmpty},
		{"JSON array stream, text", []byte(`[{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}]`), ClassOK},
		{"empty array", []byte(`[]`), ClassOK},
	}
	for _, tt := range tests {
		for _, status := range []int{200, 203} {
			got := Classify(status, tt.body)
			if got.Class != tt.want {
				t.Errorf("Classify(%d, %s) = %v (%q), want %v", status, tt.name, got.Class, got.Reason, tt.want)
			}
			if got.Class == ClassEmpty && !got.Retry() {
				t.Errorf("Classify(%d, %s).Retry() = false, want true", status, tt.name)
			}
		}
	}
}

// TestClassifySynthetic covers answers without a fixture: messages Google
// is known to send, bare status codes and bodies that are not JSON.
func TestClassifySynthetic(t *testing.T) {
	key := fakeKey(1)
	tests := []struct {
		name   string
		status int
		body   string
		class  Class
		delay  time.Duration
	}{
		{"bare 429", 429, "", ClassRateLimited, 0},
		{"429 html", 429, "<html>Too Many Requests</html>", ClassRateLimited, 0},
		{"429 half second", 429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"x","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.5s"}]}}`, ClassRateLimited, 500 * time.Millisecond},
		{"429 fractional", 429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"x","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.234s"}]}}`, ClassRateLimited, 1234 * time.Millisecond},
		{"429 message only", 429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded. Please retry in 47.88s."}}`, ClassRateLimited, 47880 * time.Millisecond},
		{"429 bad delay", 429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"x","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-3s"}]}}`, ClassRateLimited, 0},
		{"429 per day text", 429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded for quota metric 'Generate Content API requests per day'"}}`, ClassQuotaDaily, 0},
		{"leaked", 403, `{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another API key.","status":"PERMISSION_DENIED"}}`, ClassKeyDenied, 0},
		{"suspended", 403, `{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:` + key + `' has been suspended.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com"}]}}`, ClassKeyDenied, 0},
		{"suspended, no details", 403, `{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:` + key + `' has been suspended.","status":"PERMISSION_DENIED"}}`, ClassKeyDenied, 0},
		{"service blocked", 403, `{"error":{"code":403,"message":"Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_SERVICE_BLOCKED","domain":"googleapis.com"}]}}`, ClassKeyDenied, 0},
		{"key not valid, no details", 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`, ClassKeyInvalid, 0},
		{"file of another key", 403, `{"error":{"code":403,"message":"You do not have permission to access the File abc123 or it may not exist.","status":"PERMISSION_DENIED"}}`, ClassClient, 0},
		{"other 400", 400, `{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}`, ClassClient, 0},
		{"401", 401, `{"error":{"code":401,"message":"API keys are not supported by this API.","status":"UNAUTHENTICATED"}}`, ClassClient, 0},
		{"region without status", 400, `{"error":{"message":"User location is not supported for the API use."}}`, ClassRegion, 0},
		{"502 html", 502, "<html>Bad Gateway</html>", ClassTransient, 0},
		{"504", 504, "", ClassTransient, 0},
		{"408", 408, "", ClassTransient, 0},
		{"501", 501, "", ClassClient, 0},
		{"array-wrapped key error", 400, `[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]`, ClassKeyInvalid, 0},
	}
	for _, tt := range tests {
		got := Classify(tt.status, []byte(tt.body))
		if got.Class != tt.class || got.RetryDelay != tt.delay {
			t.Errorf("Classify(%d, %s) = %v/%v (%q), want %v/%v", tt.status, tt.name, got.Class, got.RetryDelay, got.Reason, tt.class, tt.delay)
		}
		if strings.Contains(got.Reason, key) || strings.Contains(got.Reason, key[4:20]) {
			t.Errorf("Classify(%d, %s).Reason = %q, leaks the key", tt.status, tt.name, got.Reason)
		}
		if got.Reason == "" {
			t.Errorf("Classify(%d, %s).Reason is empty", tt.status, tt.name)
		}
	}
}

func TestClassifyReasonRedacted(t *testing.T) {
	key := fakeKey(2)
	for _, status := range []int{400, 404, 500, 503} {
		body := `{"error":{"code":` + fmt.Sprint(status) + `,"message":"bad https://generativelanguage.googleapis.com/v1beta/models?key=` + key + ` and ` + key + `","status":"X"}}`
		got := Classify(status, []byte(body))
		if strings.Contains(got.Reason, key[4:]) || strings.Contains(got.Reason, key[10:30]) {
			t.Errorf("Classify(%d, …).Reason = %q, leaks the key", status, got.Reason)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyError(t *testing.T) {
	key := fakeKey(3)
	wrapURL := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?key=" + key, Err: err}
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassOK},
		{"canceled", context.Canceled, ClassCanceled},
		{"canceled in url.Error", wrapURL(context.Canceled), ClassCanceled},
		{"canceled wrapped", fmt.Errorf("read body: %w", context.Canceled), ClassCanceled},
		{"deadline", context.DeadlineExceeded, ClassTransient},
		{"deadline in url.Error", wrapURL(context.DeadlineExceeded), ClassTransient},
		{"net timeout", wrapURL(timeoutErr{}), ClassTransient},
		{"unexpected EOF", io.ErrUnexpectedEOF, ClassTransient},
		{"EOF in url.Error", wrapURL(io.EOF), ClassTransient},
		{"connection refused", wrapURL(&net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}), ClassTransient},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}, ClassTransient},
		{"dns", wrapURL(&net.DNSError{Err: "no such host", Name: "generativelanguage.googleapis.com", IsNotFound: true}), ClassTransient},
		{"other", errors.New("proxyconnect tcp: socks connect: general failure"), ClassTransient},
	}
	for _, tt := range tests {
		got := ClassifyError(tt.err)
		if got.Class != tt.want {
			t.Errorf("ClassifyError(%s) = %v (%q), want %v", tt.name, got.Class, got.Reason, tt.want)
		}
		if got.Class == ClassCanceled && got.Retry() {
			t.Errorf("ClassifyError(%s).Retry() = true, want false", tt.name)
		}
		if got.Class == ClassTransient && !got.Retry() {
			t.Errorf("ClassifyError(%s).Retry() = false, want true", tt.name)
		}
		if strings.Contains(got.Reason, key[4:]) {
			t.Errorf("ClassifyError(%s).Reason = %q, leaks the key", tt.name, got.Reason)
		}
	}
}

func TestClassString(t *testing.T) {
	want := []string{"ok", "key_invalid", "key_denied", "quota_daily", "rate_limited", "transient", "empty", "region", "client", "canceled",
		"key_expired", "unauthenticated", "forbidden", "too_large", "bad_request", "no_key", "unavailable"}
	for i, w := range want {
		if got := Class(i).String(); got != w {
			t.Errorf("Class(%d).String() = %q, want %q", i, got, w)
		}
		if got, ok := ParseClass(w); !ok || got != Class(i) {
			t.Errorf("ParseClass(%q) = %v, %v, want %v", w, got, ok, Class(i))
		}
	}
	if _, ok := ParseClass("nonsense"); ok {
		t.Errorf("ParseClass(nonsense) ok, want not")
	}
	if got := Class(99).String(); got != "Class(99)" {
		t.Errorf("Class(99).String() = %q, want %q", got, "Class(99)")
	}
}

func TestVerdictRetry(t *testing.T) {
	retry := map[Class]bool{
		ClassOK: false, ClassKeyInvalid: true, ClassKeyDenied: true, ClassQuotaDaily: true, ClassRateLimited: true,
		ClassTransient: true, ClassEmpty: true, ClassRegion: false, ClassClient: false, ClassCanceled: false,
		ClassKeyExpired: true, ClassUnauthenticated: false, ClassNoKey: false,
	}
	for c, want := range retry {
		if got := (Verdict{Class: c}).Retry(); got != want {
			t.Errorf("Verdict{%v}.Retry() = %v, want %v", c, got, want)
		}
	}
}

func BenchmarkClassifyOK(b *testing.B) {
	body, err := os.ReadFile("testdata/native/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Classify(200, body)
	}
}

func BenchmarkClassify429(b *testing.B) {
	body, err := os.ReadFile("testdata/errors/429-RESOURCE_EXHAUSTED.quota-2025-late.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Classify(429, body)
	}
}

func TestLocalClass(t *testing.T) {
	for status, want := range map[int]Class{
		200: ClassOK, 400: ClassBadRequest, 401: ClassUnauthenticated, 403: ClassForbidden, 404: ClassBadRequest,
		413: ClassTooLarge, 429: ClassNoKey, 499: ClassCanceled, 502: ClassUnavailable, 503: ClassUnavailable,
	} {
		got := LocalClass(status)
		if got != want {
			t.Errorf("LocalClass(%d) = %v, want %v", status, got, want)
		}
		if got != ClassOK && got != ClassCanceled && (!got.Local() || !got.Failure()) {
			t.Errorf("LocalClass(%d) = %v: Local() %v, Failure() %v, want both true", status, got, got.Local(), got.Failure())
		}
	}
	for _, c := range []Class{ClassOK, ClassKeyExpired, ClassClient, ClassCanceled} {
		if c.Local() {
			t.Errorf("%v.Local() = true, want false", c)
		}
	}
}
