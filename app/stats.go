package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// Statistics and the request log: the management API (GET /api/stats,
// /api/stats/series, /api/stats/today, GET and DELETE /api/log) parses the
// query, calls these and writes the answer as JSON.

// QueryError is a statistics or log query that cannot be answered as
// asked (an unknown grouping, a malformed time, a range too long). The
// management API answers it with 400 and the message.
type QueryError struct {
	// Param is the query parameter at fault ("" when it is the range).
	Param string
	msg   string
}

// Error returns the message, which names the parameter and says what to
// send instead.
func (e *QueryError) Error() string { return e.msg }

func queryError(param, format string, args ...any) error {
	return &QueryError{Param: param, msg: fmt.Sprintf(format, args...)}
}

// UsageCounts are usage sums as the UI and the management API show them.
type UsageCounts struct {
	Requests      int64            `json:"requests"`
	Successes     int64            `json:"successes"`
	Failures      int64            `json:"failures"`
	RateLimited   int64            `json:"rateLimited"`
	ByClass       map[string]int64 `json:"byClass"`
	PromptTokens  int64            `json:"promptTokens"`
	OutputTokens  int64            `json:"outputTokens"`
	ThoughtTokens int64            `json:"thoughtTokens"`
}

// countsOf derives successes, failures and rate limits from the stored
// per-class counts, by what each gemini.Class means. A name this version
// does not know counts as a failure.
func countsOf(c store.Counts) UsageCounts {
	by := c.ByClass
	if by == nil {
		by = map[string]int64{}
	}
	out := UsageCounts{Requests: c.Requests, ByClass: by, PromptTokens: c.PromptTokens, OutputTokens: c.OutputTokens, ThoughtTokens: c.ThoughtTokens}
	for name, n := range by {
		class, known := gemini.ParseClass(name)
		switch {
		case known && class == gemini.ClassOK:
			out.Successes += n
		case !known || class.Failure():
			out.Failures += n
		}
		if class.RateLimited() {
			out.RateLimited += n
		}
	}
	return out
}

// rateLimitedOf sums the Google 429s of per-class counts.
func rateLimitedOf(byClass map[string]int64) int64 {
	var n int64
	for name, v := range byClass {
		if c, ok := gemini.ParseClass(name); ok && c.RateLimited() {
			n += v
		}
	}
	return n
}

func (c *UsageCounts) add(o UsageCounts) {
	c.Requests += o.Requests
	c.Successes += o.Successes
	c.Failures += o.Failures
	c.RateLimited += o.RateLimited
	for k, v := range o.ByClass {
		c.ByClass[k] += v
	}
	c.PromptTokens += o.PromptTokens
	c.OutputTokens += o.OutputTokens
	c.ThoughtTokens += o.ThoughtTokens
}

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

// SeriesQuery asks for a usage time series. Empty fields take defaults.
type SeriesQuery struct {
	// Resolution is "minute" (default; up to 24h back) or "hour" (up to
	// 30 days back).
	Resolution string
	// Since is a duration back from now ("90m", "24h", "7d") or an RFC
	// 3339 time; empty: 1h for minutes, 24h for hours.
	Since string
	// Until is an RFC 3339 time; empty: now.
	Until string
	// KeyID limits the series to one key (a key id, never the key).
	KeyID string
	// Model limits the series to one model.
	Model string
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

// LogQuery asks for a page of the request log. Empty filters match all.
type LogQuery struct {
	// KeyID limits the page to one key (a key id, never the key).
	KeyID string
	Model string
	Class string
	// Offset is the number of newer entries to skip (below 0: 0).
	Offset int
	// Limit is the page size (0 or less: store.DefaultPageSize; at most
	// store.MaxPageSize).
	Limit int
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

// StatsTotals sums usage since `since` (a duration back from now such as
// "1h", "24h" or "7d", or an RFC 3339 time; empty: 24h), grouped by "key",
// "model" (default) or "key_model". A bad parameter is a *QueryError.
func (a *App) StatsTotals(ctx context.Context, by, since string) (StatsAnswer, error) {
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
		return StatsAnswer{}, queryError("by", "by=%q: use key, model or key_model", by)
	}
	totals, err := a.store.Totals(ctx, from, g)
	if err != nil {
		return StatsAnswer{}, err
	}
	keys := a.previews(ctx, keyIDsOf(totals, func(t store.Total) string { return t.KeyID }))
	out := StatsAnswer{Since: from.UTC(), By: by, Totals: make([]StatsTotal, len(totals)), Sum: UsageCounts{ByClass: map[string]int64{}}}
	for i, t := range totals {
		k := keys[t.KeyID]
		out.Totals[i] = StatsTotal{KeyID: t.KeyID, Preview: k.Preview, Label: k.Label, Model: t.Model, UsageCounts: countsOf(t.Counts)}
		out.Sum.add(out.Totals[i].UsageCounts)
	}
	return out, nil
}

// StatsSeries returns a usage time series for charts (see SeriesQuery). A
// bad parameter is a *QueryError.
func (a *App) StatsSeries(ctx context.Context, q SeriesQuery) (SeriesAnswer, error) {
	now := time.Now()
	sq := store.SeriesQuery{KeyID: q.KeyID, Model: q.Model}
	res := orDefault(q.Resolution, "minute")
	var def string
	var span time.Duration
	switch res {
	case "minute":
		sq.Resolution, def, span = store.Minute, "1h", 24*time.Hour
	case "hour":
		sq.Resolution, def, span = store.Hour, "24h", 30*24*time.Hour
	default:
		return SeriesAnswer{}, queryError("resolution", "resolution=%q: use minute or hour", res)
	}
	if err := checkKeyID(sq.KeyID); err != nil {
		return SeriesAnswer{}, err
	}
	var err error
	if sq.Since, err = parseSince(orDefault(q.Since, def), now); err != nil {
		return SeriesAnswer{}, err
	}
	sq.Until = now
	if q.Until != "" {
		if sq.Until, err = time.Parse(time.RFC3339, q.Until); err != nil {
			return SeriesAnswer{}, queryError("until", "until=%q: use a time such as 2025-01-02T15:04:05Z", q.Until)
		}
	}
	if !sq.Until.After(sq.Since) {
		return SeriesAnswer{}, queryError("until", "until must be after since")
	}
	if sq.Until.Sub(sq.Since) > span+time.Hour {
		return SeriesAnswer{}, queryError("since", "a %s series covers at most %s (the %s buckets kept); ask for a shorter range or resolution=hour", res, span, res)
	}
	points, err := a.store.Series(ctx, sq)
	if err != nil {
		return SeriesAnswer{}, err
	}
	out := SeriesAnswer{Resolution: res, Since: sq.Since.UTC(), Until: sq.Until.UTC(), Points: make([]SeriesPoint, len(points))}
	for i, p := range points {
		out.Points[i] = SeriesPoint{Time: p.Time, UsageCounts: countsOf(p.Counts)}
	}
	return out, nil
}

// StatsToday returns today's request count per (key, model) in the
// free-tier day (midnight to midnight, US Pacific).
func (a *App) StatsToday(ctx context.Context) (TodayAnswer, error) {
	now := time.Now()
	start, end := keypool.QuotaDay(now)
	counts, err := a.store.TodayCounts(ctx, start, now)
	if err != nil {
		return TodayAnswer{}, err
	}
	keys := a.previews(ctx, keyIDsOf(counts, func(c store.DayCount) string { return c.KeyID }))
	out := TodayAnswer{DayStart: start, ResetsAt: end, Counts: make([]TodayCount, len(counts))}
	for i, c := range counts {
		k := keys[c.KeyID]
		out.Counts[i] = TodayCount{c.KeyID, k.Preview, k.Label, c.Model, c.Requests, rateLimitedOf(c.ByClass)}
	}
	return out, nil
}

// RequestLog returns a page of the request log, newest first (see
// LogQuery). A key filter that is not a key id is a *QueryError.
func (a *App) RequestLog(ctx context.Context, q LogQuery) (LogAnswer, error) {
	if err := checkKeyID(q.KeyID); err != nil {
		return LogAnswer{}, err
	}
	if q.Limit <= 0 {
		q.Limit = store.DefaultPageSize
	}
	q.Limit = min(q.Limit, store.MaxPageSize)
	q.Offset = max(q.Offset, 0)
	page, err := a.store.RequestLog(ctx, store.LogQuery{KeyID: q.KeyID, Model: q.Model, Class: q.Class, Offset: q.Offset, Limit: q.Limit})
	if err != nil {
		return LogAnswer{}, err
	}
	keys := a.previews(ctx, keyIDsOf(page.Entries, func(e store.LogEntry) string { return e.KeyID }))
	out := LogAnswer{Entries: make([]LogEntry, len(page.Entries)), Total: page.Total, Offset: q.Offset, Limit: q.Limit}
	for i, e := range page.Entries {
		out.Entries[i] = LogEntry{e.ID, e.Time, e.Route, e.Model, e.KeyID, keys[e.KeyID].Preview, e.Status, e.Attempts, e.Class,
			e.Latency.Milliseconds(), e.Stream, e.PromptTokens, e.OutputTokens, e.ThoughtTokens}
	}
	return out, nil
}

// WipeLog deletes the request log (statistics are kept) and returns how
// many entries it held.
func (a *App) WipeLog(ctx context.Context) (int, error) {
	return a.store.WipeLog(ctx)
}

// keyIDsOf returns the key id of each item.
func keyIDsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

// checkKeyID refuses a key filter that is not a key id (empty is fine).
// The message masks it: a caller may have sent the key itself.
func checkKeyID(id string) error {
	if id != "" && !keyIDPattern.MatchString(id) {
		return queryError("key", "key=%q: use a key id (k + 16 hex digits), never the key itself", apikey.Mask(id))
	}
	return nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// parseSince reads a "since" value: a duration back from now ("90m", "24h",
// "7d") or a time (RFC 3339). A bad value is a *QueryError.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return time.Time{}, queryError("since", "since=%q: use a duration such as 90m, 24h or 7d, or a time such as 2025-01-02T15:04:05Z", s)
	}
	if d <= 0 {
		return time.Time{}, queryError("since", "since=%q: the duration must be positive", s)
	}
	return now.Add(-d), nil
}
