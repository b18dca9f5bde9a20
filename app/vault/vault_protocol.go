package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// The crash-safe protocols (see the Vault doc): add, delete, reconcile.

// --- add ---------------------------------------------------------------------

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
	return v.AddExtracted(ctx, apikey.Extract(text), progress)
}

// AddExtracted is AddBulkProgress for text already read by apikey.Extract.
func (v *Vault) AddExtracted(ctx context.Context, ext apikey.Extraction, progress func(done, total int)) (AddResult, error) {
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
	if _, ok := v.kc().(keychain.Batcher); ok {
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
		res.Error = KeychainProblem(kerr)
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
// KeychainProblem says in the user's words why the secret store failed.
func KeychainProblem(err error) string {
	if errors.Is(err, keychain.ErrUnavailable) {
		return "The keychain is not available (" + err.Error() + "). Unlock it, or move the keys to the encrypted file store (the command secret-store move file)."
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
		res.Error = KeychainProblem(kerr)
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
//
// The phases: finish interrupted deletes (finishDeletes), read every other
// secret and settle the rows by what the keychain said (settleRows), keep
// the secrets (recache) and hand the usable keys to the pool (repool).
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
	for _, k := range rows {
		if k.Status == store.StatusDeleting {
			deleting = append(deleting, k.ID)
		} else {
			fetch = append(fetch, k.ID)
		}
	}
	kerr, err := v.finishDeletes(ctx, deleting, &rep)
	if err != nil {
		return rep, err
	}
	found, missing := map[string]string{}, []string(nil)
	if kerr == nil {
		found, missing, kerr = v.getSecrets(ctx, fetch)
	}
	rep.Unknown = len(fetch) - len(found) - len(missing)
	if err := v.settleRows(ctx, rows, found, missing, &rep); err != nil {
		return rep, err
	}
	v.recache(fetch, found, missing)
	if err := v.repool(ctx, &rep); err != nil {
		return rep, err
	}
	if kerr != nil {
		rep.KeychainError = KeychainProblem(kerr)
		v.log.Error("keychain unavailable: keys without a loaded secret are not served", "unknown", rep.Unknown, "err", kerr)
	}
	v.log.Info("keys reconciled", "keys", rep.Keys, "pooled", rep.Pooled, "active", rep.Active,
		"secret_missing", rep.SecretMissing, "revived", rep.Revived, "adds_finished", rep.AddsFinished,
		"adds_dropped", rep.AddsDropped, "deleted", rep.Deleted, "unknown", rep.Unknown)
	return rep, nil
}

// finishDeletes completes interrupted deletes. kerr is the keychain's
// error (the rows whose secret could not be removed stay "deleting"), err
// the store's.
func (v *Vault) finishDeletes(ctx context.Context, deleting []string, rep *ReconcileReport) (kerr, err error) {
	if len(deleting) == 0 {
		return nil, nil
	}
	gone, kerr := v.deleteSecrets(ctx, deleting)
	if _, err := v.store.Delete(ctx, gone); err != nil {
		return kerr, err
	}
	rep.Deleted = len(gone)
	v.pool.Remove(deleting...)
	v.hook("reconcile.deletes")
	return kerr, nil
}

// settleRows applies what the keychain said: interrupted adds whose
// secret landed are finished and the others dropped, rows without a
// secret become "secret_missing", and missing rows whose secret is back
// revive. Quarantined rows keep their status: Restore finds out about the
// secret if the user brings them back.
func (v *Vault) settleRows(ctx context.Context, rows []store.Key, found map[string]string, missing []string, rep *ReconcileReport) error {
	status := make(map[string]store.Status, len(rows))
	for _, k := range rows {
		status[k.ID] = k.Status
	}
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
		return err
	}
	v.hook("reconcile.finish")
	if _, err := v.store.Delete(ctx, drop); err != nil {
		return err
	}
	if _, err := v.store.Transition(ctx, markMissing, liveStatuses, store.StatusSecretMissing, "the keychain has no secret for this key"); err != nil {
		return err
	}
	revived, err := v.store.Revive(ctx, revive)
	if err != nil {
		return err
	}
	rep.AddsFinished, rep.AddsDropped, rep.SecretMissing, rep.Revived = len(finish), len(drop), len(markMissing), len(revived)
	revivedSet := setOf(revive)
	for _, k := range rows {
		if k.Status == store.StatusSecretMissing && !revivedSet[k.ID] {
			rep.SecretMissing++
		}
	}
	return nil
}

// recache keeps the secrets just read, plus (for rows the keychain did not
// answer about) the secrets loaded earlier: an unavailable keychain does
// not take keys away from a running proxy.
func (v *Vault) recache(fetch []string, found map[string]string, missing []string) {
	missingSet := setOf(missing)
	v.mu.Lock()
	defer v.mu.Unlock()
	next := make(map[string]apikey.Secret, len(found))
	for _, id := range fetch {
		if s, ok := found[id]; ok {
			next[id] = apikey.NewSecret(s)
		} else if old, ok := v.cache[id]; ok && !missingSet[id] {
			next[id] = old
		}
	}
	v.cache = next
}

// repool replaces the pool's key set with the stored keys whose secret is
// cached, each enabled or disabled by its status.
func (v *Vault) repool(ctx context.Context, rep *ReconcileReport) error {
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return err
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
	return nil
}
