package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/vault"
)

// The App-level key operations that the tray, the window and the
// management API share: a background key check (one at a time, with
// progress and cancel) and pruning with undo.

// ErrCheckRunning is returned by StartCheck while a check runs.
var ErrCheckRunning = errors.New("a key check is already running; wait for it or cancel it")

// ErrNothingToRestore is returned by RestoreLastPrune when no prune of this
// session is left to undo.
var ErrNothingToRestore = errors.New("nothing to undo: no keys were pruned since the app started (restore quarantined keys by id)")

// Check job states.
const (
	CheckIdle     = "idle"     // no check ran since the app started
	CheckRunning  = "running"  // in progress
	CheckDone     = "done"     // finished
	CheckCanceled = "canceled" // stopped by CancelCheck (the outcomes so far are kept)
	CheckFailed   = "failed"   // stopped by an error (see Error)
)

// CheckJob is the state of the latest key check, for progress bars and the
// tray. It never holds a key.
type CheckJob struct {
	// ID names the job; empty while State is "idle".
	ID    string `json:"id,omitempty"`
	State string `json:"state"`
	// Total is the number of keys the job covers (known once the first
	// outcome arrives; for a selection, the selection's size from the
	// start). Done of them are finished.
	Total int `json:"total"`
	Done  int `json:"done"`
	// ByResult counts the outcomes so far per result.
	ByResult   map[vault.CheckResult]int `json:"byResult"`
	StartedAt  time.Time                 `json:"startedAt,omitzero"`
	FinishedAt time.Time                 `json:"finishedAt,omitzero"`
	// Error says why a failed job stopped.
	Error string `json:"error,omitempty"`
}

// Running reports whether the job is in progress.
func (j CheckJob) Running() bool { return j.State == CheckRunning }

// checkRunner holds the latest check job and the undo list of the last
// prune. Its zero value is ready to use.
type checkRunner struct {
	mu        sync.Mutex
	cur       *checkTask // latest job; nil before the first
	lastPrune []string   // ids quarantined by the last prune that moved keys
}

// checkTask is one check job. Its fields are guarded by checkRunner.mu.
type checkTask struct {
	job        CheckJob
	outcomes   []vault.CheckOutcome
	cancel     context.CancelFunc // nil once the job ended
	done       chan struct{}      // closed when the job ends
	lastNotify time.Time
}

// notifyEvery throttles progress notifications of a running check.
const notifyEvery = 250 * time.Millisecond

func newJobID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "chk_" + hex.EncodeToString(b)
}

// StartCheck starts checking keys in the background: ids (nil or empty:
// every checkable key). It returns the job id at once; CheckStatus shows
// the progress, subscribers are notified as it goes (throttled), and
// CancelCheck stops it. Only one check runs at a time: ErrCheckRunning.
func (a *App) StartCheck(ids []string) (string, error) {
	t, err := a.startCheck(ids)
	if err != nil {
		return "", err
	}
	return t.job.ID, nil
}

// startCheck starts a check job and returns it (its id is set for good).
func (a *App) startCheck(ids []string) (*checkTask, error) {
	c := &a.checks
	c.mu.Lock()
	if c.cur != nil && c.cur.job.Running() {
		c.mu.Unlock()
		return nil, ErrCheckRunning
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &checkTask{
		job:    CheckJob{ID: newJobID(), State: CheckRunning, ByResult: map[vault.CheckResult]int{}, StartedAt: time.Now()},
		cancel: cancel, done: make(chan struct{}), lastNotify: time.Now(),
	}
	if len(ids) > 0 {
		t.job.Total = len(idSet(ids))
	}
	c.cur = t
	c.mu.Unlock()
	a.notify()

	ids = slices.Clone(ids)
	go func() {
		defer close(t.done)
		defer cancel()
		sum, err := a.vault.Check(ctx, ids, func(n, total int, _ string, o vault.CheckOutcome) {
			c.mu.Lock()
			t.job.Done, t.job.Total = n, total
			t.job.ByResult[o.Result]++
			t.outcomes = append(t.outcomes, o)
			now := time.Now()
			tell := now.Sub(t.lastNotify) >= notifyEvery
			if tell {
				t.lastNotify = now
			}
			c.mu.Unlock()
			if tell {
				a.notify()
			}
		})
		c.mu.Lock()
		j := &t.job
		j.Done, j.Total = sum.Done, max(sum.Total, sum.Done)
		if sum.ByResult != nil {
			j.ByResult = maps.Clone(sum.ByResult)
		}
		j.FinishedAt = time.Now()
		switch {
		case sum.Canceled || errors.Is(err, context.Canceled):
			j.State = CheckCanceled
		case err != nil:
			j.State, j.Error = CheckFailed, err.Error()
		default:
			j.State = CheckDone
		}
		state := j.State
		t.cancel = nil
		c.mu.Unlock()
		if state == CheckFailed {
			a.log.Warn("key check failed", "job", t.job.ID, "err", err)
		}
		a.notify()
	}()
	return t, nil
}

// CheckStatus returns the state of the latest check (State "idle" when
// none ran since the app started).
func (a *App) CheckStatus() CheckJob {
	j, _ := a.checkResults(nil)
	return j
}

// checkResults returns the state of job t (nil: the latest) and, when
// t is nil or asked, its outcomes so far in the order they finished.
func (a *App) checkResults(t *checkTask) (CheckJob, []vault.CheckOutcome) {
	c := &a.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	want := t != nil
	if t == nil {
		t = c.cur
	}
	if t == nil {
		return CheckJob{State: CheckIdle, ByResult: map[vault.CheckResult]int{}}, nil
	}
	j := t.job
	j.ByResult = maps.Clone(j.ByResult)
	if !want {
		return j, nil
	}
	return j, slices.Clone(t.outcomes)
}

// latestCheck returns the latest job (nil before the first).
func (a *App) latestCheck() *checkTask {
	a.checks.mu.Lock()
	defer a.checks.mu.Unlock()
	return a.checks.cur
}

// CancelCheck stops the running check, if any; the outcomes so far are
// kept. It returns at once; the job's state becomes "canceled" when the
// checks in flight have stopped. It reports whether a check was running.
func (a *App) CancelCheck() bool {
	c := &a.checks
	c.mu.Lock()
	var cancel context.CancelFunc
	if c.cur != nil {
		cancel = c.cur.cancel
	}
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return cancel != nil
}

// waitCheck waits until job t has ended or ctx ends; it reports whether t
// ended.
func (a *App) waitCheck(ctx context.Context, t *checkTask) bool {
	select {
	case <-t.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopChecks cancels a running check and waits for it to end (on Stop, so
// that no check writes to a store being closed).
func (a *App) stopChecks() {
	if t := a.latestCheck(); t != nil {
		a.CancelCheck()
		<-t.done
	}
}

// PruneDead moves the dead keys (invalid, expired, disabled by Google) to
// quarantine: out of the pool at once, restorable (RestoreLastPrune, or
// Restore by id) until purged. Rate-limited and region-refused keys are
// never pruned.
func (a *App) PruneDead(ctx context.Context) (vault.PruneResult, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := a.vault.Prune(ctx)
	if err != nil {
		return res, err
	}
	if len(res.IDs) > 0 {
		a.checks.mu.Lock()
		a.checks.lastPrune = slices.Clone(res.IDs)
		a.checks.mu.Unlock()
	}
	a.notify()
	return res, nil
}

// RestoreLastPrune undoes the last prune of this session that moved keys:
// its keys still in quarantine come back with the status they had.
// ErrNothingToRestore when there is none.
func (a *App) RestoreLastPrune(ctx context.Context) ([]vault.KeyInfo, error) {
	a.checks.mu.Lock()
	ids := slices.Clone(a.checks.lastPrune)
	a.checks.mu.Unlock()
	if len(ids) == 0 {
		return nil, ErrNothingToRestore
	}
	keys, err := a.RestoreKeys(ctx, ids)
	if err != nil {
		return keys, err
	}
	return keys, nil
}

// RestoreKeys brings quarantined keys back (undo of a prune); ids no longer
// quarantined are ignored. The restored ids leave the last prune's undo
// list.
func (a *App) RestoreKeys(ctx context.Context, ids []string) ([]vault.KeyInfo, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	keys, err := a.vault.Restore(ctx, ids)
	a.forgetPruned(idsOfInfo(keys))
	a.notify()
	if keys == nil {
		keys = []vault.KeyInfo{}
	}
	return keys, err
}

// PurgeQuarantined deletes quarantined keys for good (ids; nil: all of
// them). They leave the last prune's undo list.
func (a *App) PurgeQuarantined(ctx context.Context, ids []string) (vault.DeleteResult, error) {
	return a.deleted(ctx, ids, a.vault.Purge)
}

// forgetPruned drops ids from the last prune's undo list.
func (a *App) forgetPruned(ids []string) {
	if len(ids) == 0 {
		return
	}
	gone := idSet(ids)
	a.checks.mu.Lock()
	defer a.checks.mu.Unlock()
	a.checks.lastPrune = slices.DeleteFunc(a.checks.lastPrune, func(id string) bool { return gone[id] })
}

func idsOfInfo(keys []vault.KeyInfo) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

// idSet is the set of ids.
func idSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
