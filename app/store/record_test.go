package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecordBatchStringsExact checks that RecordBatch stores strings byte
// for byte — JSON specials, control characters, and (hex path) invalid
// UTF-8 and NUL bytes — keeps the events' order in the request log, and
// stores the same SQL types as bound parameters would.
func TestRecordBatchStringsExact(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	k1 := testKey(1).ID
	if _, err := s.AddKeys(ctx, []NewKey{testKey(1)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	for _, tc := range []struct {
		name   string
		models []string
	}{
		{"json", []string{"gemini-2.5-flash", "we\"ird\\ \n\t\x01 model ✓ \u2028"}},
		{"hex", []string{"gemini-2.5-pro", "bad\xff\x00model", "näive\x00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.WipeLog(ctx); err != nil {
				t.Fatal(err)
			}
			before, _ := s.GetKeys(ctx, []string{k1})
			var batch []UsageEvent
			for i := range 300 {
				batch = append(batch, UsageEvent{Time: now.Add(time.Duration(i) * time.Millisecond), Route: "gemini",
					Model: tc.models[i%len(tc.models)], KeyID: k1, Status: 200, Attempts: 1, Class: "ok",
					Latency: time.Duration(i) * time.Millisecond, Stream: i%2 == 1, PromptTokens: int64(i), OutputTokens: 1})
			}
			if err := s.RecordBatch(ctx, batch); err != nil {
				t.Fatalf("RecordBatch(%d events) = %v", len(batch), err)
			}
			page, err := s.RequestLog(ctx, LogQuery{Limit: MaxPageSize})
			if err != nil || len(page.Entries) != len(batch) {
				t.Fatalf("RequestLog() = %d entries, %v, want %d", len(page.Entries), err, len(batch))
			}
			for i, e := range page.Entries {
				w := batch[len(batch)-1-i] // newest first
				if e.Model != w.Model || e.PromptTokens != w.PromptTokens || e.Stream != w.Stream || e.Latency != w.Latency ||
					!e.Time.Equal(w.Time) || e.KeyID != w.KeyID || e.Route != w.Route || e.Class != w.Class {
					t.Fatalf("RequestLog()[%d] = %+v, want %+v", i, e, w)
				}
			}
			tot, err := s.Totals(ctx, now.Add(-time.Hour), ByModel)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, x := range tot {
				got[x.Model] = x.Requests
			}
			for _, m := range tc.models {
				if got[m] < int64(len(batch)/len(tc.models)) {
					t.Errorf("Totals(ByModel)[%q] = %d requests, want ≥ %d", m, got[m], len(batch)/len(tc.models))
				}
			}
			after, _ := s.GetKeys(ctx, []string{k1})
			if d := after[0].Requests - before[0].Requests; d != int64(len(batch)) {
				t.Errorf("key requests grew by %d, want %d", d, len(batch))
			}
			if w := batch[len(batch)-1].Time; !after[0].LastUsedAt.Equal(w) {
				t.Errorf("key LastUsedAt = %v, want %v", after[0].LastUsedAt, w)
			}
			var types []string
			err = s.db.WithContext(ctx).Raw(`SELECT DISTINCT typeof(time) || typeof(route) || typeof(model) || typeof(key_id) ||
				typeof(status) || typeof(attempts) || typeof(class) || typeof(latency_ms) || typeof(stream) ||
				typeof(prompt_tokens) || typeof(output_tokens) || typeof(thought_tokens) FROM request_log`).Scan(&types).Error
			want := "integer" + strings.Repeat("text", 3) + strings.Repeat("integer", 2) + "text" + strings.Repeat("integer", 5)
			if err != nil || len(types) != 1 || types[0] != want {
				t.Errorf("request_log column types = %q, %v, want [%q]", types, err, want)
			}
			err = s.db.WithContext(ctx).Raw(`SELECT DISTINCT typeof(bucket) || typeof(key_id) || typeof(model) || typeof(class) ||
				typeof(requests) || typeof(prompt_tokens) FROM usage_minute`).Scan(&types).Error
			want = "integer" + strings.Repeat("text", 3) + strings.Repeat("integer", 2)
			if err != nil || len(types) != 1 || types[0] != want {
				t.Errorf("usage_minute column types = %q, %v, want [%q]", types, err, want)
			}
		})
	}
}

// BenchmarkRecordBatch stores batches of 1000 events with a realistic mix
// of keys, models and outcome classes, as the batching recorder does.
func BenchmarkRecordBatch(b *testing.B) {
	path := filepath.Join(b.TempDir(), "gbd.db")
	s, err := Open(path, nil)
	if err != nil {
		b.Fatalf("Open(%q) = %v", path, err)
	}
	defer s.Close()
	ctx := context.Background()
	const nKeys = 40
	keys := make([]NewKey, nKeys)
	for i := range keys {
		keys[i] = NewKey{
			ID:          fmt.Sprintf("k%016x", i),
			Fingerprint: fmt.Sprintf("%016x", i),
			Preview:     fmt.Sprintf("AIza…%04d", i),
			CreatedAt:   time.Unix(1_700_000_000+int64(i), 0),
		}
	}
	if _, err := s.AddKeys(ctx, keys); err != nil {
		b.Fatal(err)
	}
	models := []string{"gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "text-embedding-004"}
	classes := []string{"ok", "ok", "ok", "ok", "ok", "ok", "ok", "rate_limited", "quota_daily", "canceled", "transient", "client"}
	routes := []string{"gemini", "openai.chat", "gemini.stream"}
	const perBatch = 1000
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	batch := make([]UsageEvent, perBatch)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		for i := range batch {
			j := n*perBatch + i
			key := keys[j%nKeys].ID
			if j%50 == 0 {
				key = "" // no key used (e.g. client error before a key was picked)
			}
			batch[i] = UsageEvent{
				// ~2 s of traffic per batch at 500 req/s: the batch spans one or two minutes.
				Time:         start.Add(time.Duration(j) * 2 * time.Millisecond),
				Route:        routes[j%len(routes)],
				Model:        models[(j/7)%len(models)],
				KeyID:        key,
				Status:       200,
				Attempts:     1 + j%3/2,
				Class:        classes[(j*7)%len(classes)],
				Latency:      time.Duration(100+j%900) * time.Millisecond,
				Stream:       j%3 == 2,
				PromptTokens: int64(j % 4000), OutputTokens: int64(j % 1500), ThoughtTokens: int64(j % 300),
			}
		}
		b.StartTimer()
		if err := s.RecordBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*perBatch), "µs/event")
}

// TestRequestLogQueue (issue 9 row 12): RecordBatch only queues the
// request-log rows of a batch (one row per batch, cheap on the request
// path); FlushLog writes them out in order; every reader flushes first, so
// the log is complete whenever it is read; queued rows survive a restart.
func TestRequestLogQueue(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var all []UsageEvent
	for b := range 3 {
		var batch []UsageEvent
		for i := range 100 {
			batch = append(batch, UsageEvent{Time: now.Add(time.Duration(b*100+i) * time.Millisecond), Route: "gemini",
				Model: "m", Status: 200, Attempts: 1, Class: "ok", PromptTokens: int64(b*100 + i)})
		}
		batch = append(batch, UsageEvent{Time: now, Class: "unauthenticated", Count: 50, Status: 401}) // no log rows
		if err := s.RecordBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		all = append(all, batch[:100]...)
	}
	var direct int64
	s.db.Raw(`SELECT COUNT(*) FROM request_log`).Scan(&direct)
	if q, err := s.QueuedLogRows(ctx); err != nil || q != 300 || direct != 0 {
		t.Fatalf("after 3 batches: %d queued (%v), %d in request_log; want 300 queued, 0 written", q, err, direct)
	}
	// A restart keeps the queue.
	s.Close()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.FlushLog(ctx, 2); err != nil || n != 200 {
		t.Fatalf("FlushLog(2 batches) = %d, %v, want 200", n, err)
	}
	page, err := s.RequestLog(ctx, LogQuery{Limit: MaxPageSize})
	if err != nil || page.Total != 300 || len(page.Entries) != 300 {
		t.Fatalf("RequestLog() = %d of %d, %v; want all 300 (the reader flushes)", len(page.Entries), page.Total, err)
	}
	for i, e := range page.Entries {
		if w := all[len(all)-1-i]; e.PromptTokens != w.PromptTokens || !e.Time.Equal(w.Time) {
			t.Fatalf("RequestLog()[%d] = %+v, want %+v (newest first, in recording order)", i, e, w)
		}
	}
	if q, _ := s.QueuedLogRows(ctx); q != 0 {
		t.Fatalf("%d rows still queued after a read", q)
	}
	if err := s.RecordBatch(ctx, all[:10]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.WipeLog(ctx); err != nil || n != 310 {
		t.Fatalf("WipeLog() = %d, %v, want 310 (written and queued rows)", n, err)
	}
}

// BenchmarkFlushLog writes queued request-log rows out (what the recorder
// defers to idle time), in batches of 1000 rows.
func BenchmarkFlushLog(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "gbd.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const perBatch = 1000
	batch := make([]UsageEvent, perBatch)
	start := time.Now().Add(-time.Hour)
	b.ReportAllocs()
	for n := range b.N {
		b.StopTimer()
		for i := range batch {
			j := n*perBatch + i
			batch[i] = UsageEvent{Time: start.Add(time.Duration(j) * time.Millisecond), Route: "gemini", Model: "gemini-2.5-flash",
				KeyID: fmt.Sprintf("k%016x", j%40), Status: 200, Attempts: 1, Class: "ok", Latency: time.Duration(j%900) * time.Millisecond,
				PromptTokens: int64(j % 4000), OutputTokens: int64(j % 1500)}
		}
		if err := s.RecordBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.FlushLog(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*perBatch), "µs/row")
}
