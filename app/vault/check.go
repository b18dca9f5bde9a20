package vault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/gemini"
)

// DefaultUpstream is Google's Gemini API.
const DefaultUpstream = "https://generativelanguage.googleapis.com"

// Check defaults.
const (
	DefaultCheckConcurrency = 8
	MaxCheckConcurrency     = 64
	DefaultCheckTimeout     = 20 * time.Second
)

// CheckOptions configure a key check.
type CheckOptions struct {
	// Client sends the check requests; the app passes one that goes
	// through the upstream proxy setting. nil: http.DefaultClient.
	Client *http.Client
	// Upstream is the API base URL; empty: DefaultUpstream.
	Upstream string
	// Concurrency bounds the checks in flight; ≤0: 8, at most 64.
	Concurrency int
	// Timeout bounds one key's check; ≤0: 20 s.
	Timeout time.Duration
}

// httpClient returns the client of the options or a default one.
func (o CheckOptions) httpClient() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return http.DefaultClient
}

// CheckResult is what a check says about a key.
type CheckResult string

// Check results. Only invalid, expired and denied mean the key is dead
// (the same words as the key statuses they lead to); rate_limited proves
// the key valid; region and network say nothing about the key. keyOutcomes
// maps upstream classes to them.
const (
	ResultOK          CheckResult = "ok"
	ResultInvalid     CheckResult = "invalid"
	ResultExpired     CheckResult = "expired"
	ResultDenied      CheckResult = "denied"       // disabled or blocked by Google (not by hand)
	ResultRateLimited CheckResult = "rate_limited" // still valid
	ResultRegion      CheckResult = "region"       // Google refuses the egress location: not the key's fault
	ResultNetwork     CheckResult = "network"      // no usable answer: unknown
	ResultSkipped     CheckResult = "skipped"      // not checkable (no secret, quarantined, pending)
)

// CheckOutcome is the result of checking one key.
type CheckOutcome struct {
	ID     string      `json:"id"`
	Result CheckResult `json:"result"`
	Reason string      `json:"reason,omitempty"`
	// Status is the key's status after the check.
	Status string `json:"status"`
	class  gemini.Class
}

// CheckProgress is called after each outcome is stored: done of total
// keys finished. Calls come from one goroutine, in order; keep it quick.
type CheckProgress func(done, total int, id string, outcome CheckOutcome)

// CheckSummary says how a check went.
type CheckSummary struct {
	Total    int                 `json:"total"`
	Done     int                 `json:"done"`
	ByResult map[CheckResult]int `json:"byResult"`
	Canceled bool                `json:"canceled"`
	Duration time.Duration       `json:"duration"`
}

// checkBatch bounds how many outcomes are committed together, and
// checkFlush how long an outcome waits for its batch.
const (
	checkBatch = 64
	checkFlush = 200 * time.Millisecond
)

// Check checks keys (ids; nil or empty: every key that has its secret and
// is not quarantined) with GET {upstream}/v1beta/models?pageSize=1 and the
// key in x-goog-api-key, which costs no quota. Outcomes are stored (status,
// reason, last check) in batches, the pool follows at once (dead keys
// disabled, keys found valid again enabled unless disabled by hand), and
// progress is called for each outcome after its batch is committed — a
// crash never loses an outcome that was reported. Cancelling ctx stops the
// check: the outcomes so far are kept and the summary says Canceled.
//
// The phases: pick the keys (checkRows), split off those that cannot be
// checked (checkable), ask Google (askAll), and store and report what it
// said (checkWriter).
func (v *Vault) Check(ctx context.Context, ids []string, progress CheckProgress) (CheckSummary, error) {
	start := time.Now()
	rows, err := v.checkRows(ctx, ids)
	if err != nil {
		return CheckSummary{}, err
	}
	todo, skipped := v.checkable(rows)
	w := &checkWriter{v: v, ctx: ctx, progress: progress, sum: CheckSummary{Total: len(rows), ByResult: map[CheckResult]int{}}}
	w.report(skipped)
	w.drain(askAll(ctx, v.check(), todo))
	sum := w.sum
	sum.Duration = time.Since(start)
	sum.Canceled = ctx.Err() != nil
	v.log.Info("keys checked", "total", sum.Total, "done", sum.Done, "canceled", sum.Canceled,
		"ok", sum.ByResult[ResultOK], "invalid", sum.ByResult[ResultInvalid], "expired", sum.ByResult[ResultExpired],
		"denied", sum.ByResult[ResultDenied], "rate_limited", sum.ByResult[ResultRateLimited],
		"region", sum.ByResult[ResultRegion], "network", sum.ByResult[ResultNetwork], "took", sum.Duration)
	if w.err != nil {
		return sum, w.err
	}
	if sum.Canceled {
		return sum, ctx.Err()
	}
	return sum, nil
}

// checkRows returns the keys to check: ids, or every key in the pool's
// statuses.
func (v *Vault) checkRows(ctx context.Context, ids []string) ([]store.Key, error) {
	if len(ids) > 0 {
		return v.store.GetKeys(ctx, uniq(ids))
	}
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return nil, err
	}
	kept := rows[:0]
	for _, k := range rows {
		if inPool(k.Status) {
			kept = append(kept, k)
		}
	}
	return kept, nil
}

// checkJob is one key to ask about.
type checkJob struct {
	key    store.Key
	secret string
}

// checkable splits rows into keys to ask about and the outcomes of those
// that cannot be checked (no secret, quarantined, pending).
func (v *Vault) checkable(rows []store.Key) (todo []checkJob, skipped []CheckOutcome) {
	for _, k := range rows {
		s, ok := v.cached(k.ID)
		if !ok || !inPool(k.Status) {
			skipped = append(skipped, CheckOutcome{ID: k.ID, Result: ResultSkipped, Reason: "not checkable while " + string(k.Status), Status: string(k.Status)})
			continue
		}
		todo = append(todo, checkJob{k, s.Reveal()})
	}
	return todo, skipped
}

// askAll asks Google about every job, opts.Concurrency at a time, and
// sends the outcomes; the channel closes when all are done or ctx ends.
func askAll(ctx context.Context, opts CheckOptions, todo []checkJob) <-chan CheckOutcome {
	conc := opts.Concurrency
	if conc <= 0 {
		conc = DefaultCheckConcurrency
	}
	conc = min(conc, MaxCheckConcurrency)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	base := strings.TrimRight(opts.Upstream, "/")
	if base == "" {
		base = DefaultUpstream
	}
	client := opts.httpClient()

	jobs := make(chan checkJob)
	outcomes := make(chan CheckOutcome, conc)
	var wg sync.WaitGroup
	for range min(conc, max(len(todo), 1)) {
		wg.Go(func() {
			for j := range jobs {
				class, reason := checkOne(ctx, client, base, j.secret, timeout)
				if ctx.Err() != nil {
					return // cancelled: this answer is not the key's
				}
				outcomes <- CheckOutcome{ID: j.key.ID, Result: outcomeOf(class).result, Reason: reason, class: class}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, j := range todo {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(outcomes)
	}()
	return outcomes
}

// checkWriter stores outcomes in batches, brings the pool in line, then
// reports them; err keeps the first store error.
type checkWriter struct {
	v        *Vault
	ctx      context.Context
	progress CheckProgress
	sum      CheckSummary
	err      error
}

// drain batches outcomes until the channel closes: a batch is stored when
// it is full or has waited checkFlush.
func (w *checkWriter) drain(outcomes <-chan CheckOutcome) {
	batch := make([]CheckOutcome, 0, checkBatch)
	tick := time.NewTicker(checkFlush)
	defer tick.Stop()
	flush := func() {
		w.report(batch)
		batch = batch[:0]
	}
	for {
		select {
		case o, ok := <-outcomes:
			if !ok {
				flush()
				return
			}
			batch = append(batch, o)
			if len(batch) >= checkBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// report commits batch, syncs the pool, then reports each outcome.
func (w *checkWriter) report(batch []CheckOutcome) {
	if len(batch) == 0 {
		return
	}
	v := w.v
	now := v.now()
	updates := make([]store.CheckUpdate, 0, len(batch))
	for _, o := range batch {
		if o.Result != ResultSkipped {
			updates = append(updates, store.CheckUpdate{ID: o.ID, Verdict: outcomeOf(o.class).status, Result: string(o.Result), Reason: o.Reason, CheckedAt: now})
		}
	}
	// Store even when ctx is cancelled: these outcomes are real.
	keys, err := v.store.ApplyChecks(context.WithoutCancel(w.ctx), updates)
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	v.hook("check.commit")
	status := make(map[string]store.Status, len(keys))
	for _, k := range keys {
		status[k.ID] = k.Status
		if _, ok := v.cached(k.ID); ok && inPool(k.Status) {
			v.setPoolState(k)
		}
	}
	for _, o := range batch {
		if st, ok := status[o.ID]; ok {
			o.Status = string(st)
		}
		w.sum.Done++
		w.sum.ByResult[o.Result]++
		if w.progress != nil {
			w.progress(w.sum.Done, w.sum.Total, o.ID, o)
		}
	}
}

// maxCheckBody bounds how much of an answer is read.
const maxCheckBody = 64 << 10

// checkOne asks the models list with one key and classifies the answer.
// The key travels only in the x-goog-api-key header.
func checkOne(ctx context.Context, client *http.Client, base, secret string, timeout time.Duration) (gemini.Class, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1beta/models?pageSize=1", nil)
	if err != nil {
		return gemini.ClassTransient, "bad upstream URL"
	}
	req.Header.Set("x-goog-api-key", secret)
	resp, err := client.Do(req)
	if err != nil {
		v := gemini.ClassifyError(err)
		reason := v.Reason
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "no answer within " + timeout.String()
		}
		return v.Class, redactKey(reason, secret)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCheckBody))
	if err != nil && resp.StatusCode/100 != 2 {
		return gemini.ClassTransient, "answer cut short: " + redactKey(err.Error(), secret)
	}
	if resp.StatusCode/100 == 2 {
		// A models list is not a generateContent answer: no body, no
		// "empty answer" verdict.
		body = nil
	}
	v := gemini.Classify(resp.StatusCode, body)
	return v.Class, redactKey(v.Reason, secret)
}

// redactKey removes the key from a text (an upstream or proxy that echoes
// it must not put it in the database or a log).
func redactKey(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[key]")
}
