package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

func TestVaultCheckEveryResult(t *testing.T) {
	fake := proxytest.New(t)
	e := newVaultEnv(t, keychain.NewMemory())
	e.check = CheckOptions{Client: fastClient(), Upstream: fake.URL(), Concurrency: 3, Timeout: 300 * time.Millisecond}
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 11)
	if _, err := e.v.AddBulk(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		step       *proxytest.Step
		result     CheckResult
		status     string
		poolActive bool
	}{
		{nil, ResultOK, "active", true},
		{ptr(proxytest.InvalidKey()), ResultInvalid, "invalid", false},
		{ptr(proxytest.ExpiredKey()), ResultExpired, "expired", false},
		{ptr(proxytest.Disabled()), ResultDenied, "denied", false},
		{ptr(proxytest.RateLimited("30s")), ResultRateLimited, "active", true},
		{ptr(proxytest.DailyQuota()), ResultRateLimited, "active", true},
		{ptr(proxytest.BareRateLimit()), ResultRateLimited, "active", true},
		{ptr(proxytest.RegionRefused()), ResultRegion, "active", true},
		{ptr(proxytest.Unavailable()), ResultNetwork, "active", true},
		{ptr(proxytest.Internal()), ResultNetwork, "active", true},
		{ptr(proxytest.Hang()), ResultNetwork, "active", true},
	}
	for i, c := range cases {
		if c.step != nil {
			fake.Script(keys[i], *c.step)
		}
	}
	var mu sync.Mutex
	var seen []int
	got := map[string]CheckOutcome{}
	sum, err := e.v.Check(ctx, nil, func(done, total int, id string, o CheckOutcome) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, done)
		got[id] = o
		if total != len(keys) || id != o.ID {
			t.Errorf("progress(%d, %d, %s, %+v): want total %d and matching id", done, total, id, o, len(keys))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != len(keys) || sum.Done != len(keys) || sum.Canceled {
		t.Fatalf("Check() = %+v, want all %d done", sum, len(keys))
	}
	for i, d := range seen {
		if d != i+1 {
			t.Fatalf("progress done values = %v, want 1..%d in order", seen, len(keys))
		}
	}
	for i, c := range cases {
		id := apikey.ID(keys[i])
		o := got[id]
		if o.Result != c.result || o.Status != c.status {
			t.Errorf("case %d: outcome = %+v, want result %s status %s", i, o, c.result, c.status)
		}
		k, _ := e.v.Get(ctx, id)
		if k.Status != c.status || k.LastResult != string(c.result) || k.LastCheckedAt.IsZero() {
			t.Errorf("case %d: stored %+v, want status %s result %s and a check time", i, k, c.status, c.result)
		}
		if strings.Contains(k.Reason, keys[i]) {
			t.Errorf("case %d: reason contains the key", i)
		}
	}
	if c := e.pool.Counts(); c.Disabled != 3 || c.Total != len(keys) {
		t.Fatalf("pool after check = %+v, want 3 disabled (the dead keys)", c)
	}
	for _, r := range fake.Requests() {
		if r.KeyInURL || r.Path != "/v1beta/models" || r.RawQuery != "pageSize=1" || r.Method != "GET" || r.Key == "" {
			t.Fatalf("check request = %s %s?%s (key in URL %v), want GET /v1beta/models?pageSize=1 with the key in the header", r.Method, r.Path, r.RawQuery, r.KeyInURL)
		}
	}

	// Prune takes only the dead keys, and can be undone.
	pr, err := e.v.Prune(ctx)
	if err != nil || pr.Quarantined != 3 {
		t.Fatalf("Prune() = %+v, %v, want 3 quarantined", pr, err)
	}
	if c := e.pool.Counts(); c.Total != len(keys)-3 || c.Disabled != 0 {
		t.Fatalf("pool after prune = %+v, want %d keys, none disabled", c, len(keys)-3)
	}
	restored, err := e.v.Restore(ctx, pr.IDs)
	var back []string
	for _, k := range restored {
		back = append(back, k.Status)
	}
	slices.Sort(back)
	if err != nil || fmt.Sprint(back) != "[denied expired invalid]" {
		t.Fatalf("Restore(pruned) statuses = %v, %v, want the 3 back as dead (denied expired invalid)", back, err)
	}
	if c := e.pool.Counts(); c.Total != len(keys) || c.Disabled != 3 {
		t.Fatalf("pool after restore = %+v, want all keys, 3 disabled", c)
	}

	// A second check with healthy answers revives the dead keys, except the
	// one disabled by hand meanwhile.
	if err := e.v.SetEnabled(ctx, apikey.ID(keys[1]), false); err != nil {
		t.Fatal(err)
	}
	sum, err = e.v.Check(ctx, []string{apikey.ID(keys[1]), apikey.ID(keys[2]), apikey.ID(keys[3])}, nil)
	if err != nil || sum.Done != 3 || sum.ByResult[ResultOK] != 3 {
		t.Fatalf("Check(3 dead keys, healthy upstream) = %+v, %v, want 3 ok", sum, err)
	}
	if k, _ := e.v.Get(ctx, apikey.ID(keys[1])); k.Status != "disabled" {
		t.Errorf("key disabled by hand after an ok check = %s, want disabled", k.Status)
	}
	if k, _ := e.v.Get(ctx, apikey.ID(keys[2])); k.Status != "active" {
		t.Errorf("expired key after an ok check = %s, want active", k.Status)
	}
	if c := e.pool.Counts(); c.Disabled != 1 {
		t.Fatalf("pool after re-check = %+v, want 1 disabled (by hand)", c)
	}

	// Prune again (nothing dead), purge after the quarantine window.
	e.v.Check(ctx, []string{apikey.ID(keys[4])}, nil) // default answer: ok
	fake.Script(keys[5], proxytest.InvalidKey())
	e.v.Check(ctx, []string{apikey.ID(keys[5])}, nil)
	pr, _ = e.v.Prune(ctx)
	if pr.Quarantined != 1 {
		t.Fatalf("Prune() = %+v, want 1", pr)
	}
	if res, _ := e.v.PurgeExpired(ctx); res.Deleted != 0 {
		t.Fatalf("PurgeExpired() inside the window deleted %d, want 0", res.Deleted)
	}
	e.v.Now = func() time.Time { return time.Now().Add(DefaultQuarantine + time.Hour) }
	res, err := e.v.PurgeExpired(ctx)
	if err != nil || res.Deleted != 1 {
		t.Fatalf("PurgeExpired() after the window = %+v, %v, want 1 deleted", res, err)
	}
	if _, err := e.secretOf(t, apikey.ID(keys[5])); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("secret of the purged key: %v, want ErrNotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestVaultCheckCancel(t *testing.T) {
	fake := proxytest.New(t)
	fake.ScriptAll(proxytest.Always(proxytest.Hang()))
	e := newVaultEnv(t, keychain.NewMemory())
	e.check = CheckOptions{Client: fastClient(), Upstream: fake.URL(), Concurrency: 4}
	keys := fakeKeys(testRand(t), 20)
	if _, err := e.v.AddBulk(context.Background(), strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(fake.Requests()) < 4 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	sum, err := e.v.Check(ctx, nil, func(int, int, string, CheckOutcome) {
		t.Error("progress called for a cancelled check")
	})
	if !errors.Is(err, context.Canceled) || !sum.Canceled || sum.Done != 0 {
		t.Fatalf("Check(cancelled) = %+v, %v, want Canceled, 0 done, context.Canceled", sum, err)
	}
	if n := len(fake.Requests()); n > 8 {
		t.Fatalf("%d requests sent after cancel, want at most concurrency (4) + slack", n)
	}
	list, _ := e.v.List(context.Background(), KeyQuery{Limit: 100})
	for _, k := range list.Keys {
		if k.LastResult != "" || !k.LastCheckedAt.IsZero() {
			t.Fatalf("key %s has result %q after a cancelled check, want none", k.ID, k.LastResult)
		}
	}
}

func TestVaultCheckSkipsUncheckable(t *testing.T) {
	fake := proxytest.New(t)
	mem := keychain.NewMemory()
	e := newVaultEnv(t, mem)
	e.check = CheckOptions{Client: fastClient(), Upstream: fake.URL()}
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 3)
	e.v.AddBulk(ctx, strings.Join(keys, "\n"))
	mem.Delete(ctx, apikey.ID(keys[0]))
	e.v.Reconcile(ctx) // key 0: secret missing
	e.v.Quarantine(ctx, []string{apikey.ID(keys[1])})
	sum, err := e.v.Check(ctx, []string{apikey.ID(keys[0]), apikey.ID(keys[1]), apikey.ID(keys[2]), "k-none"}, nil)
	if err != nil || sum.Total != 3 || sum.ByResult[ResultSkipped] != 2 || sum.ByResult[ResultOK] != 1 {
		t.Fatalf("Check(missing, quarantined, ok, unknown) = %+v, %v, want 2 skipped 1 ok of 3", sum, err)
	}
	// Check all: only the pooled key.
	sum, _ = e.v.Check(ctx, nil, nil)
	if sum.Total != 1 {
		t.Fatalf("Check(all) total = %d, want 1 (missing and quarantined keys are not checked)", sum.Total)
	}
	if n := fake.CountFor(keys[0]) + fake.CountFor(keys[1]); n != 0 {
		t.Fatalf("uncheckable keys sent %d requests, want 0", n)
	}
}

func TestVaultMarkDead(t *testing.T) {
	e := newVaultEnv(t, keychain.NewMemory())
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 2)
	e.v.AddBulk(ctx, strings.Join(keys, "\n"))
	id := apikey.ID(keys[0])
	if err := e.v.MarkDead(ctx, id, gemini.ClassRateLimited, "429"); err != nil {
		t.Fatal(err)
	}
	if k, _ := e.v.Get(ctx, id); k.Status != "active" {
		t.Fatalf("MarkDead(rate_limited) → %s, want active (ignored)", k.Status)
	}
	if err := e.v.MarkDead(ctx, id, gemini.ClassKeyInvalid, "invalid API key"); err != nil {
		t.Fatal(err)
	}
	if k, _ := e.v.Get(ctx, id); k.Status != "invalid" || k.Reason != "invalid API key" {
		t.Fatalf("MarkDead(invalid) → %+v, want invalid", k)
	}
	if c := e.pool.Counts(); c.Disabled != 1 {
		t.Fatalf("pool after MarkDead = %+v, want 1 disabled", c)
	}
}
