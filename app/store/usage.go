package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// UsageEvent is one finished request (or upstream attempt — the caller
// chooses) as the statistics see it. It never holds a body or a key.
type UsageEvent struct {
	Time     time.Time
	Route    string // e.g. "native", "openai.chat"; without a model also the method ("native list")
	Model    string
	KeyID    string // empty when no key was used
	Status   int    // HTTP status sent to the client
	Attempts int
	Class    string // outcome class, named by the caller ("ok", "rate_limited", …)
	// Failed says the request failed: it counts toward its key's failures.
	Failed bool
	// Count, when above 0, makes the event an aggregate: it stands for
	// that many requests, counted in the usage buckets only, without
	// request-log rows (e.g. a minute of unauthenticated requests). 0 is
	// one request with its log row.
	Count         int64
	Latency       time.Duration
	Stream        bool
	PromptTokens  int64
	OutputTokens  int64
	ThoughtTokens int64
}

type bucketKey struct {
	bucket            int64
	key, model, class string
}

type bucketAgg struct{ n, prompt, output, thought int64 }

type keyAgg struct {
	n, fails, tokens int64
	lastUsed         int64
}

// RecordBatch stores a batch of events in ONE transaction: the per-minute
// and per-hour usage buckets (the hourly rollup is maintained as events
// arrive), the per-key counters and last-used times, and one request-log
// row per event (an aggregate event, Count > 0, gets none), queued for
// FlushLog. Meant to be called by a batching recorder, never on the
// request path.
func (s *Store) RecordBatch(ctx context.Context, events []UsageEvent) error {
	if len(events) == 0 {
		return nil
	}
	minute := map[bucketKey]*bucketAgg{}
	hour := map[bucketKey]*bucketAgg{}
	keys := map[string]*keyAgg{}
	add := func(m map[bucketKey]*bucketAgg, k bucketKey, e *UsageEvent) {
		a := m[k]
		if a == nil {
			a = &bucketAgg{}
			m[k] = a
		}
		a.n += max(e.Count, 1)
		a.prompt += e.PromptTokens
		a.output += e.OutputTokens
		a.thought += e.ThoughtTokens
	}
	for i := range events {
		e := &events[i]
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		sec := e.Time.Unix()
		add(minute, bucketKey{sec - mod(sec, 60), e.KeyID, e.Model, e.Class}, e)
		add(hour, bucketKey{sec - mod(sec, 3600), e.KeyID, e.Model, e.Class}, e)
		if e.KeyID != "" {
			k := keys[e.KeyID]
			if k == nil {
				k = &keyAgg{}
				keys[e.KeyID] = k
			}
			k.n += max(e.Count, 1)
			if e.Failed {
				k.fails += max(e.Count, 1)
			}
			k.tokens += e.PromptTokens + e.OutputTokens + e.ThoughtTokens
			k.lastUsed = max(k.lastUsed, e.Time.UnixMilli())
		}
	}
	err := s.statsTx(ctx, func(tx *gorm.DB) error {
		if err := upsertBuckets(tx, "usage_minute", minute); err != nil {
			return err
		}
		if err := upsertBuckets(tx, "usage_hour", hour); err != nil {
			return err
		}
		if err := updateKeys(tx, keys); err != nil {
			return err
		}
		return queueLog(tx, events)
	})
	if err != nil {
		return fmt.Errorf("store: record %d events: %w", len(events), err)
	}
	return nil
}

// mod is the non-negative remainder (times before 1970 stay in bucket).
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// upsertBuckets adds the aggregates m to table's buckets with one
// statement.
func upsertBuckets(tx *gorm.DB, table string, m map[bucketKey]*bucketAgg) error {
	j := buildRows(len(m), func(j *jsonRows) {
		for k, a := range m {
			j.row()
			j.int(k.bucket)
			j.str(k.key)
			j.str(k.model)
			j.str(k.class)
			j.int(a.n)
			j.int(a.prompt)
			j.int(a.output)
			j.int(a.thought)
		}
	})
	// WHERE true: an INSERT … SELECT needs a WHERE before ON CONFLICT.
	return tx.Exec(rowsCTE+`INSERT INTO `+table+` (bucket, key_id, model, class, requests, prompt_tokens, output_tokens, thought_tokens)
		SELECT `+j.col(0, false)+`, `+j.col(1, true)+`, `+j.col(2, true)+`, `+j.col(3, true)+`,
			`+j.col(4, false)+`, `+j.col(5, false)+`, `+j.col(6, false)+`, `+j.col(7, false)+`
		FROM r WHERE true
		ON CONFLICT (bucket, key_id, model, class) DO UPDATE SET
			requests = requests + excluded.requests,
			prompt_tokens = prompt_tokens + excluded.prompt_tokens,
			output_tokens = output_tokens + excluded.output_tokens,
			thought_tokens = thought_tokens + excluded.thought_tokens`, j.text()).Error
}

// updateKeys adds the per-key aggregates to the keys' counters and
// last-used times with one statement; unknown ids are skipped.
func updateKeys(tx *gorm.DB, keys map[string]*keyAgg) error {
	if len(keys) == 0 {
		return nil
	}
	j := buildRows(len(keys), func(j *jsonRows) {
		for id, k := range keys {
			j.row()
			j.str(id)
			j.int(k.n)
			j.int(k.fails)
			j.int(k.tokens)
			j.int(k.lastUsed)
		}
	})
	return tx.Exec(rowsCTE+`UPDATE keys SET requests = requests + d.n, failures = failures + d.f, tokens = tokens + d.t,
			last_used_at = MAX(last_used_at, d.lu)
		FROM (SELECT `+j.col(0, true)+` AS id, `+j.col(1, false)+` AS n, `+j.col(2, false)+` AS f,
			`+j.col(3, false)+` AS t, `+j.col(4, false)+` AS lu FROM r) AS d
		WHERE keys.id = d.id`, j.text()).Error
}

// Counts are usage sums over some set of buckets. What a class means
// (success, failure, rate limit) is the caller's business.
type Counts struct {
	Requests int64
	// ByClass counts requests per outcome class.
	ByClass       map[string]int64
	PromptTokens  int64
	OutputTokens  int64
	ThoughtTokens int64
}

func (c *Counts) add(class string, n, p, o, t int64) {
	c.Requests += n
	if c.ByClass == nil {
		c.ByClass = map[string]int64{}
	}
	c.ByClass[class] += n
	c.PromptTokens += p
	c.OutputTokens += o
	c.ThoughtTokens += t
}

// Grouping selects the dimensions of Totals.
type Grouping int

// Groupings for Totals.
const (
	ByKeyModel Grouping = iota // one row per (key, model)
	ByKey                      // one row per key (Model empty)
	ByModel                    // one row per model (KeyID empty)
)

// Total is the usage of one group since some time.
type Total struct {
	KeyID string
	Model string
	Counts
}

type usageRow struct {
	Bucket        int64
	KeyID         string
	Model         string
	Class         string
	Requests      int64
	PromptTokens  int64
	OutputTokens  int64
	ThoughtTokens int64
}

// table picks the usage table for a time range starting at since: the
// minute table while it still covers since, the hourly one beyond.
func table(since, now time.Time) (string, int64) {
	if !since.IsZero() && now.Sub(since) <= DefaultRetention().Minutes {
		return "usage_minute", since.Unix() - mod(since.Unix(), 60)
	}
	if since.IsZero() {
		return "usage_hour", 0
	}
	return "usage_hour", since.Unix() - mod(since.Unix(), 3600)
}

// Totals sums usage since the given time (zero: everything kept), grouped
// by key and/or model, largest request count first. Ranges within the
// last 24 hours are read from the minute buckets (precise to the
// minute), longer ones from the hourly buckets (precise to the hour).
func (s *Store) Totals(ctx context.Context, since time.Time, by Grouping) ([]Total, error) {
	tbl, from := table(since, time.Now())
	var rows []usageRow
	err := s.db.WithContext(ctx).Raw(`SELECT key_id, model, class, SUM(requests) AS requests,
		SUM(prompt_tokens) AS prompt_tokens, SUM(output_tokens) AS output_tokens, SUM(thought_tokens) AS thought_tokens
		FROM `+tbl+` WHERE bucket >= ? GROUP BY key_id, model, class`, from).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: totals: %w", err)
	}
	type gk struct{ key, model string }
	groups := map[gk]*Total{}
	for _, r := range rows {
		k := gk{r.KeyID, r.Model}
		switch by {
		case ByKey:
			k.model = ""
		case ByModel:
			k.key = ""
		}
		t := groups[k]
		if t == nil {
			t = &Total{KeyID: k.key, Model: k.model}
			groups[k] = t
		}
		t.add(r.Class, r.Requests, r.PromptTokens, r.OutputTokens, r.ThoughtTokens)
	}
	out := make([]Total, 0, len(groups))
	for _, t := range groups {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		if out[i].KeyID != out[j].KeyID {
			return out[i].KeyID < out[j].KeyID
		}
		return out[i].Model < out[j].Model
	})
	return out, nil
}

// Resolution is the bucket size of a series.
type Resolution int

// Resolutions for Series.
const (
	Minute Resolution = iota // kept 24 hours
	Hour                     // kept 30 days
)

// SeriesQuery selects a time series.
type SeriesQuery struct {
	Resolution Resolution
	Since      time.Time // inclusive, rounded down to the bucket
	Until      time.Time // exclusive; zero → now
	KeyID      string    // empty: every key
	Model      string    // empty: every model
}

// Point is one bucket of a series.
type Point struct {
	Time time.Time // start of the bucket (UTC)
	Counts
}

// maxPoints bounds a dense series.
const maxPoints = 2000

// Series returns one point per bucket from Since to Until, buckets without
// traffic included (zero counts), oldest first — ready for a chart.
func (s *Store) Series(ctx context.Context, q SeriesQuery) ([]Point, error) {
	step, tbl := int64(60), "usage_minute"
	if q.Resolution == Hour {
		step, tbl = 3600, "usage_hour"
	}
	until := q.Until
	if until.IsZero() {
		until = time.Now()
	}
	from := q.Since.Unix() - mod(q.Since.Unix(), step)
	// Until is exclusive; round it up to the second so that a bucket that
	// began in the current second (the one in progress) is not left out.
	to := until.Add(time.Second - 1).Unix()
	if to <= from {
		return []Point{}, nil
	}
	n := (to - from + step - 1) / step
	if n > maxPoints {
		return nil, fmt.Errorf("store: series of %d points is too long (max %d)", n, maxPoints)
	}
	where := []string{"bucket >= ?", "bucket < ?"}
	args := []any{from, to}
	if q.KeyID != "" {
		where = append(where, "key_id = ?")
		args = append(args, q.KeyID)
	}
	if q.Model != "" {
		where = append(where, "model = ?")
		args = append(args, q.Model)
	}
	var rows []usageRow
	err := s.db.WithContext(ctx).Raw(`SELECT bucket, class, SUM(requests) AS requests,
		SUM(prompt_tokens) AS prompt_tokens, SUM(output_tokens) AS output_tokens, SUM(thought_tokens) AS thought_tokens
		FROM `+tbl+` WHERE `+strings.Join(where, " AND ")+` GROUP BY bucket, class`, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: series: %w", err)
	}
	points := make([]Point, n)
	for i := range points {
		points[i].Time = time.Unix(from+int64(i)*step, 0).UTC()
	}
	for _, r := range rows {
		i := (r.Bucket - from) / step
		if i >= 0 && i < n {
			points[i].add(r.Class, r.Requests, r.PromptTokens, r.OutputTokens, r.ThoughtTokens)
		}
	}
	return points, nil
}

// DayCount is the number of requests of one (key, model) in the current
// free-tier day.
type DayCount struct {
	KeyID    string
	Model    string
	Requests int64
	// ByClass counts them per outcome class.
	ByClass map[string]int64
}

// TodayCounts returns the request count per (key, model) from dayStart
// (the start of the free-tier quota day, keypool.QuotaDay) to now, to
// compare against the free tier's requests-per-day limits. Pacific
// midnight is always on a UTC hour, so the hourly buckets (which cover the
// 24–25 hours of a Pacific day, DST included) are exact.
func (s *Store) TodayCounts(ctx context.Context, dayStart, now time.Time) ([]DayCount, error) {
	start := dayStart.Unix()
	var rows []usageRow
	err := s.db.WithContext(ctx).Raw(`SELECT key_id, model, class, SUM(requests) AS requests FROM usage_hour
		WHERE bucket >= ? AND bucket <= ? AND key_id != '' GROUP BY key_id, model, class`, start, now.Unix()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: today's counts: %w", err)
	}
	type gk struct{ key, model string }
	m := map[gk]*DayCount{}
	var order []gk
	for _, r := range rows {
		k := gk{r.KeyID, r.Model}
		d := m[k]
		if d == nil {
			d = &DayCount{KeyID: r.KeyID, Model: r.Model}
			m[k] = d
			order = append(order, k)
		}
		d.Requests += r.Requests
		if d.ByClass == nil {
			d.ByClass = map[string]int64{}
		}
		d.ByClass[r.Class] += r.Requests
	}
	out := make([]DayCount, 0, len(order))
	for _, k := range order {
		out = append(out, *m[k])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].KeyID != out[j].KeyID {
			return out[i].KeyID < out[j].KeyID
		}
		return out[i].Model < out[j].Model
	})
	return out, nil
}
