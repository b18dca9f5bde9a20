package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// proxyCall sends one request to the proxy and returns the status.
func (e *apiEnv) proxyCall(method, path, accessKey, body string) int {
	e.t.Helper()
	return callProxy(e.t, e.base, method, path, accessKey, body)
}

// callProxy sends one request to the proxy at base with accessKey (none
// when "") and returns the status.
func callProxy(t testing.TB, base, method, path, accessKey, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if accessKey != "" {
		req.Header.Set("x-goog-api-key", accessKey)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// logPage is an answer of GET /api/log.
type logPage struct {
	Entries []map[string]any
	Total   int
}

// waitLog waits for the request log to hold at least n rows (what says
// what it waits for) and returns its first page.
func (e *apiEnv) waitLog(what string, n int) logPage {
	e.t.Helper()
	var log logPage
	waitFor(e.t, what, func() bool {
		e.mustCall(http.StatusOK, "GET", "/api/log", nil).json(e.t, &log)
		return log.Total >= n
	})
	return log
}

// TestLocalRejectionsClassed (issue 9 row 7): answers the proxy makes
// itself are stored with their own class, never "ok"; unauthenticated
// requests are counted per minute in the statistics, without a
// request-log row each.
func TestLocalRejectionsClassed(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	const gen = "/v1beta/models/gemini-2.5-flash:generateContent"
	const body = `{"contents":[{"parts":[{"text":"hi"}]}]}`
	const flood = 300
	for i := range flood {
		key := "wrong-access-key-0123456789"
		if i%2 == 0 {
			key = ""
		}
		if got := e.proxyCall("POST", gen, key, body); got != http.StatusUnauthorized {
			t.Fatalf("request without the access key = %d, want 401", got)
		}
	}
	ak := e.a.AccessKey()
	// The pool is empty: no usable key, a local 429.
	if got := e.proxyCall("POST", gen, ak, body); got != http.StatusTooManyRequests && got != http.StatusServiceUnavailable {
		t.Fatalf("request with an empty pool = %d, want 429 or 503", got)
	}
	big := `{"contents":[{"parts":[{"text":"` + strings.Repeat("x", 2<<20) + `"}]}]}`
	s := e.a.Settings()
	s.MaxBodyMB = 1
	if _, err := e.a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := e.proxyCall("POST", gen, ak, big); got != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB body with a 1 MiB limit = %d, want 413", got)
	}
	if got := e.proxyCall("POST", "/v1/chat/completions", ak, `{"messages":`); got != http.StatusBadRequest {
		t.Fatalf("malformed OpenAI request = %d, want 400", got)
	}

	log := e.waitLog("the recorder to store the local answers", 3)
	classes := map[string]int{}
	for _, en := range log.Entries {
		classes[en["class"].(string)]++
	}
	if log.Total != 3 || classes["too_large"] != 1 || classes["bad_request"] != 1 || classes["no_key"]+classes["unavailable"] != 1 {
		t.Fatalf("request log = %d rows by class %v, want 3: too_large, bad_request, no_key (no row per 401)", log.Total, classes)
	}
	var stats struct{ Sum UsageCounts }
	waitFor(t, "the unauthenticated requests to be counted", func() bool {
		e.mustCall(http.StatusOK, "GET", "/api/stats?since=1h&by=model", nil).json(t, &stats)
		return stats.Sum.ByClass["unauthenticated"] >= flood
	})
	if stats.Sum.ByClass["unauthenticated"] != flood || stats.Sum.Successes != 0 || stats.Sum.Failures != flood+3 || stats.Sum.ByClass["ok"] != 0 {
		t.Fatalf("statistics = %+v, want %d unauthenticated, 0 successes, %d failures", stats.Sum, flood, flood+3)
	}
}

// TestTrafficAndCheckAgree (issue 12 item 2): a key Google answers with
// "API key expired" gets the same status and result whether traffic or a
// check finds it, and a denied key is "denied" both ways — never the
// "disabled" that means "by hand".
func TestTrafficAndCheckAgree(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(4)
	e.add(keys...)
	e.fake.Script(keys[0], proxytest.ExpiredKey())
	e.fake.Script(keys[1], proxytest.Disabled())
	e.fake.Script(keys[2], proxytest.ExpiredKey())
	e.fake.Script(keys[3], proxytest.Disabled())
	// Traffic meets keys 0 and 1 (the others are left out of the pool).
	ctx := context.Background()
	for _, k := range keys[2:] {
		if err := e.a.Keys().SetEnabled(ctx, apikey.ID(k), false); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		e.proxyCall("POST", "/v1beta/models/gemini-2.5-flash:generateContent", e.a.AccessKey(), `{"contents":[{"parts":[{"text":"hi"}]}]}`)
	}
	waitFor(t, "traffic to mark both keys dead", func() bool {
		k0, _ := e.a.Keys().Get(ctx, apikey.ID(keys[0]))
		k1, _ := e.a.Keys().Get(ctx, apikey.ID(keys[1]))
		return store.Status(k0.Status).Dead() && store.Status(k1.Status).Dead()
	})
	for _, k := range keys[2:] {
		if err := e.a.Keys().SetEnabled(ctx, apikey.ID(k), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.a.Keys().Check(ctx, []string{apikey.ID(keys[2]), apikey.ID(keys[3])}, nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"expired", "denied", "expired", "denied"} {
		k, err := e.a.Keys().Get(ctx, apikey.ID(keys[i]))
		if err != nil {
			t.Fatal(err)
		}
		if k.Status != want || k.LastResult != want {
			t.Errorf("key %d (found by %s) = status %q, result %q, want %q for both", i, []string{"traffic", "traffic", "check", "check"}[i], k.Status, k.LastResult, want)
		}
	}
}

// TestRecorderWritesLogWhenIdle (issue 9 row 12): the request-log rows the
// recorder queues are written out by itself once the proxy is idle, not
// only when someone reads the log.
func TestRecorderWritesLogWhenIdle(t *testing.T) {
	e := newAPIEnv(t)
	e.add(e.newKeys(1)...)
	for range 5 {
		if got := e.proxyCall("POST", "/v1beta/models/gemini-2.5-flash:generateContent", e.a.AccessKey(), `{"contents":[{"parts":[{"text":"hi"}]}]}`); got != http.StatusOK {
			t.Fatalf("request = %d, want 200", got)
		}
	}
	ctx := context.Background()
	waitFor(t, "the recorder to store the 5 requests", func() bool {
		tot, _ := e.a.store.Totals(ctx, time.Now().Add(-time.Hour), store.ByModel)
		return len(tot) == 1 && tot[0].Requests == 5
	})
	waitFor(t, "the idle recorder to write the log out", func() bool {
		q, err := e.a.store.QueuedLogRows(ctx)
		return err == nil && q == 0
	})
	if page, err := e.a.store.RequestLog(ctx, store.LogQuery{}); err != nil || page.Total != 5 {
		t.Fatalf("request log = %d rows, %v, want 5", page.Total, err)
	}
}
