package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gemini-balance/desktop/app/store"
)

// More window bindings: statistics, the request log, export and a retry
// of a failed start. Their answers have the same JSON shapes as the
// management API routes of the same name (GET /api/stats, /api/stats/series,
// /api/stats/today, /api/log), so that the UI reads both alike.

// UsageCounts are usage sums as the UI shows them (the shape of the
// management API's statistics).
type UsageCounts apiCounts

// StatsTotal is the usage of one key, one model or one (key, model).
type StatsTotal struct {
	KeyID   string `json:"keyId,omitempty"`
	Preview string `json:"preview,omitempty"`
	Label   string `json:"label,omitempty"`
	Model   string `json:"model,omitempty"`
	UsageCounts
}

// StatsAnswer is the usage since some time, grouped.
type StatsAnswer struct {
	Since  time.Time    `json:"since"`
	By     string       `json:"by"`
	Totals []StatsTotal `json:"totals"`
	Sum    UsageCounts  `json:"sum"`
}

// SeriesPoint is one bucket of a usage time series.
type SeriesPoint struct {
	Time time.Time `json:"time"`
	UsageCounts
}

// SeriesAnswer is a usage time series for a chart.
type SeriesAnswer struct {
	Resolution string        `json:"resolution"`
	Since      time.Time     `json:"since"`
	Until      time.Time     `json:"until"`
	Points     []SeriesPoint `json:"points"`
}

// TodayCount is today's request count of one (key, model) in the free-tier
// day.
type TodayCount struct {
	KeyID       string `json:"keyId"`
	Preview     string `json:"preview"`
	Label       string `json:"label,omitempty"`
	Model       string `json:"model"`
	Requests    int64  `json:"requests"`
	RateLimited int64  `json:"rateLimited"`
}

// TodayAnswer is today's counts and when the free-tier day ends.
type TodayAnswer struct {
	DayStart time.Time    `json:"dayStart"`
	ResetsAt time.Time    `json:"resetsAt"`
	Counts   []TodayCount `json:"counts"`
}

// LogEntry is one request of the request log, without bodies and with the
// key masked.
type LogEntry struct {
	ID            int64     `json:"id"`
	Time          time.Time `json:"time"`
	Route         string    `json:"route"`
	Model         string    `json:"model"`
	KeyID         string    `json:"keyId,omitempty"`
	Preview       string    `json:"preview,omitempty"`
	Status        int       `json:"status"`
	Attempts      int       `json:"attempts"`
	Class         string    `json:"class"`
	LatencyMS     int64     `json:"latencyMs"`
	Stream        bool      `json:"stream"`
	PromptTokens  int64     `json:"promptTokens"`
	OutputTokens  int64     `json:"outputTokens"`
	ThoughtTokens int64     `json:"thoughtTokens"`
}

// LogAnswer is one page of the request log, newest first.
type LogAnswer struct {
	Entries []LogEntry `json:"entries"`
	Total   int        `json:"total"`
	Offset  int        `json:"offset"`
	Limit   int        `json:"limit"`
}

// Stats sums usage since `since` (a duration back from now such as "1h",
// "24h" or "7d", or an RFC 3339 time; empty: 24h), grouped by "key",
// "model" (default) or "key_model".
func (b *Bindings) Stats(by, since string) (StatsAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	from, err := parseSince(orDefault(since, "24h"), time.Now())
	if err != nil {
		return StatsAnswer{}, err
	}
	by = orDefault(by, "model")
	var g store.Grouping
	switch by {
	case "key":
		g = store.ByKey
	case "model":
		g = store.ByModel
	case "key_model":
		g = store.ByKeyModel
	default:
		return StatsAnswer{}, fmt.Errorf("by=%q: use key, model or key_model", by)
	}
	totals, err := b.a.store.Totals(ctx, from, g)
	if err != nil {
		return StatsAnswer{}, err
	}
	ids := make([]string, len(totals))
	for i, t := range totals {
		ids[i] = t.KeyID
	}
	keys := b.a.previews(ctx, ids)
	out := StatsAnswer{Since: from.UTC(), By: by, Totals: make([]StatsTotal, len(totals)), Sum: UsageCounts{ByClass: map[string]int64{}}}
	sum := apiCounts(out.Sum)
	for i, t := range totals {
		k := keys[t.KeyID]
		c := countsOf(t.Counts)
		out.Totals[i] = StatsTotal{KeyID: t.KeyID, Preview: k.Preview, Label: k.Label, Model: t.Model, UsageCounts: UsageCounts(c)}
		sum.add(c)
	}
	out.Sum = UsageCounts(sum)
	return out, nil
}

// StatsSeries returns a usage series of every key and model: resolution
// "minute" (default; since up to 24h back, default 1h) or "hour" (up to
// 30 days, default 24h).
func (b *Bindings) StatsSeries(resolution, since string) (SeriesAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	now := time.Now()
	var q store.SeriesQuery
	var def string
	var span time.Duration
	resolution = orDefault(resolution, "minute")
	switch resolution {
	case "minute":
		q.Resolution, def, span = store.Minute, "1h", 24*time.Hour
	case "hour":
		q.Resolution, def, span = store.Hour, "24h", 30*24*time.Hour
	default:
		return SeriesAnswer{}, fmt.Errorf("resolution=%q: use minute or hour", resolution)
	}
	var err error
	if q.Since, err = parseSince(orDefault(since, def), now); err != nil {
		return SeriesAnswer{}, err
	}
	q.Until = now
	if now.Sub(q.Since) > span+time.Hour {
		return SeriesAnswer{}, fmt.Errorf("a %s series covers at most %s; ask for a shorter range or resolution=hour", resolution, span)
	}
	points, err := b.a.store.Series(ctx, q)
	if err != nil {
		return SeriesAnswer{}, err
	}
	out := SeriesAnswer{Resolution: resolution, Since: q.Since.UTC(), Until: q.Until.UTC(), Points: make([]SeriesPoint, len(points))}
	for i, p := range points {
		out.Points[i] = SeriesPoint{Time: p.Time, UsageCounts: UsageCounts(countsOf(p.Counts))}
	}
	return out, nil
}

// StatsToday returns today's request count per (key, model) in the
// free-tier day (midnight to midnight, US Pacific).
func (b *Bindings) StatsToday() (TodayAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	now := time.Now()
	counts, err := b.a.store.TodayCounts(ctx, now)
	if err != nil {
		return TodayAnswer{}, err
	}
	ids := make([]string, len(counts))
	for i, c := range counts {
		ids[i] = c.KeyID
	}
	keys := b.a.previews(ctx, ids)
	start := store.FreeTierDayStart(now)
	out := TodayAnswer{DayStart: start, ResetsAt: start.AddDate(0, 0, 1), Counts: make([]TodayCount, len(counts))}
	for i, c := range counts {
		k := keys[c.KeyID]
		out.Counts[i] = TodayCount{c.KeyID, k.Preview, k.Label, c.Model, c.Requests, c.RateLimited}
	}
	return out, nil
}

// RequestLog returns a page of the request log, newest first (limit ≤ 0:
// the default page size).
func (b *Bindings) RequestLog(offset, limit int) (LogAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	limit = min(limit, store.MaxPageSize)
	offset = max(offset, 0)
	page, err := b.a.store.RequestLog(ctx, store.LogQuery{Offset: offset, Limit: limit})
	if err != nil {
		return LogAnswer{}, err
	}
	ids := make([]string, len(page.Entries))
	for i, e := range page.Entries {
		ids[i] = e.KeyID
	}
	keys := b.a.previews(ctx, ids)
	out := LogAnswer{Entries: make([]LogEntry, len(page.Entries)), Total: page.Total, Offset: offset, Limit: limit}
	for i, e := range page.Entries {
		out.Entries[i] = LogEntry{e.ID, e.Time, e.Route, e.Model, e.KeyID, keys[e.KeyID].Preview, e.Status, e.Attempts, e.Class,
			e.Latency.Milliseconds(), e.Stream, e.PromptTokens, e.OutputTokens, e.ThoughtTokens}
	}
	return out, nil
}

// WipeLog deletes the request log (statistics are kept) and returns how
// many entries it held.
func (b *Bindings) WipeLog() (int, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.store.WipeLog(ctx)
}

// ExportKeysToFile writes every usable key, one per line, to a new file
// (permissions 0600) in the user's Downloads folder (or home folder) and
// returns its path. The file holds the keys in plain text: the UI warns
// before calling this.
func (b *Bindings) ExportKeysToFile() (string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	text, err := b.a.vault.Export(ctx)
	if err != nil {
		return "", err
	}
	dir, err := exportDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "gemini-api-keys-"+time.Now().Format("20060102-150405")+".txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create the export file: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write the export file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write the export file: %w", err)
	}
	b.a.log.Info("exported keys written", "file", path)
	return path, nil
}

// exportDir is ~/Downloads when it exists, else the home folder.
func exportDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder: %w", err)
	}
	if st, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && st.IsDir() {
		return filepath.Join(home, "Downloads"), nil
	}
	return home, nil
}

// RetryStart starts serving when an earlier Start failed (a taken port):
// the window calls it after the user picked another port. It does nothing
// when the proxy already serves.
func (b *Bindings) RetryStart() error { return b.a.retryStart() }

// retryStart listens on the configured address if the proxy is not
// serving because Start failed; the background work of Start already
// runs.
func (a *App) retryStart() error {
	a.mu.Lock()
	started := a.stopBG != nil
	running := a.running
	a.mu.Unlock()
	if running {
		return nil
	}
	if !started {
		return errors.New("the app is not started")
	}
	err := a.server.Start()
	a.mu.Lock()
	a.running = err == nil
	a.startErr = ""
	if err != nil {
		a.startErr = err.Error()
	}
	a.mu.Unlock()
	a.notify()
	return err
}
