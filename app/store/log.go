package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// The request log is written in two steps, so that recording costs the
// request path almost nothing: RecordBatch queues a batch's rows as ONE
// row of request_log_pending (its JSON, as built for the other
// statements), and FlushLog moves queued batches into request_log, one
// row per request, in order. Readers (RequestLog, WipeLog, Compact) flush
// first, so the log they see is always complete; the app's recorder
// flushes when the proxy is idle and at least every minute.

// queueLog queues one request-log row per event (aggregate events
// excepted), in event order, with one statement.
func queueLog(tx *gorm.DB, events []UsageEvent) error {
	n := 0
	for i := range events {
		if events[i].Count == 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	j := buildRows(n, func(j *jsonRows) {
		for i := range events {
			e := &events[i]
			if e.Count > 0 {
				continue
			}
			stream := int64(0)
			if e.Stream {
				stream = 1
			}
			j.row()
			j.int(e.Time.UnixMilli())
			j.str(e.Route)
			j.str(e.Model)
			j.str(e.KeyID)
			j.int(int64(e.Status))
			j.int(int64(e.Attempts))
			j.str(e.Class)
			j.int(e.Latency.Milliseconds())
			j.int(stream)
			j.int(e.PromptTokens)
			j.int(e.OutputTokens)
			j.int(e.ThoughtTokens)
		}
	})
	return tx.Exec(`INSERT INTO request_log_pending (rows, hex, n) VALUES (?, ?, ?)`, j.text(), j.hex, n).Error
}

// flushBatches bounds the queued batches moved per transaction (the write
// lock is not held for long).
const flushBatches = 8

// FlushLog moves queued batches into the request log, oldest first, and
// returns how many rows it wrote: every batch when maxBatches ≤ 0, else at
// most maxBatches of them.
func (s *Store) FlushLog(ctx context.Context, maxBatches int) (int, error) {
	total := 0
	for done := 0; maxBatches <= 0 || done < maxBatches; done += flushBatches {
		limit := flushBatches
		if maxBatches > 0 {
			limit = min(limit, maxBatches-done)
		}
		n, err := s.flushSome(ctx, limit)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: flush request log: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return total, nil
}

// QueuedLogRows returns how many request-log rows wait for FlushLog.
func (s *Store) QueuedLogRows(ctx context.Context) (int, error) {
	var n int
	if err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(SUM(n), 0) FROM request_log_pending`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("store: queued log rows: %w", err)
	}
	return n, nil
}

// flushSome moves up to limit queued batches in one transaction.
func (s *Store) flushSome(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.statsTx(ctx, func(tx *gorm.DB) error {
		var last struct {
			ID int64
			N  int
		}
		if err := tx.Raw(`SELECT MAX(id) AS id, SUM(n) AS n FROM (SELECT id, n FROM request_log_pending ORDER BY id LIMIT ?)`, limit).Scan(&last).Error; err != nil {
			return err
		}
		if last.ID == 0 {
			n = 0
			return nil
		}
		// A batch's strings are hex-encoded when one of them could not be
		// carried as a JSON string (see jsonRows).
		col := func(i int, str bool) string {
			c := "r.value->>" + strconv.Itoa(i)
			if str {
				return "CASE WHEN p.hex THEN CAST(unhex(" + c + ") AS TEXT) ELSE " + c + " END"
			}
			return c
		}
		if err := tx.Exec(`INSERT INTO request_log (time, route, model, key_id, status, attempts, class, latency_ms, stream,
				prompt_tokens, output_tokens, thought_tokens)
			SELECT `+col(0, false)+`, `+col(1, true)+`, `+col(2, true)+`, `+col(3, true)+`, `+col(4, false)+`,
				`+col(5, false)+`, `+col(6, true)+`, `+col(7, false)+`, `+col(8, false)+`, `+col(9, false)+`,
				`+col(10, false)+`, `+col(11, false)+`
			FROM request_log_pending p, json_each(p.rows) r WHERE p.id <= ? ORDER BY p.id, r.key`, last.ID).Error; err != nil {
			return err
		}
		n = last.N
		return tx.Exec(`DELETE FROM request_log_pending WHERE id <= ?`, last.ID).Error
	})
	return n, err
}

// jsonRows builds a batch of rows as ONE JSON array of arrays, bound as a
// single parameter and unpacked in SQL with json_each. The driver
// (glebarez/go-sqlite) compiles a statement anew on every Exec — prepared
// or not — and binds parameters in time quadratic in their number, so one
// short statement with one parameter per batch costs far less than
// multi-row VALUES lists with a dozen parameters per row.
//
// Strings go in as JSON strings unless one of them cannot make the trip
// byte for byte (invalid UTF-8 or a NUL byte); then every string of the
// batch goes in hex-encoded and the statement decodes it (see col).
type jsonRows struct {
	buf  []byte
	hex  bool // strings are hex-encoded
	bad  bool // a string cannot be carried as a JSON string
	rows int
	cols int
}

func newJSONRows(n int, hex bool) *jsonRows {
	return &jsonRows{buf: append(make([]byte, 0, 16+n*128), '['), hex: hex}
}

// row starts the next row.
func (j *jsonRows) row() {
	if j.rows > 0 {
		j.buf = append(j.buf, "],["...)
	} else {
		j.buf = append(j.buf, '[')
	}
	j.rows++
	j.cols = 0
}

func (j *jsonRows) sep() {
	if j.cols > 0 {
		j.buf = append(j.buf, ',')
	}
	j.cols++
}

// int appends an integer column.
func (j *jsonRows) int(v int64) {
	j.sep()
	j.buf = strconv.AppendInt(j.buf, v, 10)
}

// str appends a text column.
func (j *jsonRows) str(s string) {
	j.sep()
	j.buf = append(j.buf, '"')
	if j.hex {
		j.buf = hex.AppendEncode(j.buf, []byte(s))
		j.buf = append(j.buf, '"')
		return
	}
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		j.bad = true
	}
	const digits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			j.buf = append(j.buf, '\\', c)
		case c < 0x20:
			j.buf = append(j.buf, '\\', 'u', '0', '0', digits[c>>4], digits[c&0xf])
		default:
			j.buf = append(j.buf, c)
		}
	}
	j.buf = append(j.buf, '"')
}

// text returns the finished JSON document.
func (j *jsonRows) text() string {
	if j.rows > 0 {
		j.buf = append(j.buf, ']')
	}
	return string(append(j.buf, ']'))
}

// rowsCTE unpacks the bound jsonRows into r(k, v): k the row's index, v
// the row's JSON array. MATERIALIZED renders each row's JSON once instead
// of once per column read.
const rowsCTE = `WITH r(k, v) AS MATERIALIZED (SELECT key, value FROM json_each(?)) `

// col is the SQL expression reading column i of a row of r;
// str marks a text column.
func (j *jsonRows) col(i int, str bool) string {
	c := "v->>" + strconv.Itoa(i)
	if str && j.hex {
		return "CAST(unhex(" + c + ") AS TEXT)"
	}
	return c
}

// buildRows encodes n rows with fill, as JSON strings when every string
// allows it, hex-encoded otherwise.
func buildRows(n int, fill func(j *jsonRows)) *jsonRows {
	j := newJSONRows(n, false)
	fill(j)
	if j.bad {
		j = newJSONRows(n, true)
		fill(j)
	}
	return j
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
	if _, err := s.FlushLog(ctx, 0); err != nil {
		return LogPage{}, err
	}
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
	var n int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var queued int64
		if err := tx.Raw(`SELECT COALESCE(SUM(n), 0) FROM request_log_pending`).Scan(&queued).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM request_log_pending`).Error; err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM request_log`)
		n = int(res.RowsAffected + queued)
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: wipe log: %w", err)
	}
	return n, nil
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
	if _, err := s.FlushLog(ctx, 0); err != nil {
		return Compacted{}, err
	}
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
