package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// kind is the shape of a benchmark request.
type kind int

const (
	kindGenerate        kind = iota // native generateContent
	kindStream                      // native streamGenerateContent?alt=sse
	kindChat                        // OpenAI chat completion
	kindChatStream                  // OpenAI chat completion, stream
	kindResponses                   // OpenAI Responses
	kindResponsesStream             // OpenAI Responses, stream
	kindMessages                    // Anthropic Messages
	kindMessagesStream              // Anthropic Messages, stream
)

func (k kind) stream() bool {
	return k == kindStream || k == kindChatStream || k == kindResponsesStream || k == kindMessagesStream
}
func (k kind) openAI() bool    { return k == kindChat || k == kindChatStream }
func (k kind) responses() bool { return k == kindResponses || k == kindResponsesStream }
func (k kind) native() bool    { return k == kindGenerate || k == kindStream }
func (k kind) anthropic() bool { return k == kindMessages || k == kindMessagesStream }

func (k kind) String() string {
	return [...]string{"native generateContent", "native stream (SSE)", "OpenAI chat", "OpenAI chat stream",
		"OpenAI Responses", "OpenAI Responses stream", "Anthropic Messages", "Anthropic Messages stream"}[k]
}

// benchModel is the model every request names.
const benchModel = "gemini-2.5-flash"

// Request bodies: a short prompt, as most chat traffic is.
var (
	nativeBody     = []byte(`{"contents":[{"role":"user","parts":[{"text":"What is the capital of Wyoming?"}]}],"generationConfig":{"temperature":0.2}}`)
	chatBody       = []byte(`{"model":"` + benchModel + `","messages":[{"role":"user","content":"What is the capital of Wyoming?"}],"temperature":0.2}`)
	chatStreamBody = []byte(`{"model":"` + benchModel + `","messages":[{"role":"user","content":"What is the capital of Wyoming?"}],"temperature":0.2,"stream":true}`)
	// The Responses bodies are what a Codex-like client sends for one
	// prompt, without its tools: input items, store false, include.
	responsesBody       = []byte(`{"model":"` + benchModel + `","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"store":false,"include":["reasoning.encrypted_content"]}`)
	responsesStreamBody = []byte(`{"model":"` + benchModel + `","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"store":false,"include":["reasoning.encrypted_content"],"stream":true}`)
	// The Messages bodies are what Claude Code sends for one prompt, without
	// its tools and long system prompt: system blocks, max_tokens, metadata.
	messagesBody       = []byte(`{"model":"` + benchModel + `","max_tokens":32000,"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"metadata":{"user_id":"bench"}}`)
	messagesStreamBody = []byte(`{"model":"` + benchModel + `","max_tokens":32000,"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"metadata":{"user_id":"bench"},"stream":true}`)
	// firstText marks the first text chunk of the fake's synthetic stream
	// (proxytest.SyntheticText(1)) in native events and OpenAI chunks alike.
	firstText = []byte("chunk 1 ")
)

// endpoint is a server the load generator talks to.
type endpoint struct {
	name   string // "direct", "baseline", "ours"
	base   string // http://127.0.0.1:port
	keys   []string
	access string // access key (ours, baseline); "" sends a random pool key (direct)
	proc   *child // the server process, for CPU; nil for the fake itself
	client *http.Client
}

// newClient returns a client that keeps enough connections for conc.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only, never through an environment proxy
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}}
}

// newRequest builds one request of kind k for e.
func (e *endpoint) newRequest(ctx context.Context, k kind) (*http.Request, error) {
	var path string
	var body []byte
	switch k {
	case kindGenerate:
		path, body = "/v1beta/models/"+benchModel+":generateContent", nativeBody
	case kindStream:
		path, body = "/v1beta/models/"+benchModel+":streamGenerateContent?alt=sse", nativeBody
	case kindChat:
		path, body = "/v1/chat/completions", chatBody
	case kindChatStream:
		path, body = "/v1/chat/completions", chatStreamBody
	case kindResponses:
		path, body = "/v1/responses", responsesBody
	case kindResponsesStream:
		path, body = "/v1/responses", responsesStreamBody
	case kindMessages:
		path, body = "/v1/messages?beta=true", messagesBody
	case kindMessagesStream:
		path, body = "/v1/messages?beta=true", messagesStreamBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	cred := e.access
	if cred == "" {
		cred = e.keys[rand.IntN(len(e.keys))]
	}
	switch {
	case k.anthropic():
		req.Header.Set("x-api-key", cred)
		req.Header.Set("anthropic-version", "2023-06-01")
	case !k.native():
		req.Header.Set("Authorization", "Bearer "+cred)
	default:
		req.Header.Set("x-goog-api-key", cred)
	}
	return req, nil
}

// sample is one finished request.
type sample struct {
	total time.Duration // until the body was read to its end
	ttft  time.Duration // streams: until the first text event was whole
	cut   bool          // a stream that did not end properly
	why   string        // why it counts as cut
}

// do sends one request and reads the whole answer. An error means the
// request failed before an answer (or got a non-200); a stream that started
// and broke is a sample with cut set.
func (e *endpoint) do(ctx context.Context, k kind, events int) (sample, error) {
	req, err := e.newRequest(ctx, k)
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return sample{}, &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	if !k.stream() {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return sample{}, err
		}
		return sample{total: time.Since(start)}, nil
	}
	st := readSSE(resp.Body, start)
	s := sample{total: time.Since(start), ttft: st.ttft, why: cutReason(k, st, events)}
	s.cut = s.why != ""
	return s, nil
}

// cutReason says why a stream of kind k that should carry events events
// did not end properly, "" when it did.
func cutReason(k kind, st sseStats, events int) string {
	switch {
	case st.err != nil:
		return "read error: " + st.err.Error()
	case st.ttft == 0:
		return "no event carried the first text"
	case k.openAI() && st.errorEvent:
		return "an error event"
	case k.openAI() && !st.done:
		return "no data: [DONE] at the end"
	case k.responses() && st.failed:
		return "a response.failed event"
	case k.responses() && !bytes.HasPrefix(st.last, []byte(`{"type":"response.completed"`)):
		return "no response.completed at the end"
	case k.anthropic() && st.failed:
		return "an error event"
	case k.anthropic() && !bytes.Equal(st.last, []byte(`{"type":"message_stop"}`)):
		return "no message_stop at the end"
	case k.native() && st.events != events:
		return fmt.Sprintf("%d events, want %d", st.events, events)
	case k.native() && !bytes.Contains(st.last, []byte(`"finishReason"`)):
		return "the last event has no finishReason"
	}
	return ""
}

// statusError is a non-200 answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// sseStats is what readSSE saw of a stream.
type sseStats struct {
	events     int           // events with data
	last       []byte        // data of the last event
	ttft       time.Duration // when the first event with firstText was whole
	done       bool          // OpenAI: the last event was [DONE]
	errorEvent bool          // OpenAI: an event carried an error object
	failed     bool          // Responses: a response.failed event; Anthropic: an error event
	err        error         // a read error other than EOF
}

// readSSE reads a text/event-stream to its end.
func readSSE(r io.Reader, start time.Time) sseStats {
	var st sseStats
	br := bufio.NewReaderSize(r, 32<<10)
	var line, data []byte
	inData := false
	endEvent := func() {
		if !inData {
			return
		}
		st.events++
		if st.ttft == 0 && bytes.Contains(data, firstText) {
			st.ttft = time.Since(start)
		}
		if bytes.HasPrefix(data, []byte(`{"error"`)) {
			st.errorEvent = true
		}
		if bytes.HasPrefix(data, []byte(`{"type":"response.failed"`)) || bytes.HasPrefix(data, []byte(`{"type":"error"`)) {
			st.failed = true
		}
		st.last = append(st.last[:0], data...)
		data, inData = data[:0], false
	}
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				st.err = err
			}
			if len(bytes.TrimSpace(line)) > 0 {
				st.err = errors.Join(st.err, errors.New("stream ended inside an event"))
			}
			break
		}
		l := bytes.TrimRight(line, "\r\n")
		switch {
		case len(l) == 0:
			endEvent()
		case bytes.HasPrefix(l, []byte("data:")):
			d := bytes.TrimPrefix(l[5:], []byte(" "))
			if inData {
				data = append(data, '\n')
			}
			data = append(data, d...)
			inData = true
		}
		line = line[:0]
	}
	st.done = bytes.Equal(bytes.TrimSpace(st.last), []byte("[DONE]"))
	return st
}

// run is one measured load run against one endpoint.
type run struct {
	Requests   int
	Errors     int
	Cut        int
	Lat        []time.Duration // sorted
	TTFT       []time.Duration // sorted; streams only
	Wall       time.Duration
	CPU        time.Duration // the server process, during the run
	FakeCPU    time.Duration // the fake, during the run
	TimedOut   bool
	FirstError string
	FirstCut   string // why the first cut stream counts as cut
}

// cpuPerReq returns the server's CPU time per request in µs.
func (r *run) cpuPerReq() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.CPU.Microseconds()) / float64(r.Requests)
}

// fakeCPUPerReq returns the fake's CPU time per request in µs.
func (r *run) fakeCPUPerReq() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.FakeCPU.Microseconds()) / float64(r.Requests)
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted d: the
// smallest value with at least p% of the values at or below it.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.999999) - 1
	return d[max(0, min(i, len(d)-1))]
}

// tally is what one load worker counted.
type tally struct {
	n, errs, cut int
	lat, ttft    []time.Duration
	err          error  // the first error
	cutWhy       string // why the first cut stream counts as cut
}

// add counts one request's sample s, or its error.
func (t *tally) add(s sample, err error, stream bool) {
	if err != nil {
		t.errs++
		if t.err == nil {
			t.err = err
		}
		return
	}
	t.n++
	t.lat = append(t.lat, s.total)
	if stream && s.ttft > 0 {
		t.ttft = append(t.ttft, s.ttft)
	}
	if s.cut {
		t.cut++
		if t.cutWhy == "" {
			t.cutWhy = s.why
		}
	}
}

// load sends total requests of kind k at concurrency conc to e and measures
// the CPU time e's process (and the fake's) spent meanwhile. It stops early
// when timeout passes.
func load(ctx context.Context, e *endpoint, fake *child, k kind, conc, total, events int, timeout time.Duration) (*run, error) {
	r := &run{}
	var cpu0, fake0 usage
	var err error
	if e.proc != nil {
		if cpu0, err = e.proc.stat(ctx); err != nil {
			return nil, err
		}
	}
	if fake0, err = fake.stat(ctx); err != nil {
		return nil, err
	}

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		firstCut string
	)
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var wt tally
			for rctx.Err() == nil && next.Add(1) <= int64(total) {
				s, err := e.do(rctx, k, events)
				if rctx.Err() != nil {
					break // cancelled by the time limit: not a sample
				}
				wt.add(s, err, k.stream())
			}
			mu.Lock()
			defer mu.Unlock()
			r.Requests += wt.n
			r.Errors += wt.errs
			r.Cut += wt.cut
			r.Lat = append(r.Lat, wt.lat...)
			r.TTFT = append(r.TTFT, wt.ttft...)
			if firstErr == nil {
				firstErr = wt.err
			}
			if firstCut == "" {
				firstCut = wt.cutWhy
			}
		}()
	}
	wg.Wait()
	r.Wall = time.Since(start)
	r.TimedOut = ctx.Err() == nil && rctx.Err() != nil
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	r.FirstCut = firstCut
	slices.Sort(r.Lat)
	slices.Sort(r.TTFT)

	if e.proc != nil {
		cpu1, err := e.proc.stat(ctx)
		if err != nil {
			return nil, err
		}
		r.CPU = cpu1.CPU - cpu0.CPU
	}
	fake1, err := fake.stat(ctx)
	if err != nil {
		return nil, err
	}
	r.FakeCPU = fake1.CPU - fake0.CPU
	return r, nil
}
