package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// RegionHint is appended to the answer when Google refuses the request
// because of where it comes from ("User location is not supported").
const RegionHint = "Gemini is not available from this network's location: set an upstream proxy with a US exit in Settings (Upstream proxy) and try again."

// WithRegionHint is Google's location refusal message with RegionHint added.
func WithRegionHint(msg string) string { return strings.TrimSpace(msg) + " " + RegionHint }

// APIError is Google's error body, {"error":{"code","message","status","details"}}.
type APIError struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Status  string            `json:"status"`
	Details []json.RawMessage `json:"details,omitempty"`
}

// Error returns "gemini: CODE STATUS: message" with anything key-shaped masked.
func (e *APIError) Error() string {
	return fmt.Sprintf("gemini: %d %s: %s", e.Code, e.Status, Redact(e.Message))
}

// errorEnvelope is the outer object of Google's error bodies.
type errorEnvelope struct {
	Error *APIError `json:"error"`
}

// ParseError decodes Google's error shape from body. It also accepts the
// array-wrapped form [{"error":{...}}] that some Google endpoints send. It
// reports false when body is not such an error.
func ParseError(body []byte) (*APIError, bool) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, false
	}
	var e *APIError
	switch b[0] {
	case '{':
		var env errorEnvelope
		if json.Unmarshal(b, &env) != nil {
			return nil, false
		}
		e = env.Error
	case '[':
		var envs []errorEnvelope
		if json.Unmarshal(b, &envs) != nil {
			return nil, false
		}
		for _, env := range envs {
			if env.Error != nil {
				e = env.Error
				break
			}
		}
	}
	if e == nil || (e.Code == 0 && e.Status == "" && e.Message == "") {
		return nil, false
	}
	return e, true
}

// errorDetail holds the fields of the google.rpc detail messages Classify
// reads: ErrorInfo (reason), QuotaFailure (violations) and RetryInfo
// (retryDelay).
type errorDetail struct {
	Type       string `json:"@type"`
	Reason     string `json:"reason"`
	RetryDelay string `json:"retryDelay"`
	Violations []struct {
		QuotaID     string `json:"quotaId"`
		QuotaMetric string `json:"quotaMetric"`
	} `json:"violations"`
}

// details decodes e.Details, skipping entries it cannot read.
func (e *APIError) details() []errorDetail {
	if e == nil || len(e.Details) == 0 {
		return nil
	}
	out := make([]errorDetail, 0, len(e.Details))
	for _, raw := range e.Details {
		var d errorDetail
		if json.Unmarshal(raw, &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

// errorInfoReason returns the ErrorInfo reason, e.g. "API_KEY_INVALID", or "".
func errorInfoReason(details []errorDetail) string {
	for _, d := range details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Reason != "" {
			return d.Reason
		}
	}
	return ""
}

// retryInfoDelay returns RetryInfo.retryDelay, or 0.
func retryInfoDelay(details []errorDetail) time.Duration {
	for _, d := range details {
		if d.RetryDelay == "" {
			continue
		}
		if v, ok := parseSeconds(strings.TrimSuffix(d.RetryDelay, "s")); ok && strings.HasSuffix(d.RetryDelay, "s") {
			return v
		}
	}
	return 0
}

// retryInMessage matches "Please retry in 47.884324799s." in newer 429
// messages; some also say "ms".
var retryInMessage = regexp.MustCompile(`(?i)retry in ([0-9]+(?:\.[0-9]+)?)(ms|s)\b`)

// messageDelay returns the delay named in a message, or 0.
func messageDelay(msg string) time.Duration {
	m := retryInMessage.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	v, ok := parseSeconds(m[1])
	if !ok {
		return 0
	}
	if strings.EqualFold(m[2], "ms") {
		v /= 1000
	}
	return v
}

// parseSeconds parses a non-negative decimal number of seconds such as
// "26", "0.5" or "1.234" (a protobuf Duration without its "s").
func parseSeconds(s string) (time.Duration, bool) {
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, false
	}
	d, err := time.ParseDuration(s + "s")
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// statusNames maps HTTP codes to the google.rpc.Code names Google sends.
var statusNames = map[int]string{
	http.StatusBadRequest:            "INVALID_ARGUMENT",
	http.StatusUnauthorized:          "UNAUTHENTICATED",
	http.StatusForbidden:             "PERMISSION_DENIED",
	http.StatusNotFound:              "NOT_FOUND",
	http.StatusConflict:              "ABORTED",
	http.StatusRequestEntityTooLarge: "INVALID_ARGUMENT",
	http.StatusTooManyRequests:       "RESOURCE_EXHAUSTED",
	499:                              "CANCELLED",
	http.StatusInternalServerError:   "INTERNAL",
	http.StatusNotImplemented:        "NOT_IMPLEMENTED",
	http.StatusBadGateway:            "UNAVAILABLE",
	http.StatusServiceUnavailable:    "UNAVAILABLE",
	http.StatusGatewayTimeout:        "DEADLINE_EXCEEDED",
}

// StatusName returns the google.rpc status name Google uses with an HTTP
// code ("INVALID_ARGUMENT" for 400, "RESOURCE_EXHAUSTED" for 429 …);
// "UNKNOWN" for codes without one.
func StatusName(code int) string {
	if s, ok := statusNames[code]; ok {
		return s
	}
	switch {
	case code >= 500:
		return "INTERNAL"
	case code >= 400:
		return "FAILED_PRECONDITION"
	}
	return "UNKNOWN"
}

// WriteError writes Google's error shape {"error":{"code","message","status"}}
// with HTTP code. An empty status is filled from the code (StatusName).
// Anything key-shaped in message is masked.
func WriteError(w http.ResponseWriter, code int, status, message string) {
	if status == "" {
		status = StatusName(code)
	}
	var env struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	env.Error.Code = code
	env.Error.Message = Redact(message)
	env.Error.Status = status
	body, err := json.MarshalIndent(env, "", "  ")
	if err != nil { // cannot happen with these field types
		body = []byte(`{"error":{"code":500,"message":"internal error","status":"INTERNAL"}}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// keyShaped matches Google API keys ("AIza" + key characters), also
// truncated or over-long ones Google may echo back.
var keyShaped = regexp.MustCompile(`AIza[0-9A-Za-z_\-]{4,}`)

// keyParam matches a key=… query parameter in a URL.
var keyParam = regexp.MustCompile(`([?&](?:key|api_key)=)([^&#\s"'<>\\]+)`)

// Redact masks every key-shaped token in s ("AIza…wxyz") and the value of
// key= URL parameters, so that s can be logged or shown. It is cheap when s
// holds nothing to mask.
func Redact(s string) string {
	if strings.Contains(s, "key=") {
		s = keyParam.ReplaceAllStringFunc(s, func(m string) string {
			i := strings.IndexByte(m, '=') + 1
			return m[:i] + maskToken(m[i:])
		})
	}
	if strings.Contains(s, "AIza") {
		s = keyShaped.ReplaceAllStringFunc(s, maskToken)
	}
	return s
}

// maskToken masks one secret-looking token the way apikey.Mask does for
// keys: "AIza…wxyz". Short tokens keep nothing but the AIza prefix.
func maskToken(t string) string {
	if strings.Contains(t, "…") || t == "****" {
		return t // already masked
	}
	if !strings.HasPrefix(t, "AIza") {
		return "****"
	}
	if len(t) < 20 {
		return "AIza…"
	}
	return t[:4] + "…" + t[len(t)-4:]
}
