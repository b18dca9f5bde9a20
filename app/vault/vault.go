package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/gemini"
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

// SetHook sets the function called at the steps of the crash-safe
// protocols (crash tests kill the process there); nil: none.
func (v *Vault) SetHook(f func(point string)) { v.testHook = f }

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
	s, err := v.kc().Get(ctx, id)
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

// GetMany returns the stored keys among ids, by id (ids not stored are
// absent).
func (v *Vault) GetMany(ctx context.Context, ids []string) (map[string]KeyInfo, error) {
	out := map[string]KeyInfo{}
	ids = uniq(ids)
	if len(ids) == 0 {
		return out, nil
	}
	keys, err := v.store.GetKeys(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		out[k.ID] = infoOf(k)
	}
	return out, nil
}

// Quarantined returns the ids of every quarantined key.
func (v *Vault) Quarantined(ctx context.Context) ([]string, error) {
	return v.store.QuarantinedBefore(ctx, time.Unix(1<<40, 0))
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

// MaxLabel bounds a label's length (in bytes).
const MaxLabel = 200

// SetLabel sets a key's label (trimmed; at most 200 bytes).
func (v *Vault) SetLabel(ctx context.Context, id, label string) error {
	label = strings.TrimSpace(label)
	if len(label) > MaxLabel {
		return fmt.Errorf("label too long (%d bytes, at most %d)", len(label), MaxLabel)
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
// reason, so the UI shows it and Prune can remove it. Classes that do not
// make a key dead (see keyOutcomes) are ignored.
func (v *Vault) MarkDead(ctx context.Context, id string, class gemini.Class, reason string) error {
	o := outcomeOf(class)
	if !o.status.Dead() {
		return nil
	}
	keys, err := v.store.ApplyChecks(ctx, []store.CheckUpdate{{ID: id, Verdict: o.status, Result: string(o.result), Reason: reason, CheckedAt: v.now()}})
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
