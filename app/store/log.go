package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// LogEntry is one request-log row: metadata only, never a body or a key.
type LogEntry struct {
	ID            int64
	Time          time.Time
	Route         string
	Model         string
	KeyID         string
	Status        int
	Attempts      int
	Class         string
	Latency       time.Duration
	Stream        bool
	PromptTokens  int64
	OutputTokens  int64
	ThoughtTokens int64
}

type logRow struct {
	ID            int64
	Time          int64
	Route         string
	Model         string
	KeyID         string
	Status        int
	Attempts      int
	Class         string
	LatencyMs     int64
	Stream        bool
	PromptTokens  int64
	OutputTokens  int64
	ThoughtTokens int64
}

func insertLog(tx *gorm.DB, events []UsageEvent) error {
	for _, c := range chunks(events, insertRows/2) {
		var b strings.Builder
		args := make([]any, 0, len(c)*12)
		b.WriteString(`INSERT INTO request_log (time, route, model, key_id, status, attempts, class, latency_ms, stream,
			prompt_tokens, output_tokens, thought_tokens) VALUES `)
		for i, e := range c {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, e.Time.UnixMilli(), e.Route, e.Model, e.KeyID, e.Status, e.Attempts, e.Class,
				e.Latency.Milliseconds(), e.Stream, e.PromptTokens, e.OutputTokens, e.ThoughtTokens)
		}
		if err := tx.Exec(b.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// LogQuery selects a page of the request log, newest first.
type LogQuery struct {
	KeyID  string // empty: all
	Model  string // empty: all
	Class  string // empty: all
	Offset int
	Limit  int // 0 → DefaultPageSize, at most MaxPageSize
}

// LogPage is one page of the request log.
type LogPage struct {
	Entries []LogEntry
	Total   int // entries matching the query, all pages
}

// RequestLog returns a page of the request log, newest first.
func (s *Store) RequestLog(ctx context.Context, q LogQuery) (LogPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	where := []string{"1=1"}
	var args []any
	for col, v := range map[string]string{"key_id": q.KeyID, "model": q.Model, "class": q.Class} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	cond := strings.Join(where, " AND ")
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Raw(`SELECT COUNT(*) FROM request_log WHERE `+cond, args...).Scan(&total).Error; err != nil {
		return LogPage{}, fmt.Errorf("store: request log: %w", err)
	}
	var rows []logRow
	err := db.Raw(`SELECT id, time, route, model, key_id, status, attempts, class, latency_ms, stream,
		prompt_tokens, output_tokens, thought_tokens FROM request_log WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, limit, max(q.Offset, 0))...).Scan(&rows).Error
	if err != nil {
		return LogPage{}, fmt.Errorf("store: request log: %w", err)
	}
	page := LogPage{Total: int(total), Entries: make([]LogEntry, len(rows))}
	for i, r := range rows {
		page.Entries[i] = LogEntry{
			ID: r.ID, Time: fromMS(r.Time), Route: r.Route, Model: r.Model, KeyID: r.KeyID,
			Status: r.Status, Attempts: r.Attempts, Class: r.Class, Latency: time.Duration(r.LatencyMs) * time.Millisecond,
			Stream: r.Stream, PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens, ThoughtTokens: r.ThoughtTokens,
		}
	}
	return page, nil
}

// WipeLog deletes the whole request log and returns how many rows it held.
// Usage statistics are kept.
func (s *Store) WipeLog(ctx context.Context) (int, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM request_log`)
	if res.Error != nil {
		return 0, fmt.Errorf("store: wipe log: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// Retention says how long statistics and log rows are kept.
type Retention struct {
	Minutes time.Duration // per-minute usage buckets
	Hours   time.Duration // per-hour usage buckets
	LogAge  time.Duration // request-log rows older than this go
	LogRows int           // at most this many request-log rows (newest kept); 0: no cap
}

// DefaultRetention is 24 h of minute buckets, 30 days of hour buckets, and
// a request log of 7 days or 100,000 rows, whichever is smaller.
func DefaultRetention() Retention {
	return Retention{Minutes: 24 * time.Hour, Hours: 30 * 24 * time.Hour, LogAge: 7 * 24 * time.Hour, LogRows: 100_000}
}

// Compacted says what Compact removed.
type Compacted struct {
	MinuteBuckets, HourBuckets, LogRows int
}

// Compact applies the retention r as of now in one transaction, then
// checkpoints the WAL. Zero durations in r keep everything of that kind.
func (s *Store) Compact(ctx context.Context, now time.Time, r Retention) (Compacted, error) {
	var c Compacted
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c = Compacted{}
		if r.Minutes > 0 {
			res := tx.Exec(`DELETE FROM usage_minute WHERE bucket < ?`, now.Add(-r.Minutes).Unix())
			if res.Error != nil {
				return res.Error
			}
			c.MinuteBuckets = int(res.RowsAffected)
		}
		if r.Hours > 0 {
			res := tx.Exec(`DELETE FROM usage_hour WHERE bucket < ?`, now.Add(-r.Hours).Unix())
			if res.Error != nil {
				return res.Error
			}
			c.HourBuckets = int(res.RowsAffected)
		}
		if r.LogAge > 0 {
			res := tx.Exec(`DELETE FROM request_log WHERE time < ?`, now.Add(-r.LogAge).UnixMilli())
			if res.Error != nil {
				return res.Error
			}
			c.LogRows += int(res.RowsAffected)
		}
		if r.LogRows > 0 {
			res := tx.Exec(`DELETE FROM request_log WHERE id <= (SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?)`, r.LogRows)
			if res.Error != nil {
				return res.Error
			}
			c.LogRows += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return Compacted{}, fmt.Errorf("store: compact: %w", err)
	}
	if err := s.db.WithContext(ctx).Exec(`PRAGMA wal_checkpoint(TRUNCATE)`).Error; err != nil {
		s.log.Warn("WAL checkpoint failed", "err", err)
	}
	if c != (Compacted{}) {
		s.log.Info("statistics compacted", "minute_buckets", c.MinuteBuckets, "hour_buckets", c.HourBuckets, "log_rows", c.LogRows)
	}
	return c, nil
}
