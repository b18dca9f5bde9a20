package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// PoolSync is what the vault needs from the running proxy's key pool
// (*keypool.Pool): every change to the keys reaches it at once.
type PoolSync interface {
	Replace(keys []keypool.Key)
	Add(keys ...keypool.Key)
	Remove(ids ...string)
	SetDisabled(id string, disabled bool, reason string)
}

// Vault is the key service behind the window, the tray, the browser UI and
// the management API: one implementation of every key operation.
//
// Secrets live in the keychain (one item per key, account = key id),
// metadata in the store. Every mutation follows a crash-safe protocol so
// that a kill -9 at any moment loses nothing that was reported done and
// leaves nothing the next Reconcile does not finish or undo:
//
// Add (AddBulk):
//  1. insert the rows with status "adding" (one transaction; hidden from
//     listings and from the pool);
//  2. write the secrets to the keychain;
//  3. flip the rows whose secret was written to "active" (one
//     transaction), then feed the pool, then report them added.
//
// If step 3 fails the secrets written in step 2 are deleted again (the
// keychain-first rule: no visible row without its secret, no secret left
// behind by a failed add). A crash before step 3 leaves "adding" rows:
// Reconcile finishes those whose secret is in the keychain (the user asked
// for them) and drops the rows whose secret is not. Without the intent row
// written first, a crash between steps 2 and 3 would leave a secret in the
// keychain that nothing points to (keychains cannot be listed portably).
//
// Delete (Delete, Purge):
//  1. mark the rows "deleting" (one transaction) and take them out of the
//     pool;
//  2. delete the secrets from the keychain (a missing secret counts as
//     deleted);
//  3. delete the rows, then report them deleted.
//
// A crash before step 3 leaves "deleting" rows: Reconcile deletes their
// secrets and rows. A key reported deleted has no secret left.
//
// Reconcile (on start): finishes the intents above, loads every other
// row's secret (bounded concurrency), marks rows without a secret
// "secret_missing" (shown, never dropped; revived when the secret is back)
// and fills the pool. When the keychain is unavailable nothing is marked
// or dropped: the rows wait for a keychain that answers.
//
// Check results are written in batches and reported to the caller only
// after their batch is committed.
type Vault struct {
	store   *store.Store
	secrets keychain.Store
	pool    PoolSync
	check   func() CheckOptions
	log     *slog.Logger

	// QuarantineFor is how long pruned (quarantined) keys can be restored
	// before PurgeExpired deletes them. Default 7 days.
	QuarantineFor time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time

	// testHook, when set by a test, is called at the steps of the crash-safe
	// protocols ("add.intent", "add.keychain", "add.commit", …) — the kill
	// test dies there on purpose.
	testHook func(point string)

	// opMu serialises the mutating operations (add, delete, reconcile,
	// prune, restore, enable): each runs its protocol alone.
	opMu sync.Mutex

	mu    sync.RWMutex
	cache map[string]apikey.Secret // secrets known to be in the keychain, by key id
}

// Concurrency of keychain calls.
const (
	keychainWriters = 8
	keychainReaders = 16
)

// DefaultQuarantine is how long pruned keys can be restored.
const DefaultQuarantine = 7 * 24 * time.Hour

// NewVault returns the key service. check returns the current check
// options (upstream, HTTP client through the upstream proxy, concurrency);
// it is called at the start of every Check, so setting changes apply to
// the next one. A nil check means the defaults.
func NewVault(st *store.Store, secrets keychain.Store, pool PoolSync, check func() CheckOptions, log *slog.Logger) *Vault {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if check == nil {
		check = func() CheckOptions { return CheckOptions{} }
	}
	// Every key is stored under apikey.ID(key): the OS keychain can then
	// recognise items by their secret in bulk reads (startup).
	if d, ok := secrets.(interface{ DeriveAccounts(func(string) string) }); ok {
		d.DeriveAccounts(apikey.ID)
	}
	return &Vault{
		store: st, secrets: secrets, pool: pool, check: check, log: log,
		QuarantineFor: DefaultQuarantine,
		Now:           time.Now,
		cache:         map[string]apikey.Secret{},
	}
}

// Errors of the vault.
var (
	// ErrKeyNotFound: no key with that id.
	ErrKeyNotFound = store.ErrKeyNotFound
	// ErrKeyState: the operation does not apply to the key in its current
	// status (e.g. enabling a quarantined key).
	ErrKeyState = errors.New("the key cannot do that in its current state")
)

func (v *Vault) now() time.Time { return v.Now() }

func (v *Vault) hook(point string) {
	if v.testHook != nil {
		v.testHook(point)
	}
}

func (v *Vault) cached(id string) (apikey.Secret, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	s, ok := v.cache[id]
	return s, ok
}

func (v *Vault) setCached(id string, s apikey.Secret) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cache[id] = s
}

func (v *Vault) dropCached(ids ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		delete(v.cache, id)
	}
}

// --- keychain helpers -------------------------------------------------------

// runBounded calls fn for every index with at most n calls at once. When fn
// reports stop (the keychain is unavailable), no further calls start.
func runBounded(ctx context.Context, total, n int, fn func(ctx context.Context, i int) (stop bool)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range total {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if fn(ctx, i) {
				cancel()
			}
		})
	}
	wg.Wait()
}

// firstErr keeps the first error seen by concurrent calls.
type firstErr struct {
	mu  sync.Mutex
	err error
}

func (f *firstErr) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstErr) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// setSecrets writes id → raw to the keychain and returns the ids written.
// err is the first failure (ids not returned were not written — or, after
// a timeout, maybe written later: the caller keeps their intent rows).
func (v *Vault) setSecrets(ctx context.Context, secrets map[string]string) (written []string, err error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if b, ok := v.secrets.(keychain.Batcher); ok {
		if err := b.SetMany(ctx, secrets); err != nil {
			return nil, err
		}
		for id := range secrets {
			written = append(written, id)
		}
		return written, nil
	}
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	ok := make([]bool, len(ids))
	var first firstErr
	runBounded(ctx, len(ids), keychainWriters, func(ctx context.Context, i int) bool {
		err := v.secrets.Set(ctx, ids[i], secrets[ids[i]])
		if err != nil {
			first.set(err)
			return true // unavailable or cancelled: do not hammer the keychain
		}
		ok[i] = true
		return false
	})
	for i, id := range ids {
		if ok[i] {
			written = append(written, id)
		}
	}
	if err := first.get(); err != nil {
		return written, err
	}
	return written, ctx.Err()
}

// getSecrets reads the secrets of ids. found holds the secrets present,
// missing the ids the keychain says it has no secret for; ids in neither
// are unknown (err says why: the keychain is unavailable).
func (v *Vault) getSecrets(ctx context.Context, ids []string) (found map[string]string, missing []string, err error) {
	found = make(map[string]string, len(ids))
	if len(ids) == 0 {
		return found, nil, nil
	}
	if b, ok := v.secrets.(keychain.BulkReader); ok {
		got, err := b.GetMany(ctx, ids)
		if err == nil {
			for _, id := range ids {
				if s, ok := got[id]; ok {
					found[id] = s
				} else {
					missing = append(missing, id)
				}
			}
			return found, missing, nil
		}
		if ctx.Err() != nil {
			return found, nil, err
		}
		// The bulk path failed (e.g. a locked keyring, which only the
		// one-by-one path may prompt to unlock): go one by one.
		v.log.Debug("bulk keychain read failed; reading one by one", "err", err)
	}
	vals := make([]string, len(ids))
	state := make([]int8, len(ids)) // 0 unknown, 1 found, 2 missing
	var first firstErr
	runBounded(ctx, len(ids), keychainReaders, func(ctx context.Context, i int) bool {
		s, err := v.secrets.Get(ctx, ids[i])
		switch {
		case err == nil:
			vals[i], state[i] = s, 1
		case errors.Is(err, keychain.ErrNotFound):
			state[i] = 2
		default:
			first.set(err)
			return true
		}
		return false
	})
	for i, id := range ids {
		switch state[i] {
		case 1:
			found[id] = vals[i]
		case 2:
			missing = append(missing, id)
		}
	}
	if err := first.get(); err != nil {
		return found, missing, err
	}
	if len(found)+len(missing) < len(ids) {
		return found, missing, ctx.Err()
	}
	return found, missing, nil
}

// deleteSecrets removes the secrets of ids; a secret already absent counts
// as deleted. It returns the ids whose secret is gone.
func (v *Vault) deleteSecrets(ctx context.Context, ids []string) (gone []string, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if b, ok := v.secrets.(keychain.Batcher); ok {
		if err := b.DeleteMany(ctx, ids); err != nil {
			return nil, err
		}
		return slices.Clone(ids), nil
	}
	ok := make([]bool, len(ids))
	var first firstErr
	runBounded(ctx, len(ids), keychainWriters, func(ctx context.Context, i int) bool {
		err := v.secrets.Delete(ctx, ids[i])
		if err == nil || errors.Is(err, keychain.ErrNotFound) {
			ok[i] = true
			return false
		}
		first.set(err)
		return true
	})
	for i, id := range ids {
		if ok[i] {
			gone = append(gone, id)
		}
	}
	if err := first.get(); err != nil {
		return gone, err
	}
	if len(gone) < len(ids) {
		return gone, ctx.Err()
	}
	return gone, nil
}

// --- pool helpers -----------------------------------------------------------

// inPool reports whether keys in status st belong in the pool (possibly
// disabled there).
func inPool(st store.Status) bool {
	return st == store.StatusActive || st == store.StatusDisabled || st.Dead()
}

// syncPool brings the pool in line with rows whose secrets are cached.
func (v *Vault) syncPool(keys []store.Key) {
	var add []keypool.Key
	var remove []string
	for _, k := range keys {
		s, ok := v.cached(k.ID)
		if !ok || !inPool(k.Status) {
			remove = append(remove, k.ID)
			continue
		}
		add = append(add, keypool.Key{ID: k.ID, Secret: s})
	}
	if len(remove) > 0 {
		v.pool.Remove(remove...)
	}
	if len(add) > 0 {
		v.pool.Add(add...)
	}
	for _, k := range keys {
		if _, ok := v.cached(k.ID); ok && inPool(k.Status) {
			v.setPoolState(k)
		}
	}
}

// setPoolState enables or disables a pooled key according to its status.
func (v *Vault) setPoolState(k store.Key) {
	switch {
	case k.Status == store.StatusActive:
		v.pool.SetDisabled(k.ID, false, "")
	case k.Status == store.StatusDisabled:
		v.pool.SetDisabled(k.ID, true, "disabled by hand")
	case k.Status.Dead():
		reason := k.Reason
		if reason == "" {
			reason = string(k.Status)
		}
		v.pool.SetDisabled(k.ID, true, reason)
	}
}

// --- add --------------------------------------------------------------------

// AddResult says what AddBulk did.
type AddResult struct {
	// Added counts keys stored now (new, or re-added for a row whose
	// secret was missing: see Restored).
	Added int `json:"added"`
	// Existing counts valid keys already present (left unchanged).
	Existing int `json:"existing"`
	// Restored counts keys among Added whose row was "secret missing" and
	// whose secret is stored again.
	Restored int `json:"restored"`
	// Duplicates counts repeats within the pasted text.
	Duplicates int `json:"duplicates"`
	// Malformed lists what looked like a key but is not one: line, masked
	// token, reason.
	Malformed []apikey.Malformed `json:"malformed"`
	// Failed counts keys that could not be stored (see Error).
	Failed int `json:"failed"`
	// Error says why keys failed (e.g. the keychain is unavailable).
	Error string `json:"error,omitempty"`
	// IDs are the ids of the keys added.
	IDs []string `json:"ids"`
}

// AddBulk finds the keys in pasted text (any separators, quotes, KEY=...
// lines, JSON), stores the new ones and feeds them to the pool. See the
// Vault doc for the crash-safe order. A keychain failure is reported in
// the result (Failed, Error) and as err when nothing could be added.
func (v *Vault) AddBulk(ctx context.Context, text string) (AddResult, error) {
	return v.AddBulkProgress(ctx, text, nil)
}

// addChunk is how many keys one add step (intent, keychain, commit)
// handles when the keychain writes one item at a time: a slow keychain
// (gnome-keyring takes tens of ms per item with a thousand items) shows
// progress, and keys reach the pool chunk by chunk.
const addChunk = 100

// AddBulkProgress is AddBulk with progress: progress(done, total) is
// called after each committed chunk (total = keys found). Cancelling ctx
// stops before the next chunk; the chunks committed stay added.
func (v *Vault) AddBulkProgress(ctx context.Context, text string, progress func(done, total int)) (AddResult, error) {
	ext := apikey.Extract(text)
	res := AddResult{Duplicates: ext.Duplicates, Malformed: ext.Malformed, IDs: []string{}}
	if res.Malformed == nil {
		res.Malformed = []apikey.Malformed{}
	}
	if len(ext.Keys) == 0 {
		return res, nil
	}
	v.opMu.Lock()
	defer v.opMu.Unlock()
	chunk := addChunk
	if _, ok := v.secrets.(keychain.Batcher); ok {
		chunk = len(ext.Keys) // one write for everything
	}
	var kerr error
	for start := 0; start < len(ext.Keys); start += chunk {
		if err := ctx.Err(); err != nil {
			res.Failed += len(ext.Keys) - start
			res.Error = "cancelled"
			kerr = err
			break
		}
		part := ext.Keys[start:min(start+chunk, len(ext.Keys))]
		err := v.addLocked(ctx, part, &res)
		if progress != nil {
			progress(start+len(part), len(ext.Keys))
		}
		if err != nil {
			if !errors.Is(err, keychain.ErrUnavailable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				return res, err // the database failed
			}
			// The keychain failed: the rest would fail the same way.
			kerr = err
			res.Failed += len(ext.Keys) - start - len(part)
			break
		}
	}
	res.Added = len(res.IDs)
	v.log.Info("keys added", "added", res.Added, "existing", res.Existing, "restored", res.Restored,
		"duplicates", res.Duplicates, "malformed", len(res.Malformed), "failed", res.Failed)
	if res.Added == 0 && kerr != nil {
		return res, kerr
	}
	return res, nil
}

// addLocked runs the add protocol for keys (raw, unique) and accumulates
// into res. It returns the keychain error that stopped it, or a database
// error. v.opMu must be held.
func (v *Vault) addLocked(ctx context.Context, keys []string, res *AddResult) error {
	raw := make(map[string]string, len(keys))
	order := make([]string, 0, len(keys))
	news := make([]store.NewKey, 0, len(keys))
	now := v.now()
	for _, k := range keys {
		id := apikey.ID(k)
		raw[id] = k
		order = append(order, id)
		news = append(news, store.NewKey{
			ID: id, Fingerprint: apikey.Fingerprint(k), Preview: apikey.Mask(k),
			Status: store.StatusAdding, CreatedAt: now,
		})
	}
	// Step 1: intent rows.
	ins, err := v.store.AddKeys(ctx, news)
	if err != nil {
		return err
	}
	toWrite := map[string]string{}
	isNew := map[string]bool{}
	restoring := map[string]bool{}
	for _, id := range ins.Added {
		toWrite[id] = raw[id]
		isNew[id] = true
	}
	for _, k := range ins.Existing {
		switch k.Status {
		case store.StatusSecretMissing:
			restoring[k.ID] = true
			toWrite[k.ID] = raw[k.ID]
		case store.StatusAdding, store.StatusDeleting:
			// A half-done operation on this key (crash, or a keychain that
			// failed): the user wants it now, so finish it as an add.
			toWrite[k.ID] = raw[k.ID]
		default:
			res.Existing++
		}
	}
	v.hook("add.intent")
	// Step 2: the keychain.
	written, kerr := v.setSecrets(ctx, toWrite)
	v.hook("add.keychain")
	if kerr != nil {
		res.Failed += len(toWrite) - len(written)
		res.Error = keychainProblem(kerr)
		v.log.Warn("keychain write failed; the keys not stored stay pending and are resolved on the next reconcile",
			"failed", len(toWrite)-len(written), "written", len(written), "err", kerr)
	}
	// Step 3: commit.
	var finished, revived []string
	for _, id := range written {
		if restoring[id] {
			revived = append(revived, id)
		} else {
			finished = append(finished, id)
		}
	}
	done, err := v.store.Transition(ctx, finished, []store.Status{store.StatusAdding, store.StatusDeleting}, store.StatusActive, "")
	if err != nil {
		// Undo the keychain writes of keys not committed. Rows left as
		// "adding" (if this delete fails too) are resolved by Reconcile.
		var undo []string
		for _, id := range written {
			if isNew[id] {
				undo = append(undo, id)
			}
		}
		if gone, derr := v.deleteSecrets(context.WithoutCancel(ctx), undo); derr == nil {
			_, _ = v.store.Delete(context.WithoutCancel(ctx), gone)
		}
		res.Failed += len(written)
		return fmt.Errorf("add keys: %w", err)
	}
	v.hook("add.commit")
	for _, id := range written {
		v.setCached(id, apikey.NewSecret(raw[id]))
	}
	// Rows that were "secret missing" have their secret again; if marking
	// them fails, Reconcile revives them later (the secret is there).
	back, err := v.store.Revive(ctx, revived)
	if err != nil {
		v.log.Warn("could not mark re-added keys as present; the next reconcile will", "err", err)
	}
	keys2, err := v.store.GetKeys(ctx, append(slices.Clone(done), idsOf(back)...))
	if err != nil {
		return err
	}
	v.syncPool(keys2)
	committed := setOf(done)
	for _, k := range back {
		committed[k.ID] = true
	}
	for _, id := range order {
		if committed[id] {
			res.IDs = append(res.IDs, id)
		}
	}
	res.Restored += len(back)
	return kerr
}

// keychainProblem is the user-facing text of a keychain error.
func keychainProblem(err error) string {
	if errors.Is(err, keychain.ErrUnavailable) {
		return "The keychain is not available (" + err.Error() + "). Unlock it, or choose the encrypted file store in Settings."
	}
	return err.Error()
}

func setOf(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func idsOf(keys []store.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

// --- delete -----------------------------------------------------------------

// DeleteResult says what Delete or Purge did.
type DeleteResult struct {
	// Deleted counts keys gone for good (row and secret).
	Deleted int `json:"deleted"`
	// NotFound counts ids that matched no key.
	NotFound int `json:"notFound"`
	// Pending counts keys whose secret could not be deleted yet; they are
	// out of the pool and marked "deleting", and Reconcile finishes them.
	Pending int    `json:"pending"`
	Error   string `json:"error,omitempty"`
	// IDs are the deleted keys.
	IDs []string `json:"ids"`
}

// Delete deletes keys for good: out of the pool at once, secret removed
// from the keychain, row removed. See the Vault doc for the crash-safe
// order.
func (v *Vault) Delete(ctx context.Context, ids []string) (DeleteResult, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	return v.deleteLocked(ctx, ids, nil)
}

// deleteLocked runs the delete protocol on ids whose status is in from
// (nil: any status).
func (v *Vault) deleteLocked(ctx context.Context, ids []string, from []store.Status) (DeleteResult, error) {
	res := DeleteResult{IDs: []string{}}
	ids = uniq(ids)
	if len(ids) == 0 {
		return res, nil
	}
	if from == nil {
		from = allStatuses
	}
	// Step 1: intent, and out of the pool.
	marked, err := v.store.Transition(ctx, ids, from, store.StatusDeleting, "deletion asked")
	if err != nil {
		return res, err
	}
	existing, err := v.store.GetKeys(ctx, ids)
	if err != nil {
		return res, err
	}
	res.NotFound = len(ids) - len(existing)
	v.pool.Remove(marked...)
	v.dropCached(marked...)
	v.hook("delete.intent")
	// Step 2: secrets.
	gone, kerr := v.deleteSecrets(ctx, marked)
	v.hook("delete.keychain")
	// Step 3: rows.
	if _, err := v.store.Delete(ctx, gone); err != nil {
		res.Pending = len(marked)
		return res, err
	}
	v.hook("delete.rows")
	res.Deleted = len(gone)
	res.IDs = append(res.IDs, gone...)
	res.Pending = len(marked) - len(gone)
	if kerr != nil {
		res.Error = keychainProblem(kerr)
		v.log.Warn("keychain delete failed; keys stay marked for deletion", "pending", res.Pending, "err", kerr)
	}
	v.log.Info("keys deleted", "deleted", res.Deleted, "pending", res.Pending, "not_found", res.NotFound)
	if res.Deleted == 0 && kerr != nil {
		return res, kerr
	}
	return res, nil
}

// liveStatuses are the statuses of keys that belong in the pool.
var liveStatuses = []store.Status{store.StatusActive, store.StatusDisabled, store.StatusInvalid, store.StatusExpired, store.StatusDenied}

var allStatuses = []store.Status{
	store.StatusAdding, store.StatusActive, store.StatusDisabled, store.StatusInvalid, store.StatusExpired,
	store.StatusDenied, store.StatusSecretMissing, store.StatusQuarantined, store.StatusDeleting,
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// --- reconcile --------------------------------------------------------------

// ReconcileReport says what Reconcile found.
type ReconcileReport struct {
	Keys          int    `json:"keys"`          // rows in the store
	Pooled        int    `json:"pooled"`        // keys handed to the pool (some disabled)
	Active        int    `json:"active"`        // of which usable
	SecretMissing int    `json:"secretMissing"` // rows whose keychain item is gone
	Revived       int    `json:"revived"`       // rows marked missing whose secret is back
	AddsFinished  int    `json:"addsFinished"`  // interrupted adds completed
	AddsDropped   int    `json:"addsDropped"`   // interrupted adds whose secret never landed
	Deleted       int    `json:"deleted"`       // interrupted deletes completed
	Unknown       int    `json:"unknown"`       // rows not checked: keychain unavailable
	KeychainError string `json:"keychainError,omitempty"`
}

// Reconcile brings the store, the keychain and the pool in line, on start
// and whenever the keychain comes back: it finishes interrupted adds and
// deletes, loads the secrets, marks rows without a secret
// "secret_missing" and replaces the pool's key set. If the keychain is
// unavailable, the report says so (KeychainError) and no row is changed
// for lack of an answer.
func (v *Vault) Reconcile(ctx context.Context) (ReconcileReport, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	var rep ReconcileReport
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return rep, err
	}
	rep.Keys = len(rows)
	var deleting, fetch []string
	status := make(map[string]store.Status, len(rows))
	for _, k := range rows {
		status[k.ID] = k.Status
		if k.Status == store.StatusDeleting {
			deleting = append(deleting, k.ID)
		} else {
			fetch = append(fetch, k.ID)
		}
	}
	var kerr error
	// Interrupted deletes.
	if len(deleting) > 0 {
		gone, err := v.deleteSecrets(ctx, deleting)
		if err != nil {
			kerr = err
		}
		if _, err := v.store.Delete(ctx, gone); err != nil {
			return rep, err
		}
		rep.Deleted = len(gone)
		v.pool.Remove(deleting...)
		v.hook("reconcile.deletes")
	}
	// Secrets of every other row.
	var found map[string]string
	var missing []string
	if kerr == nil {
		found, missing, kerr = v.getSecrets(ctx, fetch)
	} else {
		found = map[string]string{}
	}
	rep.Unknown = len(fetch) - len(found) - len(missing)
	var finish, drop, markMissing, revive []string
	for id := range found {
		switch status[id] {
		case store.StatusAdding:
			finish = append(finish, id)
		case store.StatusSecretMissing:
			revive = append(revive, id)
		}
	}
	for _, id := range missing {
		switch status[id] {
		case store.StatusAdding:
			drop = append(drop, id)
		case store.StatusSecretMissing, store.StatusQuarantined:
		default:
			markMissing = append(markMissing, id)
		}
	}
	if _, err := v.store.Transition(ctx, finish, []store.Status{store.StatusAdding}, store.StatusActive, ""); err != nil {
		return rep, err
	}
	v.hook("reconcile.finish")
	if _, err := v.store.Delete(ctx, drop); err != nil {
		return rep, err
	}
	// Quarantined rows keep their status: Restore finds out about the
	// secret if the user brings them back.
	if _, err := v.store.Transition(ctx, markMissing, liveStatuses, store.StatusSecretMissing, "the keychain has no secret for this key"); err != nil {
		return rep, err
	}
	revived, err := v.store.Revive(ctx, revive)
	if err != nil {
		return rep, err
	}
	rep.AddsFinished, rep.AddsDropped, rep.SecretMissing, rep.Revived = len(finish), len(drop), len(markMissing), len(revived)
	revivedSet := setOf(revive)
	for _, k := range rows {
		if k.Status == store.StatusSecretMissing && !revivedSet[k.ID] {
			rep.SecretMissing++
		}
	}

	// The cache: the secrets just read, plus (for rows the keychain did not
	// answer about) the secrets loaded earlier — an unavailable keychain
	// does not take keys away from a running proxy.
	missingSet := setOf(missing)
	v.mu.Lock()
	next := make(map[string]apikey.Secret, len(found))
	for _, id := range fetch {
		if s, ok := found[id]; ok {
			next[id] = apikey.NewSecret(s)
		} else if old, ok := v.cache[id]; ok && !missingSet[id] {
			next[id] = old
		}
	}
	v.cache = next
	v.mu.Unlock()
	rows, err = v.store.AllKeys(ctx)
	if err != nil {
		return rep, err
	}
	var keys []keypool.Key
	var pooled []store.Key
	for _, k := range rows {
		s, ok := v.cached(k.ID)
		if !ok || !inPool(k.Status) {
			continue
		}
		keys = append(keys, keypool.Key{ID: k.ID, Secret: s})
		pooled = append(pooled, k)
		if k.Status == store.StatusActive {
			rep.Active++
		}
	}
	v.pool.Replace(keys)
	for _, k := range pooled {
		v.setPoolState(k)
	}
	rep.Pooled = len(keys)
	if kerr != nil {
		rep.KeychainError = keychainProblem(kerr)
		v.log.Error("keychain unavailable: keys without a loaded secret are not served", "unknown", rep.Unknown, "err", kerr)
	}
	v.log.Info("keys reconciled", "keys", rep.Keys, "pooled", rep.Pooled, "active", rep.Active,
		"secret_missing", rep.SecretMissing, "revived", rep.Revived, "adds_finished", rep.AddsFinished,
		"adds_dropped", rep.AddsDropped, "deleted", rep.Deleted, "unknown", rep.Unknown)
	return rep, nil
}

// --- list, reveal, export ---------------------------------------------------

// KeyInfo is a key as every face shows it: masked, never the secret.
type KeyInfo struct {
	ID            string    `json:"id"`
	Preview       string    `json:"preview"`
	Label         string    `json:"label"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason,omitempty"`
	LastResult    string    `json:"lastResult,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	LastCheckedAt time.Time `json:"lastCheckedAt,omitzero"`
	LastUsedAt    time.Time `json:"lastUsedAt,omitzero"`
	QuarantinedAt time.Time `json:"quarantinedAt,omitzero"`
	Requests      int64     `json:"requests"`
	Failures      int64     `json:"failures"`
	Tokens        int64     `json:"tokens"`
}

func infoOf(k store.Key) KeyInfo {
	return KeyInfo{
		ID: k.ID, Preview: k.Preview, Label: k.Label, Status: string(k.Status), Reason: k.Reason,
		LastResult: k.LastResult, CreatedAt: k.CreatedAt, LastCheckedAt: k.LastCheckedAt,
		LastUsedAt: k.LastUsedAt, QuarantinedAt: k.DeletedAt,
		Requests: k.Requests, Failures: k.Failures, Tokens: k.Tokens,
	}
}

// KeyQuery selects keys for List.
type KeyQuery struct {
	// Status keeps keys in these statuses; empty: all but the transient
	// "adding"/"deleting" ones.
	Status []string `json:"status,omitempty"`
	// Search matches the last characters of the key (any length) or the
	// label.
	Search string `json:"search,omitempty"`
	// Sort is created (default), last_used, last_checked, requests,
	// failures, tokens, status or label; Desc reverses it.
	Sort   string `json:"sort,omitempty"`
	Desc   bool   `json:"desc,omitempty"`
	Offset int    `json:"offset,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// KeyList is one page of keys.
type KeyList struct {
	Keys   []KeyInfo `json:"keys"`
	Total  int       `json:"total"`
	Offset int       `json:"offset"`
	Limit  int       `json:"limit"`
	// Counts is the number of keys per status (all keys, not the page).
	Counts map[string]int `json:"counts"`
}

// List returns a page of masked keys.
func (v *Vault) List(ctx context.Context, q KeyQuery) (KeyList, error) {
	f := store.KeyFilter{Search: q.Search, Sort: store.KeySort(q.Sort), Desc: q.Desc, Offset: q.Offset, Limit: q.Limit}
	for _, s := range q.Status {
		f.Statuses = append(f.Statuses, store.Status(s))
	}
	if search := strings.TrimSpace(q.Search); len(search) > 0 {
		// The preview only holds the last 4 characters: match longer
		// suffixes against the secrets held in memory.
		low := strings.ToLower(search)
		v.mu.RLock()
		for id, s := range v.cache {
			if strings.HasSuffix(strings.ToLower(s.Reveal()), low) {
				f.SearchIDs = append(f.SearchIDs, id)
			}
		}
		v.mu.RUnlock()
	}
	page, err := v.store.ListKeys(ctx, f)
	if err != nil {
		return KeyList{}, err
	}
	counts, err := v.store.CountByStatus(ctx)
	if err != nil {
		return KeyList{}, err
	}
	out := KeyList{Keys: make([]KeyInfo, len(page.Keys)), Total: page.Total, Offset: page.Offset, Limit: page.Limit, Counts: map[string]int{}}
	for i, k := range page.Keys {
		out.Keys[i] = infoOf(k)
	}
	for st, n := range counts {
		out.Counts[string(st)] = n
	}
	return out, nil
}

// Get returns one key, masked.
func (v *Vault) Get(ctx context.Context, id string) (KeyInfo, error) {
	k, err := v.store.GetKey(ctx, id)
	if err != nil {
		return KeyInfo{}, err
	}
	return infoOf(k), nil
}

// Reveal returns the raw key of id, read from the keychain. It is only for
// an explicit user request (show / copy one key); it is logged (without
// the key).
func (v *Vault) Reveal(ctx context.Context, id string) (string, error) {
	if _, err := v.store.GetKey(ctx, id); err != nil {
		return "", err
	}
	s, err := v.secrets.Get(ctx, id)
	if err != nil {
		if errors.Is(err, keychain.ErrNotFound) {
			return "", fmt.Errorf("the keychain has no secret for key %s: %w", id, err)
		}
		return "", err
	}
	v.log.Info("key revealed on request", "id", id)
	return s, nil
}

// Export returns every stored key (quarantined ones excluded), one per
// line, for an explicit "export to file" action. Secrets come from the
// keychain. It is logged (without the keys).
func (v *Vault) Export(ctx context.Context) (string, error) {
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, k := range rows {
		if inPool(k.Status) {
			ids = append(ids, k.ID)
		}
	}
	found, _, err := v.getSecrets(ctx, ids)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	n := 0
	for _, id := range ids {
		if s, ok := found[id]; ok {
			b.WriteString(s)
			b.WriteByte('\n')
			n++
		}
	}
	v.log.Warn("keys exported on request", "count", n)
	return b.String(), nil
}

// --- enable, label ------------------------------------------------------------

// SetEnabled enables or disables a key by hand. Enabling also revives a
// key marked dead (the user overrides the verdict). Quarantined, pending
// and secret-missing keys answer ErrKeyState.
func (v *Vault) SetEnabled(ctx context.Context, id string, enabled bool) error {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	k, err := v.store.GetKey(ctx, id)
	if err != nil {
		return err
	}
	if !inPool(k.Status) {
		return fmt.Errorf("%w: key %s is %s", ErrKeyState, id, k.Status)
	}
	to, reason := store.StatusDisabled, "disabled by hand"
	if enabled {
		to, reason = store.StatusActive, ""
	}
	if k.Status == to {
		return nil
	}
	if err := v.store.SetStatus(ctx, id, to, reason, time.Time{}); err != nil {
		return err
	}
	k.Status, k.Reason = to, reason
	v.syncPool([]store.Key{k})
	return nil
}

// maxLabel bounds a label's length (in bytes).
const maxLabel = 200

// SetLabel sets a key's label (trimmed; at most 200 bytes).
func (v *Vault) SetLabel(ctx context.Context, id, label string) error {
	label = strings.TrimSpace(label)
	if len(label) > maxLabel {
		return fmt.Errorf("label too long (%d bytes, at most %d)", len(label), maxLabel)
	}
	return v.store.SetLabel(ctx, id, label)
}

// --- prune, restore, purge ----------------------------------------------------

// PruneResult says what Prune did.
type PruneResult struct {
	// Quarantined counts the dead keys moved to quarantine.
	Quarantined int `json:"quarantined"`
	// IDs can be passed to Restore to undo.
	IDs []string `json:"ids"`
	// Until is when they are purged unless restored.
	Until time.Time `json:"until"`
}

// Prune moves the dead keys — invalid, expired, or disabled by Google —
// to quarantine: out of the pool at once, restorable with Restore until
// QuarantineFor has passed, then deleted by PurgeExpired. Rate-limited,
// region-refused or unchecked keys are never pruned.
func (v *Vault) Prune(ctx context.Context) (PruneResult, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return PruneResult{}, err
	}
	var dead []string
	for _, k := range rows {
		if k.Status.Dead() {
			dead = append(dead, k.ID)
		}
	}
	now := v.now()
	moved, err := v.store.Quarantine(ctx, dead, now)
	if err != nil {
		return PruneResult{}, err
	}
	v.pool.Remove(moved...)
	v.log.Info("dead keys quarantined", "count", len(moved))
	if moved == nil {
		moved = []string{}
	}
	return PruneResult{Quarantined: len(moved), IDs: moved, Until: now.Add(v.QuarantineFor)}, nil
}

// Quarantine moves keys to quarantine by hand (a soft delete that Restore
// undoes). It returns the ids moved.
func (v *Vault) Quarantine(ctx context.Context, ids []string) ([]string, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	moved, err := v.store.Quarantine(ctx, ids, v.now())
	if err != nil {
		return nil, err
	}
	v.pool.Remove(moved...)
	return moved, nil
}

// Restore brings quarantined keys back with the status they had (undo of
// Prune). A key whose secret is no longer in the keychain comes back as
// "secret_missing". It returns the restored keys.
func (v *Vault) Restore(ctx context.Context, ids []string) ([]KeyInfo, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	keys, err := v.store.Restore(ctx, ids)
	if err != nil {
		return nil, err
	}
	var fetch []string
	for _, k := range keys {
		if _, ok := v.cached(k.ID); !ok {
			fetch = append(fetch, k.ID)
		}
	}
	found, missing, kerr := v.getSecrets(ctx, fetch)
	for id, s := range found {
		v.setCached(id, apikey.NewSecret(s))
	}
	if len(missing) > 0 {
		if _, err := v.store.Transition(ctx, missing, allStatuses, store.StatusSecretMissing, "the keychain has no secret for this key"); err != nil {
			return nil, err
		}
	}
	keys, err = v.store.GetKeys(ctx, idsOf(keys))
	if err != nil {
		return nil, err
	}
	v.syncPool(keys)
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = infoOf(k)
	}
	v.log.Info("keys restored", "count", len(keys))
	if kerr != nil {
		return out, kerr
	}
	return out, nil
}

// Purge deletes quarantined keys for good now (ids; nil: all quarantined).
func (v *Vault) Purge(ctx context.Context, ids []string) (DeleteResult, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	if ids == nil {
		var err error
		ids, err = v.store.QuarantinedBefore(ctx, time.Unix(1<<40, 0))
		if err != nil {
			return DeleteResult{}, err
		}
	}
	return v.deleteLocked(ctx, ids, []store.Status{store.StatusQuarantined})
}

// PurgeExpired deletes the keys quarantined longer than QuarantineFor. The
// app calls it periodically and on start.
func (v *Vault) PurgeExpired(ctx context.Context) (DeleteResult, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	ids, err := v.store.QuarantinedBefore(ctx, v.now().Add(-v.QuarantineFor))
	if err != nil {
		return DeleteResult{}, err
	}
	return v.deleteLocked(ctx, ids, []store.Status{store.StatusQuarantined})
}

// --- verdicts from traffic -----------------------------------------------------

// MarkDead records that live traffic found a key dead (the proxy already
// disabled it in the pool): status invalid / expired / denied with the
// reason, so the UI shows it and Prune can remove it. Results other than
// those three are ignored.
func (v *Vault) MarkDead(ctx context.Context, id string, result CheckResult, reason string) error {
	verdict := verdictStatus(result)
	if !verdict.Dead() {
		return nil
	}
	keys, err := v.store.ApplyChecks(ctx, []store.CheckUpdate{{ID: id, Verdict: verdict, Result: string(result), Reason: reason, CheckedAt: v.now()}})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, ok := v.cached(k.ID); ok && inPool(k.Status) {
			v.setPoolState(k)
		}
	}
	return nil
}

// httpClient returns the client of the options or a default one.
func (o CheckOptions) httpClient() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return http.DefaultClient
}
