package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gemini-balance/desktop/proxy/openai"
)

// Error is an Anthropic-shaped error with the HTTP status to answer with:
// {"type":"error","error":{"type":…,"message":…}}. It is also the error
// type of every function in this package that rejects input.
type Error struct {
	Status  int
	Type    string // invalid_request_error, authentication_error, …; from Status when empty
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// MarshalJSON writes Anthropic's error envelope.
func (e *Error) MarshalJSON() ([]byte, error) {
	type inner struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	return json.Marshal(struct {
		Type  string `json:"type"`
		Error inner  `json:"error"`
	}{"error", inner{e.errorType(), e.Message}})
}

// errorType is e.Type, or the type Anthropic uses for e's status.
func (e *Error) errorType() string {
	if e.Type != "" {
		return e.Type
	}
	return TypeForStatus(e.status())
}

// status is e.Status, or 500 when it is not an error status.
func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// TypeForStatus returns Anthropic's error type for an HTTP status.
func TypeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestTimeout, http.StatusConflict,
		http.StatusUnprocessableEntity:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// WriteError writes e as the whole response. Headers such as Retry-After
// are the caller's to set before.
func WriteError(w http.ResponseWriter, e *Error) {
	b, _ := e.MarshalJSON()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// ErrorEvent is the SSE event that ends a stream which failed after its
// first event: "event: error" with the error envelope. The SDKs raise it as
// an API error; no message_stop follows it.
func ErrorEvent(e *Error) []byte {
	b, _ := e.MarshalJSON()
	out := make([]byte, 0, len(b)+24)
	out = append(out, "event: error\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// FromGeminiError turns an upstream Gemini error answer into an Anthropic
// error with the same HTTP status and message as openai.FromGeminiError
// (Google's message or an excerpt of the body, through gemini.Redact).
func FromGeminiError(status int, body []byte) *Error {
	oe := openai.FromGeminiError(status, body)
	return &Error{Status: oe.Status, Message: oe.Message}
}

// invalid is a 400 invalid_request_error.
func invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}
