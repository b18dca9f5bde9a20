package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// Error is an OpenAI-shaped error with the HTTP status to answer with. It is
// also the error type of every function in this package that rejects input.
type Error struct {
	Status  int
	Message string
	Type    string
	Param   string
	Code    string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// MarshalJSON writes {"error":{"message","type","param","code"}}; param and
// code are null when empty, as OpenAI sends them.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: e.Message, Type: e.Type}
	if b.Type == "" {
		b.Type = typeForStatus(e.status())
	}
	if e.Param != "" {
		b.Param = &e.Param
	}
	if e.Code != "" {
		b.Code = &e.Code
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{b})
}

// WriteError writes e as the whole response: JSON body and e.Status (500 if
// unset). Headers such as Retry-After are the caller's to set before.
func WriteError(w http.ResponseWriter, e *Error) {
	status := e.status()
	b, _ := e.MarshalJSON()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// status is e.Status, or 500 when it is not an error status.
func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// ErrorChunk is the data of the SSE event that ends a stream which failed
// after its first byte: {"error":{...}}. The official SDKs raise it as an
// API error. No "data: [DONE]" must follow it.
func ErrorChunk(e *Error) []byte {
	b, _ := e.MarshalJSON()
	return b
}

// invalid is a 400 invalid_request_error about param.
func invalid(param, format string, args ...any) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...),
		Type:    "invalid_request_error",
		Param:   param,
	}
}

func typeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// FromGeminiError turns an upstream Gemini error answer into an OpenAI error
// with the same HTTP status. body may be Google's object shape, the
// array-wrapped shape of Google's OpenAI endpoint, or anything else (then a
// short excerpt of the text is used). Code is Google's status in lower case
// (e.g. "resource_exhausted"). The message goes through gemini.Redact.
func FromGeminiError(status int, body []byte) *Error {
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	e := &Error{Status: status, Type: typeForStatus(status)}
	if ge, ok := gemini.ParseError(body); ok {
		e.Message = ge.Message
		e.Code = strings.ToLower(ge.Status)
	} else if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		e.Message = excerpt(trimmed, 300)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("upstream answered HTTP %d %s", status, http.StatusText(status))
	}
	e.Message = gemini.Redact(e.Message)
	return e
}

func excerpt(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) > n {
		s = s[:n]
		s = strings.ToValidUTF8(s, "") + "…"
	}
	return s
}
