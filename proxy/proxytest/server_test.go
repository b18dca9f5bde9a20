package proxytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/sse"
)

// testKey returns a deterministic key of the real shape: AIza + 35 chars.
func testKey(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
	b := []byte("AIza")
	x := uint64(n)*0x9e3779b97f4a7c15 + 1
	for range 35 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = append(b, alphabet[x%uint64(len(alphabet))])
	}
	return string(b)
}

// do sends a request with key in the x-goog-api-key header ("" for none).
func do(t *testing.T, s *Server, method, path, key string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("x-goog-api-key", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, b
}

const genPath = "/v1beta/models/gemini-2.5-flash:generateContent"

func TestDefaultAnswers(t *testing.T) {
	s := New(t)
	key := testKey(1)
	tests := []struct {
		method, path string
		body         string
		fixture      string
	}{
		{"POST", genPath, `{"contents":[{"parts":[{"text":"hi"}]}]}`, fxGenerate},
		{"POST", "/v1/models/gemini-2.5-flash:generateContent", `{}`, fxGenerate},
		{"POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{}`, fxStream},
		{"POST", "/v1beta/models/gemini-2.5-flash:countTokens", `{}`, fxCountTokens},
		{"GET", "/v1beta/models", "", fxModelsPage1},
		{"GET", "/v1/models", "", fxModelsPage1},
		{"GET", "/v1beta/models/gemini-2.5-flash", "", "native/models.get.gemini-2.5-flash.json"},
	}
	for _, tt := range tests {
		resp, got := do(t, s, tt.method, tt.path, key, []byte(tt.body))
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d, want 200", tt.method, tt.path, resp.StatusCode)
		}
		want := FixtureBody(tt.fixture)
		if tt.fixture == "native/models.get.gemini-2.5-flash.json" {
			got = bytes.TrimSpace(got)
			want = bytes.TrimSpace(want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s %s: body differs from %s:\n%s", tt.method, tt.path, tt.fixture, got)
		}
		if v := gemini.Classify(resp.StatusCode, got); v.Class != gemini.ClassOK {
			t.Errorf("%s %s: Classify = %v, want ok", tt.method, tt.path, v.Class)
		}
	}
	resp, _ := do(t, s, "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", key, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("stream Content-Type = %q, want text/event-stream", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "attachment" {
		t.Errorf("stream Content-Disposition = %q, want attachment (as recorded)", cd)
	}
	resp, _ = do(t, s, "POST", genPath, key, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("generateContent Content-Type = %q, want application/json; charset=UTF-8", ct)
	}
}

func TestStreamJSONArray(t *testing.T) {
	s := New(t)
	_, body := do(t, s, "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", testKey(1), []byte(`{}`))
	var arr []json.RawMessage
	if err := json.Unmarshal(body, &arr); err != nil {
		t.Fatalf("streamGenerateContent without alt=sse: not a JSON array: %v\n%s", err, body)
	}
	if len(arr) != 3 {
		t.Errorf("streamGenerateContent without alt=sse: %d elements, want 3", len(arr))
	}
	if v := gemini.Classify(200, body); v.Class != gemini.ClassOK {
		t.Errorf("Classify(JSON array stream) = %v, want ok", v.Class)
	}
}

func TestModelsPagination(t *testing.T) {
	s := New(t)
	key := testKey(1)
	type page struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
		NextPageToken string `json:"nextPageToken"`
	}
	get := func(query string) page {
		t.Helper()
		resp, body := do(t, s, "GET", "/v1beta/models"+query, key, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET models%s: status %d: %s", query, resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := get("")
	if len(p1.Models) != 9 || p1.NextPageToken != "Ch5tb2RlbHMvaW1hZ2VuLTQuMC1nZW5lcmF0ZS0wMDE=" {
		t.Fatalf("page 1 = %d models, token %q; want the captured 9 and its token", len(p1.Models), p1.NextPageToken)
	}
	p2 := get("?pageToken=" + url.QueryEscape(p1.NextPageToken))
	if len(p2.Models) != 2 || p2.NextPageToken != "" {
		t.Errorf("page 2 = %d models, token %q; want 2 and none", len(p2.Models), p2.NextPageToken)
	}
	var all []string
	token := ""
	for range 20 {
		p := get("?pageSize=1&pageToken=" + url.QueryEscape(token))
		if len(p.Models) != 1 {
			t.Fatalf("pageSize=1 gave %d models", len(p.Models))
		}
		all = append(all, p.Models[0].Name)
		if token = p.NextPageToken; token == "" {
			break
		}
	}
	if len(all) != 11 || all[0] != "models/embedding-gecko-001" || all[10] != "models/gemini-2.0-flash-lite" {
		t.Errorf("paging with pageSize=1 listed %v, want the 11 models of both pages", all)
	}
	resp, body := do(t, s, "GET", "/v1beta/models?pageToken=bogus", key, nil)
	if resp.StatusCode != 400 {
		t.Errorf("bad pageToken: status %d (%s), want 400", resp.StatusCode, body)
	}
	resp, body = do(t, s, "GET", "/v1beta/models/gemini-9-ultra", key, nil)
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("models/gemini-9-ultra is not found for API version v1beta")) {
		t.Errorf("GET unknown model: %d %s, want 404 naming it", resp.StatusCode, body)
	}
}

func TestEmbeddings(t *testing.T) {
	s := New(t)
	key := testKey(1)
	type emb struct {
		Values []float32 `json:"values"`
	}
	single := func(model, body string) []float32 {
		t.Helper()
		resp, b := do(t, s, "POST", "/v1beta/models/"+model+":embedContent", key, []byte(body))
		if resp.StatusCode != 200 {
			t.Fatalf("embedContent: %d %s", resp.StatusCode, b)
		}
		var r struct {
			Embedding emb `json:"embedding"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r.Embedding.Values
	}
	hello := `{"content":{"parts":[{"text":"hello"}]}`
	if n := len(single("text-embedding-004", hello+`}`)); n != 768 {
		t.Errorf("embedContent text-embedding-004: %d values, want 768", n)
	}
	a := single("gemini-embedding-001", hello+`}`)
	if len(a) != 3072 {
		t.Errorf("embedContent gemini-embedding-001: %d values, want 3072", len(a))
	}
	b := single("gemini-embedding-001", hello+`,"outputDimensionality":8}`)
	if len(b) != 8 || !slices.Equal(a[:8], b) {
		t.Errorf("embedContent outputDimensionality 8 = %v, want the first 8 of the full vector", b)
	}
	if c := single("gemini-embedding-001", `{"content":{"parts":[{"text":"other"}]},"outputDimensionality":8}`); slices.Equal(b, c) {
		t.Errorf("embedContent: different texts gave the same vector")
	}

	batch := `{"requests":[
		{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"outputDimensionality":8},
		{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"x"}]},"outputDimensionality":4},
		{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"outputDimensionality":8}]}`
	resp, body := do(t, s, "POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents", key, []byte(batch))
	var r struct {
		Embeddings []emb `json:"embeddings"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
		t.Fatalf("batchEmbedContents: %d %s", resp.StatusCode, body)
	}
	if len(r.Embeddings) != 3 || len(r.Embeddings[1].Values) != 4 || !slices.Equal(r.Embeddings[0].Values, b) || !slices.Equal(r.Embeddings[2].Values, b) {
		t.Errorf("batchEmbedContents = %v, want 3 embeddings in request order, deterministic", r.Embeddings)
	}
	resp, _ = do(t, s, "POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents", key, []byte(`{`))
	if resp.StatusCode != 400 {
		t.Errorf("batchEmbedContents with a broken body: status %d, want 400", resp.StatusCode)
	}
}

func TestAuth(t *testing.T) {
	s := New(t)
	good, bad := testKey(1), testKey(2)
	resp, body := do(t, s, "POST", genPath, "", nil)
	if resp.StatusCode != 403 || !bytes.Equal(body, FixtureBody(fxUnregistered)) {
		t.Errorf("no key: %d %s, want the unregistered-callers 403", resp.StatusCode, body)
	}
	s.SetValidKeys(good)
	resp, body = do(t, s, "POST", genPath, bad, nil)
	if resp.StatusCode != 400 || !bytes.Equal(body, FixtureBody(fxKeyInvalid)) {
		t.Errorf("unknown key: %d %s, want the API_KEY_INVALID 400", resp.StatusCode, body)
	}
	s.Script(bad, Unavailable()) // a script never overrides the key check
	if resp, _ := do(t, s, "POST", genPath, bad, nil); resp.StatusCode != 400 {
		t.Errorf("unknown key with a script: status %d, want 400", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", genPath, good, nil); resp.StatusCode != 200 {
		t.Errorf("valid key: status %d, want 200", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", genPath+"?key="+good, "", nil); resp.StatusCode != 200 {
		t.Errorf("?key=: status %d, want 200", resp.StatusCode)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if last.Key != good || !last.KeyInURL || last.Action != "generateContent" || last.Model != "gemini-2.5-flash" {
		t.Errorf("last request recorded as %+v, want key from the URL, generateContent, gemini-2.5-flash", last)
	}
	if reqs[len(reqs)-2].KeyInURL {
		t.Errorf("header key recorded with KeyInURL = true")
	}
	if got := s.CountFor(good); got != 2 {
		t.Errorf("CountFor(good) = %d, want 2", got)
	}
	s.SetValidKeys()
	if resp, _ := do(t, s, "POST", genPath, bad, nil); resp.StatusCode != 503 {
		t.Errorf("after SetValidKeys(): scripted key status %d, want 503", resp.StatusCode)
	}
}

// TestSteps checks that every error step serves its fixture and that
// gemini.Classify reads it as intended.
func TestSteps(t *testing.T) {
	s := New(t)
	key := testKey(1)
	tests := []struct {
		step   Step
		status int
		class  gemini.Class
	}{
		{RateLimited("7s"), 429, gemini.ClassRateLimited},
		{DailyQuota(), 429, gemini.ClassQuotaDaily},
		{BareRateLimit(), 429, gemini.ClassRateLimited},
		{InvalidKey(), 400, gemini.ClassKeyInvalid},
		{ExpiredKey(), 400, gemini.ClassKeyExpired},
		{Disabled(), 403, gemini.ClassKeyDenied},
		{Unavailable(), 503, gemini.ClassTransient},
		{Internal(), 500, gemini.ClassTransient},
		{EmptyAnswer(), 200, gemini.ClassEmpty},
		{RegionRefused(), 400, gemini.ClassRegion},
		{ModelNotFound(), 404, gemini.ClassClient},
		{Fixture(418, "text/plain", []byte("teapot")), 418, gemini.ClassClient},
	}
	for _, tt := range tests {
		s.Script(key, tt.step)
	}
	for _, tt := range tests {
		resp, body := do(t, s, "POST", genPath, key, []byte(`{}`))
		if resp.StatusCode != tt.status {
			t.Errorf("%v: status %d, want %d", tt.step, resp.StatusCode, tt.status)
		}
		if v := gemini.Classify(resp.StatusCode, body); v.Class != tt.class {
			t.Errorf("%v: Classify = %v (%s), want %v", tt.step, v.Class, v.Reason, tt.class)
		}
	}
	if resp, _ := do(t, s, "POST", genPath, key, nil); resp.StatusCode != 200 {
		t.Errorf("after the script: status %d, want the default 200", resp.StatusCode)
	}
	if n := s.Pending(key); n != 0 {
		t.Errorf("Pending after the script = %d, want 0", n)
	}

	s.Script(key, RateLimited("0.5s"), RateLimited(""))
	_, body := do(t, s, "POST", genPath, key, nil)
	if v := gemini.Classify(429, body); v.RetryDelay.String() != "500ms" {
		t.Errorf("RateLimited(0.5s): RetryDelay %v, want 500ms", v.RetryDelay)
	}
	_, body = do(t, s, "POST", genPath, key, nil)
	if e, ok := gemini.ParseError(body); !ok || len(e.Details) != 2 || bytes.Contains(body, []byte("RetryInfo")) {
		t.Errorf(`RateLimited(""): body %s, want no RetryInfo`, body)
	}

	s.Script(key, ModelNotFound())
	_, body = do(t, s, "POST", "/v1/models/gemini-0-nano:generateContent", key, nil)
	if !bytes.Contains(body, []byte("models/gemini-0-nano is not found for API version v1,")) {
		t.Errorf("ModelNotFound body = %s, want the model and version substituted", body)
	}
}

func TestErrorToSSERequest(t *testing.T) {
	s := New(t)
	key := testKey(1)
	s.Script(key, Unavailable())
	resp, body := do(t, s, "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", key, nil)
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "text/event-stream" || !bytes.Equal(body, FixtureBody(fxUnavailable)) {
		t.Errorf("error to alt=sse: %d %q %s; want 503, text/event-stream, plain JSON (as Google)", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestScriptQueues(t *testing.T) {
	s := New(t)
	k1, k2, k3 := testKey(1), testKey(2), testKey(3)
	s.Script(k1, Internal(), Unavailable())
	s.ScriptAll(BareRateLimit(), Disabled())
	status := func(key string) int {
		resp, _ := do(t, s, "POST", genPath, key, nil)
		return resp.StatusCode
	}
	got := []int{status(k1), status(k2), status(k1), status(k3), status(k1), status(k2)}
	want := []int{500, 429, 503, 403, 200, 200}
	if !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v (own queue first, then the shared FIFO, then default)", got, want)
	}
	s.Script(k1, Always(Internal()), Unavailable())
	for range 3 {
		if st := status(k1); st != 500 {
			t.Errorf("Always(Internal): status %d, want 500 every time", st)
		}
	}
	if got := Always(Internal()).String(); got != "Always(Internal)" {
		t.Errorf("Always(Internal()).String() = %q", got)
	}
}

// readEvents reads an SSE response until an error.
func readEvents(body io.Reader) ([]sse.Event, error) {
	r := sse.NewReader(body)
	var evs []sse.Event
	for {
		ev, err := r.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func streamRequest(t *testing.T, s *Server, key string, query string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL()+"/v1beta/models/gemini-2.5-flash:streamGenerateContent"+query, strings.NewReader(`{}`))
	req.Header.Set("x-goog-api-key", key)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// texts returns the text of each event's first candidate part, and whether
// the last one has a finishReason.
func texts(t *testing.T, evs []sse.Event) ([]string, bool) {
	t.Helper()
	var out []string
	finished := false
	for _, ev := range evs {
		var r struct {
			Candidates []struct {
				Content struct {
					Parts []struct {
						Text string `json:"text"`
					} `json:"parts"`
				} `json:"content"`
				FinishReason string `json:"finishReason"`
			} `json:"candidates"`
		}
		if err := json.Unmarshal(ev.Data, &r); err != nil || len(r.Candidates) == 0 {
			t.Fatalf("event %q: %v", ev.Data, err)
		}
		out = append(out, r.Candidates[0].Content.Parts[0].Text)
		finished = r.Candidates[0].FinishReason == "STOP"
	}
	return out, finished
}

func TestStreamFailAfter(t *testing.T) {
	s := New(t)
	key := testKey(1)
	s.Script(key, StreamFailAfter(2))
	resp := streamRequest(t, s, key, "?alt=sse")
	evs, err := readEvents(resp.Body)
	if err == nil || err == io.EOF {
		t.Errorf("StreamFailAfter(2): stream ended with %v, want a broken connection", err)
	}
	if got, fin := texts(t, evs); !slices.Equal(got, []string{SyntheticText(1), SyntheticText(2)}) || fin {
		t.Errorf("StreamFailAfter(2): texts %q (finished %v), want 2 unfinished chunks", got, fin)
	}
	if v := gemini.ClassifyError(err); v.Class != gemini.ClassTransient {
		t.Errorf("ClassifyError(%v) = %v, want transient", err, v.Class)
	}

	s.Script(key, StreamFailAfter(1))
	resp = streamRequest(t, s, key, "")
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("StreamFailAfter on a JSON-array stream: read ended cleanly, want an error")
	}
	s.Script(key, StreamFailAfter(1))
	req, _ := http.NewRequest("POST", s.URL()+genPath, nil)
	req.Header.Set("x-goog-api-key", key)
	if resp, err := s.Client().Do(req); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("StreamFailAfter on generateContent: body read cleanly, want an error")
		}
	}
}

func TestSyntheticStreams(t *testing.T) {
	s := New(t)
	key := testKey(1)
	s.Script(key, SlowStream(5, 0), SSEStream(1, 0))
	for _, n := range []int{5, 1} {
		evs, err := readEvents(streamRequest(t, s, key, "?alt=sse").Body)
		if err != io.EOF {
			t.Fatalf("synthetic stream: %v", err)
		}
		got, fin := texts(t, evs)
		if len(got) != n || got[n-1] != SyntheticText(n) || !fin {
			t.Errorf("SSEStream(%d): texts %q finished %v", n, got, fin)
		}
		if v := gemini.Classify(200, evs[n-1].Data); v.Class != gemini.ClassOK {
			t.Errorf("last synthetic event: Classify = %v", v.Class)
		}
	}
	s.SetDefaultStream(20, 0)
	evs, _ := readEvents(streamRequest(t, s, key, "?alt=sse").Body)
	if len(evs) != 20 {
		t.Errorf("SetDefaultStream(20): %d events", len(evs))
	}
	s.SetDefaultStream(0, 0)
	evs, _ = readEvents(streamRequest(t, s, key, "?alt=sse").Body)
	if len(evs) != 3 {
		t.Errorf("SetDefaultStream(0): %d events, want the captured 3", len(evs))
	}
}

func TestGate(t *testing.T) {
	s := New(t)
	key := testKey(1)
	gate := make(chan struct{})
	s.Script(key, Gate(gate))
	resp := streamRequest(t, s, key, "?alt=sse")
	r := sse.NewReader(resp.Body)
	// The first event must arrive while the rest is held back: if it were
	// not flushed, this Next would wait for ever.
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(first.Data, []byte(`"text": "The"`)) {
		t.Errorf("Gate: first event %s, want the captured first chunk", first.Data)
	}
	close(gate)
	var rest []sse.Event
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		rest = append(rest, ev)
	}
	if len(rest) != 2 {
		t.Errorf("Gate: %d events after the gate, want 2", len(rest))
	}
}

func TestHangAndClose(t *testing.T) {
	s := NewServer()
	key := testKey(1)
	s.Script(key, Hang(), Hang())

	// A client that gives up.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+genPath, nil)
		req.Header.Set("x-goog-api-key", key)
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitRequests(s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Hang with a canceled client: error %v, want context.Canceled", err)
	}

	// Close must not wait for a hanging request.
	go func() {
		req, _ := http.NewRequest("POST", s.URL()+genPath, nil)
		req.Header.Set("x-goog-api-key", key)
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitRequests(s, 2)
	s.Close()
	<-errc
	s.Close() // twice is fine
}

// waitRequests yields until the fake has recorded n requests.
func waitRequests(s *Server, n int) {
	for len(s.Requests()) < n {
		runtime.Gosched()
	}
}

func TestDelayAndLatency(t *testing.T) {
	s := New(t)
	key := testKey(1)
	s.SetLatency(1)
	s.Script(key, Delay(1, Internal()))
	if resp, _ := do(t, s, "POST", genPath, key, nil); resp.StatusCode != 500 {
		t.Errorf("Delay(Internal): status %d, want 500", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", genPath, key, nil); resp.StatusCode != 200 {
		t.Errorf("with latency: status %d, want 200", resp.StatusCode)
	}
}

func TestStreamFixture(t *testing.T) {
	s := New(t)
	key := testKey(1)
	capture := FixtureBody("native/streamGenerateContent.thinking+functionCall.sse.txt")
	s.Script(key, StreamFixture(capture), Fixture(200, "application/json", FixtureBody("native/generateContent.thinking+functionCall.gemini-2.5-pro.json")))
	resp := streamRequest(t, s, key, "?alt=sse")
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, capture) {
		t.Errorf("StreamFixture: body differs from the capture")
	}
	_, body := do(t, s, "POST", genPath, key, nil)
	if !bytes.Contains(body, []byte("thoughtSignature")) {
		t.Errorf("Fixture: body %s", body)
	}
	// A capture without its final blank line still streams complete events.
	s.Script(key, StreamFixture(FixtureBody("native/streamGenerateContent.prompt-blocked.sse.txt")))
	evs, err := readEvents(streamRequest(t, s, key, "?alt=sse").Body)
	if err != io.EOF || len(evs) != 1 || evs[0].Unterminated {
		t.Errorf("StreamFixture(prompt-blocked): %d events, %v", len(evs), err)
	}
}

func TestUnknownRoutes(t *testing.T) {
	s := New(t)
	key := testKey(1)
	_, body := do(t, s, "POST", "/v1beta/models/imagen-4.0-generate-001:predict", key, []byte(`{}`))
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(body, &m) != nil || m.Method != "predict" {
		t.Errorf("unknown method: %s, want {\"method\":\"predict\"}", body)
	}
	resp, body := do(t, s, "GET", "/v2/whatever", key, nil)
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("/v2/whatever")) {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
}

// upload runs the resumable protocol with key and returns the file.
func upload(t *testing.T, s *Server, key, name string, data []byte) map[string]any {
	t.Helper()
	resp, body := do(t, s, "POST", "/upload/v1beta/files", key, []byte(`{"file":{"display_name":"`+name+`"}}`),
		"X-Goog-Upload-Protocol", "resumable", "X-Goog-Upload-Command", "start",
		"X-Goog-Upload-Header-Content-Length", fmt.Sprint(len(data)), "X-Goog-Upload-Header-Content-Type", "text/plain",
		"Content-Type", "application/json")
	u := resp.Header.Get("X-Goog-Upload-URL")
	if resp.StatusCode != 200 || !strings.HasPrefix(u, s.URL()+"/upload/v1beta/files?upload_id=") {
		t.Fatalf("upload start: %d %q %s", resp.StatusCode, u, body)
	}
	path := strings.TrimPrefix(u, s.URL())
	resp, body = do(t, s, "POST", path, key, data, "X-Goog-Upload-Command", "upload, finalize", "X-Goog-Upload-Offset", "0")
	if resp.StatusCode != 200 || resp.Header.Get("X-Goog-Upload-Status") != "final" {
		t.Fatalf("upload finalize: %d %s", resp.StatusCode, body)
	}
	var r struct {
		File map[string]any `json:"file"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r.File
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func shapeKeys(t *testing.T, fixture string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(FixtureBody(fixture), &m); err != nil {
		t.Fatal(err)
	}
	return keysOf(m)
}

func TestFilesAffinity(t *testing.T) {
	s := New(t)
	a, b := testKey(1), testKey(2)
	f := upload(t, s, a, "notes.txt", []byte("hello world"))
	name, _ := f["name"].(string)
	id := strings.TrimPrefix(name, "files/")
	if !slices.Equal(keysOf(f), shapeKeys(t, "synthesized/file.SHAPE.json")) {
		t.Errorf("file fields %v, want those of file.SHAPE.json", keysOf(f))
	}
	if f["sha256Hash"] != "Yjk0ZDI3Yjk5MzRkM2UwOGE1MmU1MmQ3ZGE3ZGFiZmFjNDg0ZWZlMzdhNTM4MGVlOTA4OGY3YWNlMmVmY2RlOQ==" || f["sizeBytes"] != "11" || f["mimeType"] != "text/plain" || f["displayName"] != "notes.txt" {
		t.Errorf("file = %v", f)
	}

	if resp, _ := do(t, s, "GET", "/v1beta/"+name, a, nil); resp.StatusCode != 200 {
		t.Errorf("GET own file: status %d", resp.StatusCode)
	}
	resp, body := do(t, s, "GET", "/v1beta/"+name, b, nil)
	if resp.StatusCode != 403 || !bytes.Contains(body, []byte("You do not have permission to access the File "+id+" or it may not exist.")) {
		t.Errorf("GET file of another key: %d %s, want Google's 403", resp.StatusCode, body)
	}
	use := []byte(`{"contents":[{"parts":[{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/` + name + `"}},{"text":"sum up"}]}]}`)
	if resp, _ := do(t, s, "POST", genPath, a, use); resp.StatusCode != 200 {
		t.Errorf("generateContent with own file: status %d", resp.StatusCode)
	}
	resp, body = do(t, s, "POST", genPath, b, use)
	if resp.StatusCode != 403 {
		t.Errorf("generateContent with another key's file: %d %s, want 403", resp.StatusCode, body)
	}
	if v := gemini.Classify(resp.StatusCode, body); v.Class != gemini.ClassClient {
		t.Errorf("Classify(file 403) = %v, want client", v.Class)
	}

	_, body = do(t, s, "GET", "/v1beta/files", a, nil)
	if !bytes.Contains(body, []byte(name)) {
		t.Errorf("list own files: %s", body)
	}
	if _, body = do(t, s, "GET", "/v1beta/files", b, nil); strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("list files of a key without any: %s, want {}", body)
	}
	if resp, _ := do(t, s, "DELETE", "/v1beta/"+name, b, nil); resp.StatusCode != 403 {
		t.Errorf("DELETE by another key: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, s, "DELETE", "/v1beta/"+name, a, nil); resp.StatusCode != 200 {
		t.Errorf("DELETE own file: status %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "/v1beta/"+name, a, nil); resp.StatusCode != 403 {
		t.Errorf("GET deleted file: status %d, want 403", resp.StatusCode)
	}
}

func TestUploadVariants(t *testing.T) {
	s := New(t)
	a, b := testKey(1), testKey(2)
	resp, _ := do(t, s, "POST", "/upload/v1beta/files", a, []byte(`{"file":{"displayName":"x"}}`),
		"X-Goog-Upload-Protocol", "resumable", "X-Goog-Upload-Command", "start")
	path := strings.TrimPrefix(resp.Header.Get("X-Goog-Upload-URL"), s.URL())
	if resp, _ := do(t, s, "POST", path, b, []byte("x"), "X-Goog-Upload-Command", "upload, finalize"); resp.StatusCode != 403 {
		t.Errorf("upload on another key's session: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", path, "", []byte("abc"), "X-Goog-Upload-Command", "upload", "X-Goog-Upload-Offset", "0"); resp.StatusCode != 200 || resp.Header.Get("X-Goog-Upload-Size-Received") != "3" {
		t.Errorf("keyless chunk on the session URL: status %d, received %q", resp.StatusCode, resp.Header.Get("X-Goog-Upload-Size-Received"))
	}
	if resp, _ := do(t, s, "POST", path, "", []byte("d"), "X-Goog-Upload-Command", "upload, finalize", "X-Goog-Upload-Offset", "1"); resp.StatusCode != 400 {
		t.Errorf("wrong offset: status %d, want 400", resp.StatusCode)
	}
	_, body := do(t, s, "POST", path, "", []byte("d"), "X-Goog-Upload-Command", "upload, finalize", "X-Goog-Upload-Offset", "3")
	if !bytes.Contains(body, []byte(`"sizeBytes": "4"`)) {
		t.Errorf("finalize: %s", body)
	}
	if resp, _ := do(t, s, "POST", path, "", nil, "X-Goog-Upload-Command", "query"); resp.StatusCode != 404 {
		t.Errorf("finished session: status %d, want 404", resp.StatusCode)
	}

	mp := "--B\r\nContent-Type: application/json\r\n\r\n{\"file\":{\"displayName\":\"m\"}}\r\n--B\r\nContent-Type: image/png\r\n\r\nPNG!\r\n--B--\r\n"
	_, body = do(t, s, "POST", "/upload/v1beta/files?uploadType=multipart", a, []byte(mp), "Content-Type", "multipart/related; boundary=B")
	if !bytes.Contains(body, []byte(`"mimeType": "image/png"`)) || !bytes.Contains(body, []byte(`"sizeBytes": "4"`)) {
		t.Errorf("multipart upload: %s", body)
	}
}

func TestCachedContents(t *testing.T) {
	s := New(t)
	a, b := testKey(1), testKey(2)
	resp, body := do(t, s, "POST", "/v1beta/cachedContents", a, []byte(`{"model":"models/gemini-2.5-flash","displayName":"notes cache","contents":[{"role":"user","parts":[{"text":"long"}]}],"ttl":"300s"}`))
	var m map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("create cachedContent: %d %s", resp.StatusCode, body)
	}
	if !slices.Equal(keysOf(m), shapeKeys(t, "synthesized/cachedContent.SHAPE.json")) {
		t.Errorf("cachedContent fields %v, want those of cachedContent.SHAPE.json", keysOf(m))
	}
	name, _ := m["name"].(string)
	if !strings.HasPrefix(name, "cachedContents/") {
		t.Fatalf("cachedContent name %q", name)
	}
	if resp, _ := do(t, s, "GET", "/v1beta/"+name, a, nil); resp.StatusCode != 200 {
		t.Errorf("GET own cachedContent: status %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "/v1beta/"+name, b, nil); resp.StatusCode != 403 {
		t.Errorf("GET another key's cachedContent: status %d, want 403", resp.StatusCode)
	}
	use := []byte(`{"cachedContent":"` + name + `","contents":[{"parts":[{"text":"q"}]}]}`)
	if resp, _ := do(t, s, "POST", genPath, a, use); resp.StatusCode != 200 {
		t.Errorf("generateContent with own cache: status %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", genPath, b, use); resp.StatusCode != 403 {
		t.Errorf("generateContent with another key's cache: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, s, "PATCH", "/v1beta/"+name, a, []byte(`{"ttl":"600s"}`)); resp.StatusCode != 200 {
		t.Errorf("PATCH own cache: status %d", resp.StatusCode)
	}
	if _, body := do(t, s, "GET", "/v1beta/cachedContents", a, nil); !bytes.Contains(body, []byte(name)) {
		t.Errorf("list caches: %s", body)
	}
	if resp, _ := do(t, s, "DELETE", "/v1beta/"+name, a, nil); resp.StatusCode != 200 {
		t.Errorf("DELETE own cache: status %d", resp.StatusCode)
	}
	// A cache built on another key's file is refused like Google does.
	f := upload(t, s, a, "doc.txt", []byte("doc"))
	body2 := []byte(`{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"fileData":{"fileUri":"` + f["uri"].(string) + `"}}]}]}`)
	if resp, _ := do(t, s, "POST", "/v1beta/cachedContents", b, body2); resp.StatusCode != 403 {
		t.Errorf("cache on another key's file: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, s, "POST", "/v1beta/cachedContents", a, body2); resp.StatusCode != 200 {
		t.Errorf("cache on own file: status %d, want 200", resp.StatusCode)
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := New(t)
	key := testKey(1)
	do(t, s, "POST", genPath+"?alt=json", key, []byte(`{"x":1}`), "X-Test", "yes")
	r := s.Requests()[0]
	if r.Key != key || r.KeyInURL || r.Method != "POST" || r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" ||
		r.RawQuery != "alt=json" || string(r.Body) != `{"x":1}` || r.Header.Get("X-Test") != "yes" || r.Time.IsZero() {
		t.Errorf("recorded %+v", r)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(t)
	keys := []string{testKey(1), testKey(2), testKey(3)}
	s.ScriptAll(Unavailable(), Unavailable(), Unavailable(), Unavailable())
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 40 {
		wg.Go(func() {
			key := keys[i%len(keys)]
			path := genPath
			if i%2 == 0 {
				path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
			}
			req, _ := http.NewRequest("POST", s.URL()+path, nil)
			req.Header.Set("x-goog-api-key", key)
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			s.CountFor(key)
		})
	}
	wg.Wait()
	if codes[503] != 4 || codes[200] != 36 {
		t.Errorf("status counts %v, want 4×503 and 36×200", codes)
	}
}

func TestFixturesDocumented(t *testing.T) {
	sources, err := os.ReadFile("testdata/SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	names := FixtureNames()
	if len(names) < 40 {
		t.Errorf("FixtureNames() = %d names, want all embedded fixtures", len(names))
	}
	for _, n := range names {
		base := n[strings.LastIndexByte(n, '/')+1:]
		if !bytes.Contains(sources, []byte(base)) {
			t.Errorf("fixture %s is not in testdata/SOURCES.md", n)
		}
		if len(FixtureBody(n)) == 0 {
			t.Errorf("FixtureBody(%s) is empty", n)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("FixtureBody(missing) did not panic")
		}
	}()
	FixtureBody("missing.json")
}

func BenchmarkFakeGenerate(b *testing.B) {
	s := NewServer()
	defer s.Close()
	c := s.Client()
	key := testKey(1)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", s.URL()+genPath, strings.NewReader(`{}`))
		req.Header.Set("x-goog-api-key", key)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkFakeStream(b *testing.B) {
	s := NewServer()
	defer s.Close()
	s.SetDefaultStream(20, 0)
	c := s.Client()
	key := testKey(1)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", s.URL()+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", strings.NewReader(`{}`))
		req.Header.Set("x-goog-api-key", key)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
