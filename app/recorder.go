package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy"
	"github.com/gemini-balance/desktop/proxy/gemini"
)

// Recorder receives the proxy's finished requests and writes them to the
// store in batches, off the request path: Record never blocks (when the
// buffer is full the event is counted as dropped). It also records keys
// that Google rejected during a request as dead in the store, so the UI
// shows them and Prune can remove them.
//
// Requests refused for a missing or wrong access key are only counted (one
// aggregate per flush, no request-log row each): a flood of them can
// neither fill the buffer nor push real requests out of the log.
type Recorder struct {
	store   *store.Store
	vault   *vault.Vault
	log     *slog.Logger
	ch      chan proxy.Result
	enabled atomic.Bool
	dropped atomic.Int64
	// unauthenticated counts refused requests since the last flush.
	unauthenticated atomic.Int64
	// calls counts every Record call, recording on or off: the proxy's
	// activity, which decides when the request log is written.
	calls atomic.Int64
	// OnFlush, if set before Run, is called after each batch is stored.
	OnFlush func()
}

// Batching of the recorder.
const (
	recorderBuffer = 16384
	// A batch is stored when it holds recorderBatch results or
	// recorderInterval has passed: at high rates about one transaction a
	// second, whose bucket and key updates cover thousands of requests.
	recorderBatch    = 8192
	recorderInterval = time.Second
	// The request-log rows of stored batches are written out (FlushLog)
	// once the proxy has been idle for logIdle, and at least every
	// logMaxDelay under continuous traffic; reading the log writes them
	// out first. Writing them costs as much CPU as the rest of the
	// statistics together: not on the request path while traffic is high.
	logIdle      = 2 * time.Second
	logMaxDelay  = time.Minute
	logFlushStep = 4 // batches (of up to recorderBatch rows) per tick
)

// FlushLog writes every request-log row recorded so far out to the log
// (the recorder does so by itself when the proxy is idle) and returns how
// many it wrote.
func (r *Recorder) FlushLog(ctx context.Context) (int, error) { return r.store.FlushLog(ctx, 0) }

// NewRecorder returns an enabled recorder; Run must be running for events
// to reach the store.
func NewRecorder(st *store.Store, vault *vault.Vault, log *slog.Logger) *Recorder {
	r := &Recorder{store: st, vault: vault, log: log, ch: make(chan proxy.Result, recorderBuffer)}
	r.enabled.Store(true)
	return r
}

// SetEnabled turns statistics recording on or off (benchmarks compare both).
func (r *Recorder) SetEnabled(on bool) { r.enabled.Store(on) }

// Dropped counts results lost because the buffer was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Record implements proxy.Recorder. It never blocks.
func (r *Recorder) Record(res proxy.Result) {
	r.calls.Add(1)
	if !r.enabled.Load() {
		return
	}
	if res.Class == gemini.ClassUnauthenticated {
		r.unauthenticated.Add(1)
		return
	}
	select {
	case r.ch <- res:
	default:
		r.dropped.Add(1)
	}
}

// Run writes batches until ctx ends, then stores what is left.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(recorderInterval)
	defer t.Stop()
	batch := make([]proxy.Result, 0, recorderBatch)
	// The request log: rows queued since queuedAt (zero: none, except
	// perhaps from an earlier run: written out at the first tick).
	var queuedAt time.Time
	lastCalls, lastActive := int64(-1), time.Now()
	flush := func() {
		if len(batch) > 0 && queuedAt.IsZero() {
			queuedAt = time.Now()
		}
		r.flush(ctx, batch)
		batch = batch[:0]
	}
	for {
		select {
		case res := <-r.ch:
			batch = append(batch, res)
			if len(batch) >= recorderBatch {
				flush()
			}
		case now := <-t.C:
			if len(batch) > 0 || r.unauthenticated.Load() > 0 {
				flush()
			}
			if c := r.calls.Load(); c != lastCalls {
				if lastCalls < 0 {
					queuedAt = now // rows an earlier run left queued
				}
				lastCalls, lastActive = c, now
			}
			if !queuedAt.IsZero() && (now.Sub(lastActive) >= logIdle || now.Sub(queuedAt) >= logMaxDelay) {
				// A few batches per tick, so that new results keep being
				// taken in meanwhile; the backlog drains faster than any
				// traffic fills it.
				n, err := r.store.FlushLog(ctx, logFlushStep)
				switch {
				case err != nil:
					r.log.Warn("request log not written", "err", err)
				case n == 0:
					queuedAt = time.Time{}
				}
			}
		case <-ctx.Done():
		drain:
			for {
				select {
				case res := <-r.ch:
					batch = append(batch, res)
				default:
					break drain
				}
			}
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			r.flush(fctx, batch)
			if _, err := r.store.FlushLog(fctx, 0); err != nil {
				r.log.Warn("request log not written", "err", err)
			}
			cancel()
			return
		}
	}
}

// flush stores one batch, plus the unauthenticated requests counted since
// the last flush as one aggregate. Every upstream attempt is an event of
// its key (a retried attempt has status 0), so per-key statistics count
// what each key was asked and how it answered.
func (r *Recorder) flush(ctx context.Context, batch []proxy.Result) {
	events := make([]store.UsageEvent, 0, len(batch)+len(batch)/4+1)
	if n := r.unauthenticated.Swap(0); n > 0 {
		c := gemini.ClassUnauthenticated
		events = append(events, store.UsageEvent{Time: time.Now(), Class: c.String(), Failed: c.Failure(), Count: n, Status: 401})
	}
	if len(events) == 0 && len(batch) == 0 {
		return
	}
	type dead struct {
		id     string
		class  gemini.Class
		reason string
	}
	var deads []dead
	for _, res := range batch {
		for _, f := range res.Failures {
			events = append(events, store.UsageEvent{
				Time: res.Time, Route: logRoute(res), Model: res.Model, KeyID: f.KeyID,
				Class: f.Class.String(), Failed: f.Class.Failure(), Stream: res.Stream,
			})
			deads = append(deads, dead{f.KeyID, f.Class, f.Reason})
		}
		keyID := res.KeyID
		if len(res.Failures) > 0 && res.Attempts == len(res.Failures) {
			keyID = "" // every attempt failed and was recorded above
		}
		events = append(events, store.UsageEvent{
			Time: res.Time, Route: logRoute(res), Model: res.Model, KeyID: keyID, Status: res.Status,
			Attempts: res.Attempts, Class: res.Class.String(), Failed: res.Class.Failure(), Latency: res.Latency, Stream: res.Stream,
			PromptTokens: res.PromptTokens, OutputTokens: res.OutputTokens, ThoughtTokens: res.ThoughtTokens,
		})
		if keyID != "" {
			deads = append(deads, dead{keyID, res.Class, res.Reason})
		}
	}
	if err := r.store.RecordBatch(ctx, events); err != nil {
		r.log.Warn("statistics not stored", "events", len(events), "err", err)
	}
	for _, d := range deads {
		if d.id == "" || d.id == proxy.PassthroughKeyID || !vault.KillsKey(d.class) {
			continue
		}
		if err := r.vault.MarkDead(ctx, d.id, d.class, d.reason); err != nil {
			r.log.Warn("could not mark a rejected key", "key", d.id, "err", err)
		}
	}
	if r.OnFlush != nil {
		r.OnFlush()
	}
}

// logRoute is the route as the request log shows it: a request without a
// model (a model list, a file upload, an operation) also names its method,
// so that its row says what it was ("native list", "openai.models list").
func logRoute(res proxy.Result) string {
	if res.Model == "" && res.Method != "" {
		return res.Route + " " + res.Method
	}
	return res.Route
}
