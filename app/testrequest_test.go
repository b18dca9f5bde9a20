package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestTestRequest sends the walkthrough's test request through the real
// proxy to the fake Google and checks the answer or the reason for every
// case the walkthrough explains.
func TestTestRequest(t *testing.T) {
	e := newAPIEnv(t)
	ask := func() TestResult {
		t.Helper()
		var res TestResult
		e.mustCall(http.StatusOK, "POST", "/api/test-request", map[string]string{}).json(t, &res)
		return res
	}
	if res := ask(); res.OK || res.Reason != TestNoKeys {
		t.Fatalf("no keys: %+v, want reason %s", res, TestNoKeys)
	}
	keys := e.newKeys(2)
	e.add(keys[0])
	res := ask()
	if !res.OK || res.Reason != TestOK || res.Text == "" || e.fake.CountFor(keys[0]) != 1 {
		t.Fatalf("one good key: %+v (upstream saw the key %d times), want an answer", res, e.fake.CountFor(keys[0]))
	}

	e.fake.Script(keys[0], proxytest.Always(proxytest.RegionRefused()))
	if res := ask(); res.OK || res.Reason != TestRegion || !strings.Contains(res.Message, "upstream proxy") {
		t.Fatalf("region refused: %+v, want reason %s with the hint", res, TestRegion)
	}

	e.mustCall(http.StatusOK, "DELETE", "/api/keys", map[string]any{"keys": []string{keys[0]}})
	e.fake.Script(keys[1], proxytest.Always(proxytest.InvalidKey()))
	e.add(keys[1])
	if res := ask(); res.OK || (res.Reason != TestInvalidKey && res.Reason != TestNoUsableKey) {
		t.Fatalf("invalid key: %+v, want reason %s or %s", res, TestInvalidKey, TestNoUsableKey)
	}
	// The key is now disabled: nothing usable is left.
	if res := ask(); res.OK || res.Reason != TestNoUsableKey {
		t.Fatalf("only a dead key: %+v, want reason %s", res, TestNoUsableKey)
	}

	before := len(e.fake.Requests())
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", map[string]bool{"passthrough": true})
	if res := ask(); res.OK || res.Reason != TestPassthrough {
		t.Fatalf("passthrough: %+v, want reason %s", res, TestPassthrough)
	}
	if n := len(e.fake.Requests()); n != before {
		t.Errorf("the test request in passthrough mode reached Google (%d requests, %d before)", n, before)
	}
	if r := e.call("POST", "/api/test-request", map[string]string{"model": "../x"}); r.code != 400 {
		t.Errorf("a bad model name: %d, want 400", r.code)
	}
}

// TestTestRequestDialects sends the test request in each dialect through
// the real listener to the fake Google: each reads its answer's text, and
// each words a refusal (region) with the reason, not as an answer.
func TestTestRequestDialects(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(1)
	e.add(keys[0])
	for _, d := range Dialects() {
		var res TestResult
		e.mustCall(http.StatusOK, "POST", "/api/test-request", map[string]string{"dialect": d}).json(t, &res)
		if !res.OK || res.Reason != TestOK || res.Text == "" || strings.HasPrefix(res.Text, "(") || res.Dialect != d {
			t.Errorf("dialect %s: %+v, want an answer text", d, res)
		}
		reqs := e.fake.Requests()
		if last := reqs[len(reqs)-1]; !strings.HasSuffix(last.Path, ":generateContent") {
			t.Errorf("dialect %s reached Google at %s", d, last.Path)
		}
	}
	if got := len(e.fake.Requests()); got != 4 {
		t.Errorf("upstream saw %d requests, want 4", got)
	}
	e.fake.Script(keys[0], proxytest.Always(proxytest.RegionRefused()))
	for _, d := range Dialects() {
		var res TestResult
		e.mustCall(http.StatusOK, "POST", "/api/test-request", map[string]string{"dialect": d}).json(t, &res)
		if res.OK || res.Reason != TestRegion || res.Message == "" {
			t.Errorf("dialect %s, region refused: %+v, want reason %s", d, res, TestRegion)
		}
	}
	if r := e.call("POST", "/api/test-request", map[string]string{"dialect": "klingon"}); r.code != 400 || !strings.Contains(string(r.body), "dialect") {
		t.Errorf("unknown dialect: %d %s", r.code, r.body)
	}
}
