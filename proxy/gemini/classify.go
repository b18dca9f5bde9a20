package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Class says what an upstream answer means for the key that got it and for
// the request (DESIGN §3).
type Class int

// The classes of upstream answers.
const (
	ClassOK          Class = iota // a usable answer (including a refusal the client must see, e.g. finishReason SAFETY)
	ClassKeyInvalid               // the key is invalid (an expired one is ClassKeyExpired)
	ClassKeyDenied                // the key may not use the API (service disabled or blocked, leaked, project suspended)
	ClassQuotaDaily               // the daily quota of (key, model) is used up
	ClassRateLimited              // (key, model) is rate limited for a while
	ClassTransient                // upstream trouble (5xx, network error, timeout)
	ClassEmpty                    // a 2xx answer without content and without finishReason
	ClassRegion                   // Google refuses the egress location
	ClassClient                   // the request itself is wrong (404 model, other 4xx)
	ClassCanceled                 // the client went away
	ClassKeyExpired               // the key expired (a kind of invalid key, told apart for the user)

	// Local outcomes: the proxy answered by itself, before or without an
	// upstream answer. Classify never returns them; LocalClass maps the
	// status of such an answer to one.

	ClassUnauthenticated // 401: no or wrong access key
	ClassForbidden       // 403 refused locally
	ClassTooLarge        // 413: the request body is over the limit
	ClassBadRequest      // any other local 4xx: a malformed request, an unknown route
	ClassNoKey           // local 429: no usable key in the pool
	ClassUnavailable     // local 5xx: the proxy is paused, the upstream cannot be reached
)

var classNames = [...]string{
	ClassOK:          "ok",
	ClassKeyInvalid:  "key_invalid",
	ClassKeyDenied:   "key_denied",
	ClassQuotaDaily:  "quota_daily",
	ClassRateLimited: "rate_limited",
	ClassTransient:   "transient",
	ClassEmpty:       "empty",
	ClassRegion:      "region",
	ClassClient:      "client",
	ClassCanceled:    "canceled",
	ClassKeyExpired:  "key_expired",

	ClassUnauthenticated: "unauthenticated",
	ClassForbidden:       "forbidden",
	ClassTooLarge:        "too_large",
	ClassBadRequest:      "bad_request",
	ClassNoKey:           "no_key",
	ClassUnavailable:     "unavailable",
}

// String returns the class name used in logs, statistics, the request log
// and the UI: "ok", "key_invalid", "key_expired", "key_denied",
// "quota_daily", "rate_limited", "transient", "empty", "region", "client",
// "canceled", and for local answers "unauthenticated", "forbidden",
// "too_large", "bad_request", "no_key", "unavailable". These names are
// stored: never rename one without a migration.
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// MarshalText writes the class name, so JSON shows names, not numbers.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseClass returns the class named name (as String writes it).
func ParseClass(name string) (Class, bool) {
	for i, n := range classNames {
		if n == name {
			return Class(i), true
		}
	}
	return 0, false
}

// Failure reports whether a request with this outcome failed: everything
// but a usable answer and a client that went away.
func (c Class) Failure() bool { return c != ClassOK && c != ClassCanceled }

// RateLimited reports whether the outcome is one of Google's 429s.
func (c Class) RateLimited() bool { return c == ClassRateLimited || c == ClassQuotaDaily }

// Local reports whether the proxy answered by itself (see LocalClass).
func (c Class) Local() bool { return c >= ClassUnauthenticated && int(c) < len(classNames) }

// LocalClass classifies an answer the proxy made without an upstream
// answer, by its status: 401 unauthenticated, 403 forbidden, 413 too
// large, 429 no usable key, 499 canceled, other 4xx bad request, 5xx
// unavailable; below 400 it is ClassOK (a local answer that served the
// request, such as a cached model list).
func LocalClass(status int) Class {
	switch {
	case status < 400:
		return ClassOK
	case status == 401:
		return ClassUnauthenticated
	case status == 403:
		return ClassForbidden
	case status == 413:
		return ClassTooLarge
	case status == 429:
		return ClassNoKey
	case status == 499:
		return ClassCanceled
	case status < 500:
		return ClassBadRequest
	}
	return ClassUnavailable
}

// Verdict is the outcome of one upstream attempt.
type Verdict struct {
	Class      Class
	RetryDelay time.Duration // from RetryInfo or "Please retry in 47.88s"; 0 when Google named none
	Reason     string        // short human text, never a key
}

// Retry reports whether the request should be tried again with another key
// (as long as nothing has been written to the client yet).
func (v Verdict) Retry() bool {
	switch v.Class {
	case ClassKeyInvalid, ClassKeyExpired, ClassKeyDenied, ClassQuotaDaily, ClassRateLimited, ClassTransient, ClassEmpty:
		return true
	}
	return false
}

// maxReasonLen bounds the upstream text copied into Verdict.Reason.
const maxReasonLen = 300

// Classify reads an upstream HTTP answer: its status code and (for errors
// and non-stream answers) its body. body may be nil for 2xx streams (then
// OK). For a non-stream 2xx generateContent body, an answer with no
// candidate content, no finishReason and no promptFeedback is ClassEmpty;
// any other 2xx answer is ClassOK.
func Classify(status int, body []byte) Verdict {
	if status >= 200 && status < 300 {
		if body != nil && isEmptyAnswer(body) {
			return Verdict{Class: ClassEmpty, Reason: "empty answer: no candidate content and no finishReason"}
		}
		return Verdict{Class: ClassOK}
	}
	e, _ := ParseError(body)
	if e == nil {
		e = &APIError{Code: status}
	}
	details := e.details()
	if status >= 400 && status < 500 && status != 429 {
		if v, ok := classifyKeyError(e, details); ok {
			return v
		}
	}
	msg := e.Message
	switch {
	case status == 429:
		return classifyRateLimit(e, details)
	case strings.Contains(msg, "User location is not supported"):
		return Verdict{Class: ClassRegion, Reason: "Google refused the request's location (" + short(msg) + "). " + RegionHint}
	case status == 408 || status == 499 || (status >= 500 && status != 501):
		// 408 and Google's 499 CANCELLED (a cancel on Google's side; our own
		// client's cancel never gets here, it is a ClassifyError) are
		// transient too.
		return Verdict{Class: ClassTransient, Reason: describe(status, e)}
	}
	// 403 "Method doesn't allow unregistered callers" means the request
	// reached Google WITHOUT a key. Our proxy always sends one, so either the
	// configured key is empty or something between us and Google (an
	// upstream proxy) stripped the header. Another key would fare no better
	// and no key is to blame: ClassClient, so the answer reaches the user
	// instead of every key in the pool being disabled one after another.
	return Verdict{Class: ClassClient, Reason: describe(status, e)}
}

// keyDeniedReasons maps ErrorInfo reasons that make a key unusable for every
// model to the text shown to the user.
var keyDeniedReasons = map[string]string{
	"SERVICE_DISABLED":              "Generative Language API is disabled in the key's project",
	"API_KEY_SERVICE_BLOCKED":       "API key may not call the Generative Language API",
	"API_KEY_HTTP_REFERRER_BLOCKED": "API key is restricted to other HTTP referrers",
	"API_KEY_IP_ADDRESS_BLOCKED":    "API key is restricted to other IP addresses",
	"API_KEY_ANDROID_APP_BLOCKED":   "API key is restricted to an Android app",
	"API_KEY_IOS_APP_BLOCKED":       "API key is restricted to an iOS app",
	"CONSUMER_SUSPENDED":            "the key's project has been suspended",
	"CONSUMER_INVALID":              "the key's project is invalid or deleted",
}

// classifyKeyError recognises the 4xx answers that are the key's fault.
func classifyKeyError(e *APIError, details []errorDetail) (Verdict, bool) {
	reason := errorInfoReason(details)
	msg := e.Message
	lower := strings.ToLower(msg)
	switch {
	case reason == "API_KEY_INVALID" || strings.Contains(msg, "API key not valid") || strings.Contains(msg, "API key expired"):
		if strings.Contains(lower, "expired") {
			return Verdict{Class: ClassKeyExpired, Reason: "API key expired"}, true
		}
		return Verdict{Class: ClassKeyInvalid, Reason: "invalid API key"}, true
	case keyDeniedReasons[reason] != "":
		return Verdict{Class: ClassKeyDenied, Reason: keyDeniedReasons[reason]}, true
	case strings.Contains(lower, "leaked"):
		return Verdict{Class: ClassKeyDenied, Reason: "API key was reported as leaked"}, true
	case strings.Contains(lower, "has been suspended"):
		return Verdict{Class: ClassKeyDenied, Reason: "the key's project has been suspended"}, true
	}
	return Verdict{}, false
}

// classifyRateLimit tells a daily quota from a short-term rate limit.
func classifyRateLimit(e *APIError, details []errorDetail) Verdict {
	// Prefer the longer of RetryInfo ("47s") and the message ("Please retry
	// in 47.88s."): a key retried before Google's own deadline only earns
	// another 429.
	delay := max(retryInfoDelay(details), messageDelay(e.Message))
	quotaID := ""
	for _, d := range details {
		for _, v := range d.Violations {
			if strings.Contains(v.QuotaID, "PerDay") {
				return Verdict{Class: ClassQuotaDaily, RetryDelay: delay, Reason: "daily quota exhausted (" + short(v.QuotaID) + ")"}
			}
			if quotaID == "" {
				quotaID = v.QuotaID
			}
		}
	}
	if quotaID == "" && strings.Contains(strings.ToLower(e.Message), "per day") {
		return Verdict{Class: ClassQuotaDaily, RetryDelay: delay, Reason: "daily quota exhausted"}
	}
	reason := "rate limited"
	if quotaID != "" {
		reason += " (" + short(quotaID) + ")"
	}
	if delay > 0 {
		reason += fmt.Sprintf("; Google asks to retry in %s", delay.Round(100*time.Millisecond))
	}
	return Verdict{Class: ClassRateLimited, RetryDelay: delay, Reason: reason}
}

// describe renders "503 UNAVAILABLE: The model is overloaded…" for a Reason.
func describe(status int, e *APIError) string {
	st := e.Status
	if st == "" {
		st = StatusName(status)
	}
	s := fmt.Sprintf("%d %s", status, st)
	if e.Message != "" {
		s += ": " + short(e.Message)
	}
	return s
}

// short redacts s, keeps its first line and bounds its length.
func short(s string) string {
	s = Redact(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if len(s) > maxReasonLen {
		cut := maxReasonLen
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// ClassifyError classifies a transport error of an upstream attempt (no
// HTTP answer, or the body broke off). A cancel by the client is
// ClassCanceled and never held against a key; everything else (timeouts,
// connection errors, an unexpected EOF) is ClassTransient. A nil error is
// ClassOK.
func ClassifyError(err error) Verdict {
	var ne net.Error
	switch {
	case err == nil:
		return Verdict{Class: ClassOK}
	case errors.Is(err, context.Canceled):
		return Verdict{Class: ClassCanceled, Reason: "request canceled by the client"}
	case errors.Is(err, context.DeadlineExceeded):
		return Verdict{Class: ClassTransient, Reason: "upstream timed out"}
	case errors.As(err, &ne) && ne.Timeout():
		return Verdict{Class: ClassTransient, Reason: "upstream timed out"}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return Verdict{Class: ClassTransient, Reason: "upstream closed the connection early"}
	}
	return Verdict{Class: ClassTransient, Reason: "upstream connection failed: " + short(err.Error())}
}

// generateContentBody holds what the empty-answer check reads from a
// GenerateContentResponse. Pointer fields tell "absent" from "empty".
type generateContentBody struct {
	Candidates *[]struct {
		Content *struct {
			Parts []map[string]json.RawMessage `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	PromptFeedback json.RawMessage `json:"promptFeedback"`
	ModelVersion   *string         `json:"modelVersion"`
	ResponseID     *string         `json:"responseId"`
}

// isGenerateContent reports whether b has a field only a
// GenerateContentResponse has. Other methods (countTokens, embeddings,
// models, files, {} of a DELETE) are never "empty answers".
func (b *generateContentBody) isGenerateContent() bool {
	return b.Candidates != nil || b.PromptFeedback != nil || b.ModelVersion != nil || b.ResponseID != nil
}

// answered reports whether b carries anything the client must see: a
// candidate part with content, a finishReason, or promptFeedback.
func (b *generateContentBody) answered() bool {
	if pf := bytes.TrimSpace(b.PromptFeedback); len(pf) > 0 && !bytes.Equal(pf, []byte("null")) && !bytes.Equal(pf, []byte("{}")) {
		return true
	}
	if b.Candidates == nil {
		return false
	}
	for _, c := range *b.Candidates {
		if c.FinishReason != "" {
			return true
		}
		if c.Content == nil {
			continue
		}
		for _, p := range c.Content.Parts {
			for k, v := range p {
				if k != "text" || !bytes.Equal(bytes.TrimSpace(v), []byte(`""`)) {
					return true
				}
			}
		}
	}
	return false
}

// isEmptyAnswer reports whether a 2xx body is a generateContent answer (or
// a JSON array of them) without any candidate content, finishReason or
// promptFeedback. Non-JSON bodies and other methods' answers are not empty.
func isEmptyAnswer(body []byte) bool {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || bytes.Contains(b, []byte(`"finishReason"`)) {
		// Most real answers end with a finishReason: skip decoding them. An
		// empty 2xx body is not a generateContent answer we can judge.
		return false
	}
	switch b[0] {
	case '{':
		var gc generateContentBody
		if json.Unmarshal(b, &gc) != nil {
			return false
		}
		return gc.isGenerateContent() && !gc.answered()
	case '[':
		var all []generateContentBody
		if json.Unmarshal(b, &all) != nil || len(all) == 0 {
			return false
		}
		for i := range all {
			if !all[i].isGenerateContent() || all[i].answered() {
				return false
			}
		}
		return true
	}
	return false
}
