package proxytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Step is one scripted answer of the fake. Build steps with the
// constructors below and queue them with Server.Script or Server.ScriptAll.
// A Step is a value; the same Step may be queued many times.
type Step struct {
	name   string
	sticky bool
	run    func(c *call)
}

// String names the step, e.g. "RateLimited(26s)" or "Always(Unavailable)".
func (st Step) String() string {
	if st.sticky {
		return "Always(" + st.name + ")"
	}
	return st.name
}

// Always makes step sticky: it answers every request of its queue forever
// and is never consumed (steps queued after it are never reached).
func Always(step Step) Step {
	step.sticky = true
	return step
}

// errorStep answers with status and a fixture body (an error of Google's
// shape). Like Google, it serves the JSON with Content-Type
// text/event-stream when the request asked for alt=sse.
func errorStep(name string, status int, body []byte) Step {
	return Step{name: name, run: func(c *call) { c.writeError(status, body) }}
}

// RateLimited answers 429 RESOURCE_EXHAUSTED with a per-minute QuotaFailure
// and RetryInfo.retryDelay set to retryDelay (as Google writes it: "26s",
// "0.5s"). An empty retryDelay drops the RetryInfo detail.
func RateLimited(retryDelay string) Step {
	body := FixtureBody(fxRateLimited)
	const retryInfo = `,
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "26s"
      }`
	if !bytes.Contains(body, []byte(retryInfo)) {
		panic("proxytest: " + fxRateLimited + " has no RetryInfo to replace")
	}
	repl := ""
	if retryDelay != "" {
		quoted, _ := json.Marshal(retryDelay)
		repl = strings.Replace(retryInfo, `"26s"`, string(quoted), 1)
	}
	body = bytes.Replace(body, []byte(retryInfo), []byte(repl), 1)
	return errorStep("RateLimited("+retryDelay+")", http.StatusTooManyRequests, body)
}

// DailyQuota answers 429 with a QuotaFailure whose violations include a
// …PerDay… quotaId (and "Please retry in 47.88s." in the message).
func DailyQuota() Step {
	return errorStep("DailyQuota", http.StatusTooManyRequests, FixtureBody(fxDailyQuota))
}

// BareRateLimit answers 429 RESOURCE_EXHAUSTED without any details.
func BareRateLimit() Step {
	return errorStep("BareRateLimit", http.StatusTooManyRequests, FixtureBody(fxBare429))
}

// InvalidKey answers 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID.
func InvalidKey() Step {
	return errorStep("InvalidKey", http.StatusBadRequest, FixtureBody(fxKeyInvalid))
}

// ExpiredKey answers 400 "API key expired. Please renew the API key."
func ExpiredKey() Step {
	return errorStep("ExpiredKey", http.StatusBadRequest, FixtureBody(fxKeyExpired))
}

// Disabled answers 403 PERMISSION_DENIED with ErrorInfo SERVICE_DISABLED.
func Disabled() Step {
	return errorStep("Disabled", http.StatusForbidden, FixtureBody(fxDisabled))
}

// Unavailable answers 503 UNAVAILABLE "The model is overloaded."
func Unavailable() Step {
	return errorStep("Unavailable", http.StatusServiceUnavailable, FixtureBody(fxUnavailable))
}

// Internal answers 500 INTERNAL.
func Internal() Step {
	return errorStep("Internal", http.StatusInternalServerError, FixtureBody(fxInternal))
}

// RegionRefused answers 400 FAILED_PRECONDITION "User location is not
// supported for the API use."
func RegionRefused() Step {
	return errorStep("RegionRefused", http.StatusBadRequest, FixtureBody(fxRegion))
}

// ModelNotFound answers 404 NOT_FOUND naming the requested model and API
// version, as Google does for an unknown or retired model.
func ModelNotFound() Step {
	tmpl := FixtureBody(fxModelNotFound)
	return Step{name: "ModelNotFound", run: func(c *call) {
		model := c.rt.model
		if model == "" {
			model = "unknown"
		}
		body := bytes.ReplaceAll(tmpl, []byte(fxNotFoundModel), []byte("models/"+model))
		body = bytes.ReplaceAll(body, []byte(fxNotFoundAPIVer), []byte("API version "+c.rt.ver))
		c.writeError(http.StatusNotFound, body)
	}}
}

// EmptyAnswer answers 200 with a candidate that has neither content parts
// nor a finishReason (an empty answer, to be retried). A stream gets this
// answer as its only event.
func EmptyAnswer() Step {
	body := FixtureBody(fxEmpty)
	return Step{name: "EmptyAnswer", run: func(c *call) {
		if c.rt.streaming() {
			c.stream(streamPlan{events: [][]byte{sseEvent(compactJSON(body))}, failAfter: -1})
			return
		}
		c.writeJSON(http.StatusOK, body)
	}}
}

// Fixture answers with status, contentType and body exactly as given.
func Fixture(status int, contentType string, body []byte) Step {
	body = bytes.Clone(body)
	return Step{name: fmt.Sprintf("Fixture(%d)", status), run: func(c *call) {
		c.writeRaw(status, contentType, body)
	}}
}

// StreamFixture answers a stream request with the events of an SSE capture
// (e.g. FixtureBody("native/streamGenerateContent.thinking+functionCall.sse.txt")),
// flushing after each event; without alt=sse they come as a JSON array. A
// non-stream request gets the data of the events as a JSON array too.
func StreamFixture(stream []byte) Step {
	events := splitEvents(stream)
	return Step{name: "StreamFixture", run: func(c *call) {
		c.stream(streamPlan{events: events, failAfter: -1})
	}}
}

// SSEStream answers a stream request with events synthetic chunks, interval
// apart (none before the first). Each chunk is the first event of a real
// capture with its text replaced: "chunk 1 ", "chunk 2 ", …; the last one
// carries finishReason STOP and the full usageMetadata. A non-stream request
// gets the default answer after (events-1)×interval.
func SSEStream(events int, interval time.Duration) Step {
	return Step{name: fmt.Sprintf("SSEStream(%d, %s)", events, interval), run: func(c *call) {
		if !c.rt.streaming() {
			if c.wait(time.Duration(max(events-1, 0)) * interval) {
				c.serveDefault()
			}
			return
		}
		c.stream(streamPlan{events: c.s.synthetic(events, true), interval: interval, failAfter: -1})
	}}
}

// SlowStream is SSEStream under the name that reads better in tests of
// timeouts and incremental delivery.
func SlowStream(events int, interval time.Duration) Step {
	st := SSEStream(events, interval)
	st.name = fmt.Sprintf("SlowStream(%d, %s)", events, interval)
	return st
}

// StreamFailAfter sends n synthetic chunks ("chunk 1 " … "chunk n ", none
// with a finishReason), flushed one by one, then breaks the connection
// without ending the response. A non-stream request gets half of the
// default body, then the same break.
func StreamFailAfter(n int) Step {
	return Step{name: fmt.Sprintf("StreamFailAfter(%d)", n), run: func(c *call) {
		if !c.rt.streaming() {
			body := c.s.defaultBody(c)
			c.setHeaders("application/json; charset=UTF-8", false)
			c.w.WriteHeader(http.StatusOK)
			_, _ = c.w.Write(body[:len(body)/2])
			c.abort() // panics
			return
		}
		c.stream(streamPlan{events: c.s.synthetic(n, false), failAfter: n})
	}}
}

// Gate answers a stream request with its first event, then waits until ch
// is closed (or receives) before it sends the rest: a test can check that
// the first event went through before the upstream answer was complete. The
// events are those of the default stream. A non-stream request waits for ch
// before the default answer.
func Gate(ch <-chan struct{}) Step {
	return Step{name: "Gate", run: func(c *call) {
		if !c.rt.streaming() {
			if c.waitChan(ch) {
				c.serveDefault()
			}
			return
		}
		p := c.s.defaultPlan()
		p.gate = ch
		c.stream(p)
	}}
}

// Hang never answers: it returns when the request's context ends or the
// server closes.
func Hang() Step {
	return Step{name: "Hang", run: func(c *call) {
		select {
		case <-c.r.Context().Done():
		case <-c.s.done:
		}
	}}
}

// Delay waits d (or until the request ends) before answering with step.
func Delay(d time.Duration, step Step) Step {
	return Step{name: fmt.Sprintf("Delay(%s, %s)", d, step.name), run: func(c *call) {
		if c.wait(d) {
			step.run(c)
		}
	}}
}

// WithHeader adds the response header name: value to what step answers
// (e.g. a Connection header naming another one, or a header echoing the key).
func WithHeader(name, value string, step Step) Step {
	return Step{name: fmt.Sprintf("WithHeader(%s, %s)", name, step.name), run: func(c *call) {
		c.w.Header().Add(name, value)
		step.run(c)
	}}
}

// Trickle answers with status, contentType and body written n bytes at a
// time, flushed after each piece, so that the reader sees the body split
// at every n-th byte (a key echoed in it arrives in pieces).
func Trickle(status int, contentType string, body []byte, n int) Step {
	body = bytes.Clone(body)
	if n < 1 {
		n = 1
	}
	return Step{name: fmt.Sprintf("Trickle(%d, %d)", status, n), run: func(c *call) {
		c.setHeaders(contentType, false)
		c.w.WriteHeader(status)
		for i := 0; i < len(body); i += n {
			if _, err := c.w.Write(body[i:min(i+n, len(body))]); err != nil {
				return
			}
			c.flush()
		}
	}}
}
