package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

func TestNativePassesBodiesThroughUntouched(t *testing.T) {
	e := newEnv(t, 2)
	body := `{"contents":[{"role":"user","parts":[{"text":"Hi \u00e9"}]}],  "generationConfig":{"temperature":0.2}}`
	resp, got := e.do("POST", gen("gemini-2.5-flash"), body)
	e.wantStatus(resp, got, 200)
	reqs := e.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream requests = %d, want 1", len(reqs))
	}
	if string(reqs[0].Body) != body {
		t.Errorf("upstream body = %q, want the client's bytes %q", reqs[0].Body, body)
	}
	if reqs[0].Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("upstream path = %q", reqs[0].Path)
	}
	if reqs[0].Key != e.keys[0] && reqs[0].Key != e.keys[1] {
		t.Errorf("upstream key is not a pool key")
	}
	// The same call made directly to the fake gives the same bytes.
	direct, err := http.NewRequest("POST", e.fake.URL()+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	direct.Header.Set("x-goog-api-key", e.keys[0])
	dresp, err := http.DefaultClient.Do(direct)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(dresp.Body)
	dresp.Body.Close()
	if string(got) != string(want) {
		t.Errorf("proxied body differs from upstream body:\n got %s\nwant %s", got, want)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestNativeRoutesBothVersions(t *testing.T) {
	e := newEnv(t, 1)
	for _, path := range []string{
		"/v1beta/models", "/v1/models", "/v1beta/models/gemini-2.5-flash", "/v1/models/gemini-2.5-flash",
	} {
		resp, body := e.do("GET", path, "")
		e.wantStatus(resp, body, 200)
	}
	for _, m := range []string{"countTokens", "embedContent", "batchEmbedContents", "someFutureMethod"} {
		body := generateBody
		switch m {
		case "embedContent":
			body = `{"content":{"parts":[{"text":"hello"}]}}`
		case "batchEmbedContents":
			body = `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}}]}`
		}
		resp, got := e.do("POST", "/v1beta/models/text-embedding-004:"+m, body)
		e.wantStatus(resp, got, 200)
	}
}

// TestRotation: each error class on the first key, the client still gets its
// answer from another key, and the first key gets the right penalty.
func TestRotation(t *testing.T) {
	tests := []struct {
		name    string
		step    proxytest.Step
		check   func(t *testing.T, st keypool.KeyState)
		penalty string
	}{
		{"rate limited with retryDelay", proxytest.RateLimited("40s"), wantCooling("gemini-2.5-pro", 35*time.Second, 45*time.Second), ""},
		{"bare 429", proxytest.BareRateLimit(), wantCooling("gemini-2.5-pro", time.Second, 10*time.Minute), ""},
		{"daily quota", proxytest.DailyQuota(), wantCooling("gemini-2.5-pro", time.Minute, 25*time.Hour), ""},
		{"invalid key", proxytest.InvalidKey(), wantDisabled, ""},
		{"expired key", proxytest.ExpiredKey(), wantDisabled, ""},
		{"service disabled", proxytest.Disabled(), wantDisabled, ""},
		{"503 overloaded", proxytest.Unavailable(), wantHealthy, ""},
		{"500 internal", proxytest.Internal(), wantHealthy, ""},
		{"empty answer", proxytest.EmptyAnswer(), wantHealthy, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 3)
			e.fake.ScriptAll(tt.step)
			resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
			e.wantStatus(resp, body, 200)
			reqs := e.fake.Requests()
			if len(reqs) != 2 {
				t.Fatalf("upstream requests = %d, want 2 (one failure, one retry)", len(reqs))
			}
			if reqs[0].Key == reqs[1].Key {
				t.Fatalf("retry used the same key")
			}
			st := stateOf(t, e, reqs[0].Key)
			tt.check(t, st)
			if res := e.rec.results(); len(res) != 1 || res[0].Attempts != 2 || len(res[0].Failures) != 1 {
				t.Errorf("results = %+v, want one with 2 attempts and 1 failure", res)
			}
		})
	}
}

func stateOf(t *testing.T, e *env, raw string) keypool.KeyState {
	t.Helper()
	idx := keyIndex(e, raw)
	for _, st := range e.pool.States() {
		if idx != "?" && st.ID == e.ids[mustAtoi(idx)] {
			return st
		}
	}
	t.Fatalf("no pool state for key %s", idx)
	return keypool.KeyState{}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

func wantCooling(model string, min, max time.Duration) func(*testing.T, keypool.KeyState) {
	return func(t *testing.T, st keypool.KeyState) {
		t.Helper()
		if st.Disabled {
			t.Fatalf("key disabled (%s), want only cooling", st.Reason)
		}
		until, ok := st.Cooling[model]
		if !ok {
			t.Fatalf("key not cooling for %s: %+v", model, st)
		}
		if d := time.Until(until); d < min || d > max {
			t.Errorf("cooling for %v, want between %v and %v", d, min, max)
		}
		if len(st.Cooling) != 1 {
			t.Errorf("cooling for models %v, want only %s", st.Cooling, model)
		}
	}
}

func wantDisabled(t *testing.T, st keypool.KeyState) {
	t.Helper()
	if !st.Disabled || st.Reason == "" {
		t.Errorf("state = %+v, want disabled with a reason", st)
	}
}

func wantHealthy(t *testing.T, st keypool.KeyState) {
	t.Helper()
	if st.Disabled || len(st.Cooling) != 0 {
		t.Errorf("state = %+v, want no penalty", st)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		step   proxytest.Step
		status int
	}{
		{"model not found", proxytest.ModelNotFound(), 404},
		{"region refused", proxytest.RegionRefused(), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 3)
			e.fake.ScriptAll(tc.step)
			resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
			e.wantStatus(resp, body, tc.status)
			if n := len(e.fake.Requests()); n != 1 {
				t.Errorf("upstream requests = %d, want 1", n)
			}
			for _, st := range e.pool.States() {
				wantHealthy(t, st)
			}
			if tc.status == 400 && !strings.Contains(string(body), "proxy") {
				t.Errorf("region refusal without the upstream-proxy hint: %s", body)
			}
		})
	}
}

func TestCooldownIsPerModel(t *testing.T) {
	e := newEnv(t, 1)
	e.fake.ScriptAll(proxytest.RateLimited("60s"))
	resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	resp, body = e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 200)
	resp, body = e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 50 || ra > 61 {
		t.Errorf("Retry-After = %q, want about 60", resp.Header.Get("Retry-After"))
	}
	wantGoogleError(t, body, 429, "RESOURCE_EXHAUSTED")
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream requests = %d, want 2 (the cooling key is not asked again)", n)
	}
}

func TestDailyQuotaParksUntilPacificMidnight(t *testing.T) {
	e := newEnv(t, 1)
	e.fake.ScriptAll(proxytest.DailyQuota())
	resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	resp, body = e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(la)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, la)
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if want := int(time.Until(midnight).Seconds()); ra < want-5 || ra > want+5 {
		t.Errorf("Retry-After = %d, want about %d (next midnight US Pacific)", ra, want)
	}
	resp, body = e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 200)
}

func TestExhaustedAnswer(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.ScriptAll(proxytest.Always(proxytest.RateLimited("30s")))
	resp, body := e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	if ra := resp.Header.Get("Retry-After"); ra == "" {
		t.Errorf("no Retry-After on the 429 after every key was tried")
	}
	resp, body = e.do("POST", gen("gemini-2.5-pro"), generateBody)
	e.wantStatus(resp, body, 429)
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 20 || ra > 31 {
		t.Errorf("Retry-After = %q, want about 30", resp.Header.Get("Retry-After"))
	}
	msg := wantGoogleError(t, body, 429, "RESOURCE_EXHAUSTED")
	if !strings.Contains(msg, "cool") {
		t.Errorf("message %q does not say the keys are cooling down", msg)
	}
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream requests = %d, want 2", n)
	}
}

func TestNoKeysConfigured(t *testing.T) {
	e := newEnv(t, 0)
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 429)
	msg := wantGoogleError(t, body, 429, "RESOURCE_EXHAUSTED")
	if !strings.Contains(strings.ToLower(msg), "no api keys") {
		t.Errorf("message %q does not say there are no keys", msg)
	}
}

func wantGoogleError(t *testing.T, body []byte, code int, status string) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not Google's shape: %s", body)
	}
	if e.Error.Code != code || e.Error.Status != status || e.Error.Message == "" {
		t.Errorf("error = %+v, want code %d status %s with a message", e.Error, code, status)
	}
	return e.Error.Message
}

func streamRequest(t *testing.T, e *env, ctx context.Context) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.base+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", strings.NewReader(generateBody))
	req.Header.Set("x-goog-api-key", e.accessKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("stream request: %v", err)
	}
	return resp
}

func TestStreamArrivesIncrementally(t *testing.T) {
	e := newEnv(t, 1)
	gate := make(chan struct{})
	e.fake.ScriptAll(proxytest.Gate(gate))
	resp := streamRequest(t, e, context.Background())
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		s, err := br.ReadString('\n')
		got <- line{s, err}
	}()
	select {
	case l := <-got:
		if l.err != nil || !strings.HasPrefix(l.s, "data: ") {
			t.Fatalf("first line = %q, %v; want the first event", l.s, l.err)
		}
	case <-time.After(10 * time.Second):
		close(gate)
		t.Fatal("the first event did not reach the client while the upstream held back the second")
	}
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading the rest: %v", err)
	}
	if n := strings.Count(string(rest), "data: "); n < 1 {
		t.Errorf("no events after the gate opened: %q", rest)
	}
}

func TestStreamFailureAfterFirstByteAbortsWithoutRetry(t *testing.T) {
	e := newEnv(t, 3)
	e.fake.ScriptAll(proxytest.StreamFailAfter(1))
	resp := streamRequest(t, e, context.Background())
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("stream ended cleanly after an upstream failure; body %q", b)
	}
	if !strings.Contains(string(b), "data: ") {
		t.Errorf("the first event did not arrive: %q", b)
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("upstream requests = %d, want 1 (no retry after the first byte)", n)
	}
}

func TestStreamErrorBeforeFirstByteIsRetried(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.ScriptAll(proxytest.RateLimited("10s"))
	resp := streamRequest(t, e, context.Background())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "data: ") {
		t.Fatalf("status %d body %q, want a stream from the second key", resp.StatusCode, b)
	}
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream requests = %d, want 2", n)
	}
}

func TestClientCancelIsNotHeldAgainstKey(t *testing.T) {
	e := newEnv(t, 1)
	e.fake.ScriptAll(proxytest.Hang())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(e.fake.Requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.base+gen("gemini-2.5-flash"), strings.NewReader(generateBody))
	req.Header.Set("x-goog-api-key", e.accessKey)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Wait for the proxy to notice and record.
	deadline := time.Now().Add(5 * time.Second)
	for len(e.rec.results()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res := e.rec.results()
	if len(res) != 1 || res[0].Class != gemini.ClassCanceled {
		t.Fatalf("results = %+v, want one canceled", res)
	}
	for _, st := range e.pool.States() {
		wantHealthy(t, st)
	}
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 200)
}

func TestAuth(t *testing.T) {
	e := newEnv(t, 1)
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"no key", gen("gemini-2.5-flash"), nil, 401},
		{"wrong key", gen("gemini-2.5-flash"), map[string]string{"x-goog-api-key": e.accessKey + "x"}, 401},
		{"pool key is not the access key", gen("gemini-2.5-flash"), map[string]string{"x-goog-api-key": e.keys[0]}, 401},
		{"header", gen("gemini-2.5-flash"), map[string]string{"x-goog-api-key": e.accessKey}, 200},
		{"bearer", gen("gemini-2.5-flash"), map[string]string{"Authorization": "Bearer " + e.accessKey}, 200},
		{"query", gen("gemini-2.5-flash") + "?key=" + e.accessKey, nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.fake.Requests())
			resp, body := e.doWith("POST", tc.path, generateBody, tc.headers)
			e.wantStatus(resp, body, tc.want)
			if tc.want == 401 {
				wantGoogleError(t, body, 401, "UNAUTHENTICATED")
				if len(e.fake.Requests()) != before {
					t.Errorf("an unauthenticated request reached upstream")
				}
			}
		})
	}
}

func TestPassthrough(t *testing.T) {
	e := newEnv(t, 0, func(c *Config) { c.Passthrough = true })
	own := fakeKey(t)
	e.keys = append(e.keys, own) // must not be logged either
	resp, body := e.doWith("POST", gen("gemini-2.5-flash")+"?key="+own, generateBody, nil)
	e.wantStatus(resp, body, 200)
	reqs := e.fake.Requests()
	if len(reqs) != 1 || reqs[0].Key != own {
		t.Fatalf("upstream did not get the client's own key")
	}
	resp, body = e.doWith("POST", gen("gemini-2.5-flash"), generateBody, map[string]string{"Authorization": "Bearer " + own})
	e.wantStatus(resp, body, 200)
	resp, body = e.doWith("POST", gen("gemini-2.5-flash"), generateBody, nil)
	e.wantStatus(resp, body, 401)
}

func TestHostCheck(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.AllowedHosts = []string{"gbd.lan"} })
	_, port, _ := strings.Cut(strings.TrimPrefix(e.base, "http://"), ":")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"evil.example:" + port, 403},
		{"127.0.0.1.nip.io:" + port, 403},
		{"localhost:" + port, 200},
		{"127.0.0.1:" + port, 200},
		{"gbd.lan:" + port, 200},
	} {
		resp, body := e.doWith("GET", "/v1beta/models", "", map[string]string{"Host": tc.host, "x-goog-api-key": e.accessKey})
		if resp.StatusCode != tc.want {
			t.Errorf("Host %s: status = %d, want %d (%s)", tc.host, resp.StatusCode, tc.want, body)
		}
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, 1)
	resp, body := e.doWith("OPTIONS", gen("gemini-2.5-flash"), "", map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type,x-goog-api-key",
	})
	e.wantStatus(resp, body, 204)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Allow-Origin = %q", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "x-goog-api-key") {
		t.Errorf("Allow-Headers = %q", got)
	}
	resp, body = e.doWith("POST", gen("gemini-2.5-flash"), generateBody, map[string]string{"Origin": "https://app.example", "x-goog-api-key": e.accessKey})
	e.wantStatus(resp, body, 200)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Allow-Origin on the answer = %q", got)
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("upstream requests = %d, want 1 (preflight is answered locally)", n)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.MaxBodyBytes = 1024 })
	big := `{"contents":[{"parts":[{"text":"` + strings.Repeat("a", 2048) + `"}]}]}`
	resp, body := e.do("POST", gen("gemini-2.5-flash"), big)
	e.wantStatus(resp, body, 413)
	wantGoogleError(t, body, 413, "INVALID_ARGUMENT")
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream requests = %d, want 0", n)
	}
}

func TestPausedProxy(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.Paused = true })
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 503)
}

func TestPortInUse(t *testing.T) {
	e := newEnv(t, 1)
	srv, err := New(Config{Addr: e.srv.Addr(), AccessKey: "x"}, keypool.New(keypool.Options{}), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Start()
	var pe *PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("Start on a taken port: err = %v, want *PortInUseError", err)
	}
	if !strings.Contains(err.Error(), "already in use") {
		t.Errorf("message %q", err)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	e := newEnv(t, 1)
	gate := make(chan struct{})
	e.fake.ScriptAll(proxytest.Gate(gate))
	resp := streamRequest(t, e, context.Background())
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // let Shutdown close the listener
	close(gate)
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("in-flight stream was cut by shutdown: %v", err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
