package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // America/Los_Angeles on every OS
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db", "gbd.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func testKey(i int) NewKey {
	id := fmt.Sprintf("k%016x", i)
	return NewKey{
		ID:          id,
		Fingerprint: id[1:],
		Preview:     fmt.Sprintf("AIza…%04d", i%10000),
		CreatedAt:   time.Unix(1_700_000_000+int64(i), 0),
	}
}

func TestOpenMigratesIdempotently(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	path := filepath.Join(t.TempDir(), "gbd.db")
	ctx := context.Background()
	for i := range 3 {
		s, err := Open(path, log)
		if err != nil {
			t.Fatalf("Open #%d = %v", i+1, err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != migrations[len(migrations)-1].version {
			t.Fatalf("SchemaVersion() after open #%d = %d, %v, want %d", i+1, v, err, migrations[len(migrations)-1].version)
		}
		if i == 0 {
			if _, err := s.AddKeys(ctx, []NewKey{testKey(1)}); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := s.AllKeys(ctx)
		if err != nil || len(keys) != 1 {
			t.Fatalf("AllKeys() after open #%d = %d keys, %v, want 1", i+1, len(keys), err)
		}
		s.Close()
	}
	if n := strings.Count(logs.String(), "database migrated"); n != len(migrations) {
		t.Fatalf("migrations logged %d times over 3 opens, want %d:\n%s", n, len(migrations), logs.String())
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t)
	if err := s.db.Exec(`INSERT INTO schema_version(version, name, applied_at) VALUES (999, 'future', 0)`).Error; err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open(db with schema 999) = %v, want a 'newer version' error", err)
	}
}

func TestOpenPragmas(t *testing.T) {
	s, _ := openTest(t)
	var mode string
	var sync, fk, busy int
	s.db.Raw("PRAGMA journal_mode").Scan(&mode)
	s.db.Raw("PRAGMA synchronous").Scan(&sync)
	s.db.Raw("PRAGMA foreign_keys").Scan(&fk)
	s.db.Raw("PRAGMA busy_timeout").Scan(&busy)
	if mode != "wal" || sync != 2 || fk != 1 || busy < 1000 {
		t.Fatalf("pragmas = journal_mode %q synchronous %d foreign_keys %d busy_timeout %d, want wal 2 1 ≥1000", mode, sync, fk, busy)
	}
}

func TestAddKeysNewAndExisting(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	res, err := s.AddKeys(ctx, []NewKey{testKey(1), testKey(2), testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{testKey(1).ID, testKey(2).ID}; !slices.Equal(res.Added, want) || len(res.Existing) != 0 {
		t.Fatalf("AddKeys(1,2,1) = added %v existing %d, want %v and 0", res.Added, len(res.Existing), want)
	}
	adding := testKey(3)
	adding.Status = StatusAdding
	res, err = s.AddKeys(ctx, []NewKey{testKey(2), adding})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 1 || res.Added[0] != adding.ID || len(res.Existing) != 1 || res.Existing[0].ID != testKey(2).ID {
		t.Fatalf("AddKeys(2,3) = added %v existing %v, want [3] and [2]", res.Added, res.Existing)
	}
	k, err := s.GetKey(ctx, adding.ID)
	if err != nil || k.Status != StatusAdding {
		t.Fatalf("GetKey(3) = %+v, %v, want status adding", k, err)
	}
	if _, err := s.GetKey(ctx, "k-missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("GetKey(missing) = %v, want ErrKeyNotFound", err)
	}
	// Transient rows are hidden from listings by default.
	page, err := s.ListKeys(ctx, KeyFilter{})
	if err != nil || page.Total != 2 {
		t.Fatalf("ListKeys({}) total = %d, %v, want 2 (adding hidden)", page.Total, err)
	}
	if _, err := s.AddKeys(ctx, []NewKey{{ID: ""}}); err == nil {
		t.Fatal("AddKeys(empty id) = nil, want error")
	}
}

func TestTenThousandKeysPages(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const n = 10_000
	keys := make([]NewKey, n)
	for i := range keys {
		keys[i] = testKey(i)
	}
	res, err := s.AddKeys(ctx, keys)
	if err != nil || len(res.Added) != n {
		t.Fatalf("AddKeys(10000) = %d added, %v", len(res.Added), err)
	}
	// Mark every 10th disabled.
	var disabled []string
	for i := 0; i < n; i += 10 {
		disabled = append(disabled, keys[i].ID)
	}
	if ch, err := s.Transition(ctx, disabled, []Status{StatusActive}, StatusDisabled, "by hand"); err != nil || len(ch) != len(disabled) {
		t.Fatalf("Transition(disabled) = %d, %v, want %d", len(ch), err, len(disabled))
	}

	seen := map[string]bool{}
	var prev time.Time
	for off := 0; ; off += 700 {
		page, err := s.ListKeys(ctx, KeyFilter{Offset: off, Limit: 700})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != n {
			t.Fatalf("ListKeys(offset %d).Total = %d, want %d", off, page.Total, n)
		}
		if len(page.Keys) == 0 {
			break
		}
		for _, k := range page.Keys {
			if seen[k.ID] {
				t.Fatalf("key %s on two pages", k.ID)
			}
			seen[k.ID] = true
			if k.CreatedAt.Before(prev) {
				t.Fatalf("page at offset %d not sorted by creation", off)
			}
			prev = k.CreatedAt
		}
	}
	if len(seen) != n {
		t.Fatalf("pages held %d distinct keys, want %d", len(seen), n)
	}

	page, err := s.ListKeys(ctx, KeyFilter{Statuses: []Status{StatusDisabled}, Limit: 5, Sort: SortCreated, Desc: true})
	if err != nil || page.Total != n/10 || len(page.Keys) != 5 || page.Keys[0].ID != keys[n-10].ID {
		t.Fatalf("ListKeys(disabled, desc) = total %d, %d keys, first %v, %v; want %d, 5, %s", page.Total, len(page.Keys), page.Keys, err, n/10, keys[n-10].ID)
	}
	// Suffix search: previews end with i%10000 as 4 digits; "0042" matches key 42 only.
	page, err = s.ListKeys(ctx, KeyFilter{Search: "0042"})
	if err != nil || page.Total != 1 || page.Keys[0].ID != keys[42].ID {
		t.Fatalf("ListKeys(search 0042) = %+v, %v, want key 42 only", page, err)
	}
	// Wildcards in the search are literal.
	page, err = s.ListKeys(ctx, KeyFilter{Search: "_"})
	if err != nil || page.Total != 0 {
		t.Fatalf("ListKeys(search _) total = %d, %v, want 0", page.Total, err)
	}
	page, err = s.ListKeys(ctx, KeyFilter{IDs: []string{keys[5].ID, keys[7].ID, "k-nope"}})
	if err != nil || page.Total != 2 {
		t.Fatalf("ListKeys(ids) total = %d, %v, want 2", page.Total, err)
	}
	page, err = s.ListKeys(ctx, KeyFilter{IDs: []string{}})
	if err != nil || page.Total != 0 {
		t.Fatalf("ListKeys(empty ids) total = %d, %v, want 0", page.Total, err)
	}
	page, err = s.ListKeys(ctx, KeyFilter{Limit: 5000})
	if err != nil || len(page.Keys) != MaxPageSize {
		t.Fatalf("ListKeys(limit 5000) = %d keys, %v, want %d (capped)", len(page.Keys), err, MaxPageSize)
	}
	if _, err := s.ListKeys(ctx, KeyFilter{Sort: "bogus"}); err == nil {
		t.Fatal("ListKeys(sort bogus) = nil error, want error")
	}
	counts, err := s.CountByStatus(ctx)
	if err != nil || counts[StatusActive] != n-n/10 || counts[StatusDisabled] != n/10 {
		t.Fatalf("CountByStatus() = %v, %v", counts, err)
	}
	got, err := s.GetKeys(ctx, []string{keys[9999].ID, "nope", keys[0].ID})
	if err != nil || len(got) != 2 || got[0].ID != keys[9999].ID || got[1].ID != keys[0].ID {
		t.Fatalf("GetKeys() = %v, %v, want keys 9999 and 0 in that order", got, err)
	}
}

func TestStatusLabelChecks(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.AddKeys(ctx, []NewKey{testKey(1), testKey(2), testKey(3)}); err != nil {
		t.Fatal(err)
	}
	id1, id2, id3 := testKey(1).ID, testKey(2).ID, testKey(3).ID
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.SetStatus(ctx, id1, StatusInvalid, "API key not valid", at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, "k-missing", StatusActive, "", at); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("SetStatus(missing) = %v, want ErrKeyNotFound", err)
	}
	if err := s.SetLabel(ctx, id2, "work"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, "k-missing", "x"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("SetLabel(missing) = %v, want ErrKeyNotFound", err)
	}
	if _, err := s.Quarantine(ctx, []string{id3}, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.ApplyChecks(ctx, []CheckUpdate{
		{ID: id2, Result: "rate_limited", Reason: "429", CheckedAt: at},
		{ID: id3, Verdict: StatusActive, Result: "ok", CheckedAt: at}, // quarantined: status kept
		{ID: "k-gone", Verdict: StatusActive, Result: "ok", CheckedAt: at},
	})
	if err != nil || len(got) != 2 || got[0].ID != id2 || got[1].Status != StatusQuarantined {
		t.Fatalf("ApplyChecks() = %+v, %v, want key2 and key3 (still quarantined)", got, err)
	}
	keys, _ := s.GetKeys(ctx, []string{id1, id2, id3})
	if k := keys[0]; k.Status != StatusInvalid || k.Reason != "API key not valid" || !k.LastCheckedAt.Equal(at) {
		t.Errorf("key1 = %+v, want invalid, reason, checked at %v", k, at)
	}
	if k := keys[1]; k.Status != StatusActive || k.Label != "work" || k.LastResult != "rate_limited" || !k.LastCheckedAt.Equal(at) {
		t.Errorf("key2 = %+v, want active, label work, result rate_limited", k)
	}
	if k := keys[2]; k.Status != StatusQuarantined || k.LastResult != "ok" {
		t.Errorf("key3 = %+v, want still quarantined with result ok", k)
	}
	page, _ := s.ListKeys(ctx, KeyFilter{Search: "WOR"})
	if page.Total != 1 || page.Keys[0].ID != id2 {
		t.Errorf("ListKeys(search label WOR) = %+v, want key2", page)
	}
	page, _ = s.ListKeys(ctx, KeyFilter{Search: "long-suffix", SearchIDs: []string{id1}})
	if page.Total != 1 || page.Keys[0].ID != id1 {
		t.Errorf("ListKeys(search with SearchIDs) = %+v, want key1", page)
	}
}

func TestApplyChecksStatusRules(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	start := []Status{StatusActive, StatusDisabled, StatusInvalid, StatusExpired, StatusSecretMissing, StatusAdding}
	verdicts := []Status{"", StatusActive, StatusInvalid, StatusDenied}
	// want[start][verdict]
	want := map[Status][]Status{
		StatusActive:        {StatusActive, StatusActive, StatusInvalid, StatusDenied},
		StatusDisabled:      {StatusDisabled, StatusDisabled, StatusInvalid, StatusDenied},
		StatusInvalid:       {StatusInvalid, StatusActive, StatusInvalid, StatusDenied},
		StatusExpired:       {StatusExpired, StatusActive, StatusInvalid, StatusDenied},
		StatusSecretMissing: {StatusSecretMissing, StatusSecretMissing, StatusSecretMissing, StatusSecretMissing},
		StatusAdding:        {StatusAdding, StatusAdding, StatusAdding, StatusAdding},
	}
	i := 0
	for _, st := range start {
		for j, v := range verdicts {
			k := testKey(i)
			i++
			k.Status = st
			if _, err := s.AddKeys(ctx, []NewKey{k}); err != nil {
				t.Fatal(err)
			}
			got, err := s.ApplyChecks(ctx, []CheckUpdate{{ID: k.ID, Verdict: v, Result: "r", Reason: "why"}})
			if err != nil || len(got) != 1 {
				t.Fatalf("ApplyChecks(%s, verdict %q) = %v, %v", st, v, got, err)
			}
			if got[0].Status != want[st][j] {
				t.Errorf("ApplyChecks(status %s, verdict %q) → %s, want %s", st, v, got[0].Status, want[st][j])
			}
		}
	}
}

func TestQuarantineRestorePurge(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var ids []string
	for i := range 6 {
		k := testKey(i)
		ids = append(ids, k.ID)
		if _, err := s.AddKeys(ctx, []NewKey{k}); err != nil {
			t.Fatal(err)
		}
	}
	s.SetStatus(ctx, ids[0], StatusInvalid, "dead", time.Time{})
	s.SetStatus(ctx, ids[1], StatusDisabled, "by hand", time.Time{})
	s.SetStatus(ctx, ids[5], StatusDeleting, "", time.Time{})
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q, err := s.Quarantine(ctx, ids[:2], t0)
	if err != nil || !slices.Equal(q, ids[:2]) {
		t.Fatalf("Quarantine(0,1) = %v, %v", q, err)
	}
	q, err = s.Quarantine(ctx, []string{ids[2], ids[5], ids[0]}, t0.Add(time.Hour)) // 5 deleting, 0 already quarantined
	if err != nil || !slices.Equal(q, ids[2:3]) {
		t.Fatalf("Quarantine(2,5,0) = %v, %v, want [2]", q, err)
	}
	old, err := s.QuarantinedBefore(ctx, t0.Add(30*time.Minute))
	if err != nil || !slices.Equal(old, ids[:2]) {
		t.Fatalf("QuarantinedBefore(t0+30m) = %v, %v, want keys 0,1", old, err)
	}
	restored, err := s.Restore(ctx, []string{ids[0], ids[1], ids[3]})
	if err != nil || len(restored) != 2 {
		t.Fatalf("Restore(0,1,3) = %v, %v, want 2 keys", restored, err)
	}
	if restored[0].Status != StatusInvalid || restored[1].Status != StatusDisabled || !restored[0].DeletedAt.IsZero() {
		t.Fatalf("Restore() statuses = %s, %s, want invalid, disabled (previous ones)", restored[0].Status, restored[1].Status)
	}
	// Secret missing → revived to the previous status.
	if _, err := s.Transition(ctx, ids[1:2], []Status{StatusDisabled}, StatusSecretMissing, "no secret"); err != nil {
		t.Fatal(err)
	}
	revived, err := s.Revive(ctx, ids[1:2])
	if err != nil || len(revived) != 1 || revived[0].Status != StatusDisabled {
		t.Fatalf("Revive(1) = %+v, %v, want disabled again", revived, err)
	}
	// Purge = mark deleting, then delete rows (the vault removes secrets in between).
	old, _ = s.QuarantinedBefore(ctx, t0.Add(2*time.Hour))
	if !slices.Equal(old, ids[2:3]) {
		t.Fatalf("QuarantinedBefore(t0+2h) = %v, want [2]", old)
	}
	ch, err := s.Transition(ctx, old, []Status{StatusQuarantined}, StatusDeleting, "purge")
	if err != nil || !slices.Equal(ch, old) {
		t.Fatalf("Transition(quarantined→deleting) = %v, %v", ch, err)
	}
	n, err := s.Delete(ctx, append(ch, ids[5], "k-none"))
	if err != nil || n != 2 {
		t.Fatalf("Delete() = %d, %v, want 2", n, err)
	}
	all, _ := s.AllKeys(ctx)
	if len(all) != 4 {
		t.Fatalf("AllKeys() = %d rows after purge, want 4", len(all))
	}
}

func TestSettings(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	port, err := GetSetting(ctx, s, "port", 8000)
	if err != nil || port != 8000 {
		t.Fatalf("GetSetting(port, unset) = %d, %v, want default 8000", port, err)
	}
	type aliases map[string]string
	if err := PutSetting(ctx, s, "port", 9001); err != nil {
		t.Fatal(err)
	}
	if err := PutSetting(ctx, s, "aliases", aliases{"gpt-4o": "gemini-2.5-pro"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSettings(ctx, map[string]any{"port": 9002, "theme": "dark"}); err != nil {
		t.Fatal(err)
	}
	port, err = GetSetting(ctx, s, "port", 8000)
	if err != nil || port != 9002 {
		t.Fatalf("GetSetting(port) = %d, %v, want 9002", port, err)
	}
	al, err := GetSetting(ctx, s, "aliases", aliases{})
	if err != nil || al["gpt-4o"] != "gemini-2.5-pro" {
		t.Fatalf("GetSetting(aliases) = %v, %v", al, err)
	}
	if _, err := GetSetting(ctx, s, "theme", 0); err == nil {
		t.Fatal("GetSetting(theme as int) = nil error, want a decode error")
	}
	all, err := s.Settings(ctx)
	if err != nil || len(all) != 3 || string(all["theme"]) != `"dark"` {
		t.Fatalf("Settings() = %v, %v", all, err)
	}
	if err := s.DeleteSetting(ctx, "port"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Setting(ctx, "port"); ok {
		t.Fatal("Setting(port) still set after DeleteSetting")
	}
	if err := s.PutSettings(ctx, map[string]any{"bad": make(chan int)}); err == nil {
		t.Fatal("PutSettings(unencodable) = nil, want error")
	}
}

func TestRecordBatchAndStats(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	k1, k2 := testKey(1).ID, testKey(2).ID
	if _, err := s.AddKeys(ctx, []NewKey{testKey(1), testKey(2)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	ev := func(ago time.Duration, key, model, class string, p, o, th int64) UsageEvent {
		return UsageEvent{Time: now.Add(-ago), Route: "gemini", Model: model, KeyID: key, Status: 200, Attempts: 1,
			Class: class, Failed: class != "ok" && class != "canceled", Latency: 120 * time.Millisecond, PromptTokens: p, OutputTokens: o, ThoughtTokens: th}
	}
	batch := []UsageEvent{
		ev(0, k1, "gemini-2.5-flash", "ok", 10, 20, 5),
		ev(0, k1, "gemini-2.5-flash", "ok", 1, 2, 0),
		ev(time.Minute, k1, "gemini-2.5-pro", "rate_limited", 0, 0, 0),
		ev(2*time.Minute, k2, "gemini-2.5-flash", "quota_daily", 0, 0, 0),
		ev(2*time.Minute, k2, "gemini-2.5-flash", "canceled", 3, 0, 0),
		ev(3*time.Hour, k2, "gemini-2.5-flash", "ok", 100, 200, 0),
		ev(0, "", "gemini-2.5-flash", "client", 0, 0, 0),
	}
	if err := s.RecordBatch(ctx, batch[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordBatch(ctx, batch[3:]); err != nil {
		t.Fatal(err)
	}

	keys, _ := s.GetKeys(ctx, []string{k1, k2})
	if k := keys[0]; k.Requests != 3 || k.Failures != 1 || k.Tokens != 38 || !k.LastUsedAt.Equal(now) {
		t.Errorf("key1 counters = req %d fail %d tok %d last %v, want 3 1 38 %v", k.Requests, k.Failures, k.Tokens, k.LastUsedAt, now)
	}
	if k := keys[1]; k.Requests != 3 || k.Failures != 1 || k.Tokens != 303 {
		t.Errorf("key2 counters = req %d fail %d tok %d, want 3 1 303 (canceled is no failure)", k.Requests, k.Failures, k.Tokens)
	}

	byKey, err := s.Totals(ctx, now.Add(-time.Hour), ByKey)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{
		k1: {Requests: 3, ByClass: map[string]int64{"ok": 2, "rate_limited": 1}, PromptTokens: 11, OutputTokens: 22, ThoughtTokens: 5},
		k2: {Requests: 2, ByClass: map[string]int64{"quota_daily": 1, "canceled": 1}, PromptTokens: 3},
		"": {Requests: 1, ByClass: map[string]int64{"client": 1}},
	}
	if len(byKey) != len(want) {
		t.Fatalf("Totals(1h, ByKey) = %d groups, want %d: %+v", len(byKey), len(want), byKey)
	}
	for _, tot := range byKey {
		w := want[tot.KeyID]
		got := tot.Counts
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("Totals(1h)[%q] = %+v, want %+v", tot.KeyID, got, w)
		}
	}
	if byKey[0].KeyID != k1 || byKey[0].ByClass["ok"] != 2 || byKey[0].ByClass["rate_limited"] != 1 {
		t.Errorf("Totals(1h)[0] = %+v, want key1 first with ok 2, rate_limited 1", byKey[0])
	}
	all, err := s.Totals(ctx, time.Time{}, ByModel)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Model != "gemini-2.5-flash" || all[0].Requests != 6 || all[1].Requests != 1 {
		t.Errorf("Totals(all, ByModel) = %+v, want flash 6, pro 1", all)
	}
	km, _ := s.Totals(ctx, time.Time{}, ByKeyModel)
	if len(km) != 4 {
		t.Errorf("Totals(all, ByKeyModel) = %d groups, want 4", len(km))
	}

	series, err := s.Series(ctx, SeriesQuery{Resolution: Minute, Since: now.Add(-9 * time.Minute), Until: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 10 {
		t.Fatalf("Series(minute, 10 min) = %d points, want 10", len(series))
	}
	if last := series[9]; !last.Time.Equal(now) || last.Requests != 3 || last.ByClass["ok"] != 2 {
		t.Errorf("Series last point = %+v, want %v with 3 requests, 2 ok", last, now)
	}
	if p := series[7]; p.Requests != 2 || p.ByClass["quota_daily"] != 1 {
		t.Errorf("Series point -2m = %+v, want 2 requests, 1 rate limited", p)
	}
	hs, err := s.Series(ctx, SeriesQuery{Resolution: Hour, Since: now.Add(-24 * time.Hour), KeyID: k2})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range hs {
		sum += p.Requests
	}
	if sum != 3 || len(hs) < 24 {
		t.Errorf("Series(hour, key2, 24h) = %d points summing %d, want ≥24 points summing 3", len(hs), sum)
	}
	if _, err := s.Series(ctx, SeriesQuery{Resolution: Minute, Since: now.Add(-30 * 24 * time.Hour)}); err == nil {
		t.Error("Series(minute, 30 days) = nil error, want too long")
	}

	log, err := s.RequestLog(ctx, LogQuery{Limit: 3})
	if err != nil || log.Total != 7 || len(log.Entries) != 3 {
		t.Fatalf("RequestLog(limit 3) = total %d, %d entries, %v, want 7, 3", log.Total, len(log.Entries), err)
	}
	if e := log.Entries[0]; e.Class != "client" || e.Latency != 120*time.Millisecond || e.Route != "gemini" {
		t.Errorf("RequestLog newest = %+v, want the last recorded event", e)
	}
	log, _ = s.RequestLog(ctx, LogQuery{KeyID: k2, Class: "ok"})
	if log.Total != 1 || log.Entries[0].PromptTokens != 100 {
		t.Errorf("RequestLog(key2, ok) = %+v, want 1 entry", log)
	}
	n, err := s.WipeLog(ctx)
	if err != nil || n != 7 {
		t.Fatalf("WipeLog() = %d, %v, want 7", n, err)
	}
	if log, _ := s.RequestLog(ctx, LogQuery{}); log.Total != 0 {
		t.Fatalf("RequestLog after wipe: total %d, want 0", log.Total)
	}
	if tot, _ := s.Totals(ctx, time.Time{}, ByKey); len(tot) == 0 {
		t.Fatal("WipeLog removed usage statistics")
	}
}

func TestTodayCountsPacificDay(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	la, _ := time.LoadLocation("America/Los_Angeles")
	// 2026-11-01 is the day US DST ends: 25 hours long in Los Angeles.
	dayStart := time.Date(2026, 11, 1, 0, 0, 0, 0, la)
	now := time.Date(2026, 11, 1, 23, 30, 0, 0, la)
	if now.Sub(dayStart) != 24*time.Hour+30*time.Minute {
		t.Fatalf("test setup: the day should be 25 h long")
	}
	k := testKey(1).ID
	events := []UsageEvent{
		{Time: dayStart.Add(-time.Second), KeyID: k, Model: "m", Class: "ok"}, // yesterday
		{Time: dayStart, KeyID: k, Model: "m", Class: "ok"},
		{Time: dayStart.Add(30 * time.Minute), KeyID: k, Model: "m", Class: "quota_daily"},
		{Time: now.Add(-time.Minute), KeyID: k, Model: "m", Class: "ok"},
		{Time: now.Add(-time.Minute), KeyID: k, Model: "other", Class: "ok"},
		{Time: now.Add(-time.Minute), KeyID: "", Model: "m", Class: "client"},
	}
	if err := s.RecordBatch(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.TodayCounts(ctx, dayStart, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []DayCount{{KeyID: k, Model: "m", Requests: 3, ByClass: map[string]int64{"ok": 2, "quota_daily": 1}}, {KeyID: k, Model: "other", Requests: 1, ByClass: map[string]int64{"ok": 1}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("TodayCounts(%v) = %+v, want %+v", now, got, want)
	}
}

func TestCompactRetention(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var events []UsageEvent
	for _, ago := range []time.Duration{time.Minute, 23 * time.Hour, 25 * time.Hour, 6 * 24 * time.Hour, 8 * 24 * time.Hour, 31 * 24 * time.Hour} {
		events = append(events, UsageEvent{Time: now.Add(-ago), KeyID: "k1", Model: "m", Class: "ok"})
	}
	if err := s.RecordBatch(ctx, events); err != nil {
		t.Fatal(err)
	}
	c, err := s.Compact(ctx, now, DefaultRetention())
	if err != nil {
		t.Fatal(err)
	}
	// minute rows: 25h, 6d, 8d, 31d go; hour rows: 31d goes; log: 8d and 31d go.
	if c != (Compacted{MinuteBuckets: 4, HourBuckets: 1, LogRows: 2}) {
		t.Fatalf("Compact() = %+v, want 4 minute, 1 hour, 2 log rows", c)
	}
	log, _ := s.RequestLog(ctx, LogQuery{})
	if log.Total != 4 {
		t.Fatalf("log after compact = %d rows, want 4", log.Total)
	}
	r := DefaultRetention()
	r.LogRows = 3
	c, err = s.Compact(ctx, now, r)
	if err != nil || c.LogRows != 1 {
		t.Fatalf("Compact(LogRows 3) = %+v, %v, want 1 log row removed", c, err)
	}
	log, _ = s.RequestLog(ctx, LogQuery{})
	// The row cap keeps the newest rows by insertion: the first inserted
	// (1 minute ago) went.
	if log.Total != 3 || !log.Entries[2].Time.Equal(now.Add(-23*time.Hour)) {
		t.Fatalf("log after row cap = %+v, want the 3 last inserted rows", log.Entries)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	keys := make([]NewKey, 200)
	for i := range keys {
		keys[i] = testKey(i)
	}
	if _, err := s.AddKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				ev := []UsageEvent{{KeyID: keys[(w*20+i)%200].ID, Model: "m", Class: "ok", PromptTokens: 1}}
				if err := s.RecordBatch(ctx, ev); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.ListKeys(ctx, KeyFilter{Limit: 20, Sort: SortRequests, Desc: true}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Transition(ctx, []string{keys[i].ID}, []Status{StatusActive, StatusDisabled}, StatusDisabled, ""); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	tot, err := s.Totals(ctx, time.Now().Add(-time.Hour), ByModel)
	if err != nil || len(tot) != 1 || tot[0].Requests != 80 {
		t.Fatalf("Totals after concurrent writes = %+v, %v, want 80 requests", tot, err)
	}
}
