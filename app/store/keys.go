package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Status is the state of a key.
type Status string

// Key statuses. Only StatusActive keys serve traffic. StatusAdding and
// StatusDeleting are intents of the key vault's crash-safe protocol: they
// are written before the keychain is touched and resolved by the next
// reconcile, and are hidden from listings unless asked for.
const (
	StatusAdding        Status = "adding"         // row written, keychain write not confirmed yet
	StatusActive        Status = "active"         // in rotation
	StatusDisabled      Status = "disabled"       // disabled by hand
	StatusInvalid       Status = "invalid"        // Google says the key is not valid (dead)
	StatusExpired       Status = "expired"        // Google says the key expired (dead)
	StatusDenied        Status = "denied"         // disabled by Google: permission denied, API disabled, suspended (dead)
	StatusSecretMissing Status = "secret_missing" // the keychain has no secret for this row
	StatusQuarantined   Status = "quarantined"    // pruned or deleted softly; can be restored until purged
	StatusDeleting      Status = "deleting"       // deletion asked; keychain item being removed
)

// Dead reports whether s is a verdict that the key will never work again
// (invalid, expired, denied). Only dead keys are pruned.
func (s Status) Dead() bool {
	return s == StatusInvalid || s == StatusExpired || s == StatusDenied
}

// Transient reports whether s is an intent of the add/delete protocol.
func (s Status) Transient() bool {
	return s == StatusAdding || s == StatusDeleting
}

// Key is one key's metadata. The secret itself is never in the database.
type Key struct {
	ID          string // stable id, "k" + fingerprint; also the keychain account
	Fingerprint string // SHA-256 prefix of the key
	Preview     string // masked key, "AIza…wxyz"
	Label       string
	Status      Status
	PrevStatus  Status // status to return to after quarantine or a missing secret
	Reason      string // why the status is what it is (human text)
	LastResult  string // result of the last check (ok, invalid, rate_limited, …)

	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastCheckedAt time.Time // zero: never checked
	LastUsedAt    time.Time // zero: never used
	DeletedAt     time.Time // when quarantined; zero otherwise

	Requests int64 // requests served with this key
	Failures int64 // requests that failed (any class but ok and canceled)
	Tokens   int64 // prompt + output + thought tokens
}

// keyRow is the table row.
type keyRow struct {
	ID            string
	Fingerprint   string
	Preview       string
	Label         string
	Status        string
	PrevStatus    string
	Reason        string
	LastResult    string
	CreatedAt     int64
	UpdatedAt     int64
	LastCheckedAt int64
	LastUsedAt    int64
	DeletedAt     int64
	Requests      int64
	Failures      int64
	Tokens        int64
}

const keyColumns = `id, fingerprint, preview, label, status, prev_status, reason, last_result,
	created_at, updated_at, last_checked_at, last_used_at, deleted_at, requests, failures, tokens`

func (r keyRow) key() Key {
	return Key{
		ID: r.ID, Fingerprint: r.Fingerprint, Preview: r.Preview, Label: r.Label,
		Status: Status(r.Status), PrevStatus: Status(r.PrevStatus), Reason: r.Reason, LastResult: r.LastResult,
		CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt), LastCheckedAt: fromMS(r.LastCheckedAt),
		LastUsedAt: fromMS(r.LastUsedAt), DeletedAt: fromMS(r.DeletedAt),
		Requests: r.Requests, Failures: r.Failures, Tokens: r.Tokens,
	}
}

func toKeys(rows []keyRow) []Key {
	out := make([]Key, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out
}

// NewKey describes a key to add.
type NewKey struct {
	ID          string
	Fingerprint string
	Preview     string
	Label       string
	Status      Status    // empty → StatusActive
	CreatedAt   time.Time // zero → now
}

// AddResult says what AddKeys did.
type AddResult struct {
	Added    []string // ids inserted, in input order
	Existing []Key    // rows that were already there (unchanged), in input order
}

// AddKeys inserts the keys whose id is not in the table yet, in one
// transaction: either all new rows are stored or none. Duplicate ids in
// keys count once.
func (s *Store) AddKeys(ctx context.Context, keys []NewKey) (AddResult, error) {
	var res AddResult
	if len(keys) == 0 {
		return res, nil
	}
	now := time.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res = AddResult{}
		ids := make([]string, 0, len(keys))
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		existing, err := getKeys(tx, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]Key, len(existing))
		for _, k := range existing {
			byID[k.ID] = k
		}
		seen := make(map[string]bool, len(keys))
		var rows []keyRow
		for _, k := range keys {
			if k.ID == "" {
				return fmt.Errorf("store: AddKeys: empty key id")
			}
			if seen[k.ID] {
				continue
			}
			seen[k.ID] = true
			if e, ok := byID[k.ID]; ok {
				res.Existing = append(res.Existing, e)
				continue
			}
			st := k.Status
			if st == "" {
				st = StatusActive
			}
			created := k.CreatedAt
			if created.IsZero() {
				created = now
			}
			rows = append(rows, keyRow{
				ID: k.ID, Fingerprint: k.Fingerprint, Preview: k.Preview, Label: k.Label,
				Status: string(st), CreatedAt: ms(created), UpdatedAt: ms(now),
			})
			res.Added = append(res.Added, k.ID)
		}
		for _, c := range chunks(rows, insertRows) {
			var b strings.Builder
			args := make([]any, 0, len(c)*7)
			b.WriteString(`INSERT INTO keys (id, fingerprint, preview, label, status, created_at, updated_at) VALUES `)
			for i, r := range c {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?,?,?)")
				args = append(args, r.ID, r.Fingerprint, r.Preview, r.Label, r.Status, r.CreatedAt, r.UpdatedAt)
			}
			if err := tx.Exec(b.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return AddResult{}, fmt.Errorf("store: add keys: %w", err)
	}
	return res, nil
}

// getKeys returns the rows among ids, in the order of ids.
func getKeys(tx *gorm.DB, ids []string) ([]Key, error) {
	found := make(map[string]keyRow, len(ids))
	for _, c := range chunks(ids, chunkSize) {
		var rows []keyRow
		if err := tx.Raw(`SELECT `+keyColumns+` FROM keys WHERE id IN ?`, c).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			found[r.ID] = r
		}
	}
	out := make([]Key, 0, len(found))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			out = append(out, r.key())
			delete(found, id)
		}
	}
	return out, nil
}

// GetKeys returns the keys among ids that exist, in the order of ids.
func (s *Store) GetKeys(ctx context.Context, ids []string) ([]Key, error) {
	keys, err := getKeys(s.db.WithContext(ctx), ids)
	if err != nil {
		return nil, fmt.Errorf("store: get keys: %w", err)
	}
	return keys, nil
}

// GetKey returns one key, ErrKeyNotFound if it does not exist.
func (s *Store) GetKey(ctx context.Context, id string) (Key, error) {
	keys, err := s.GetKeys(ctx, []string{id})
	if err != nil {
		return Key{}, err
	}
	if len(keys) == 0 {
		return Key{}, ErrKeyNotFound
	}
	return keys[0], nil
}

// AllKeys returns every row, transient ones included, oldest first.
func (s *Store) AllKeys(ctx context.Context) ([]Key, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Raw(`SELECT ` + keyColumns + ` FROM keys ORDER BY created_at, rowid`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: all keys: %w", err)
	}
	return toKeys(rows), nil
}

// KeySort names a sort order for ListKeys.
type KeySort string

// Sort orders. Ties are broken by the order the keys were stored in (the
// order of a paste, whose keys share one creation time), so pages are
// stable and a paste lists as it was pasted.
const (
	SortCreated     KeySort = "created"
	SortLastUsed    KeySort = "last_used"
	SortLastChecked KeySort = "last_checked"
	SortRequests    KeySort = "requests"
	SortFailures    KeySort = "failures"
	SortTokens      KeySort = "tokens"
	SortStatus      KeySort = "status"
	SortLabel       KeySort = "label"
)

var sortColumns = map[KeySort]string{
	"":              "created_at",
	SortCreated:     "created_at",
	SortLastUsed:    "last_used_at",
	SortLastChecked: "last_checked_at",
	SortRequests:    "requests",
	SortFailures:    "failures",
	SortTokens:      "tokens",
	SortStatus:      "status",
	SortLabel:       "label",
}

// Page sizes for ListKeys.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// KeyFilter selects and orders keys for ListKeys.
type KeyFilter struct {
	// Statuses keeps keys in one of these statuses. Empty: every status
	// except the transient StatusAdding and StatusDeleting.
	Statuses []Status
	// Search keeps keys whose masked preview ends with it or whose label
	// contains it (case-insensitive). The preview holds the last 4
	// characters of the key; longer suffixes must be resolved by the caller
	// (who holds the secrets) into IDs.
	Search string
	// SearchIDs also match Search: the caller resolves suffixes longer than
	// the preview against the secrets it holds.
	SearchIDs []string
	// IDs, when non-nil, keeps only these keys (an empty non-nil slice
	// matches nothing).
	IDs []string
	// Sort is the order (default SortCreated), Desc reverses it.
	Sort KeySort
	Desc bool
	// Offset skips keys; Limit caps the page (0 → DefaultPageSize, at most
	// MaxPageSize).
	Offset int
	Limit  int
}

// KeyPage is one page of ListKeys.
type KeyPage struct {
	Keys   []Key
	Total  int // keys matching the filter, all pages
	Offset int
	Limit  int
}

// likeEscape escapes LIKE wildcards; the pattern uses ESCAPE '\'.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// ListKeys returns one page of the keys matching f, with the total count.
func (s *Store) ListKeys(ctx context.Context, f KeyFilter) (KeyPage, error) {
	col, ok := sortColumns[f.Sort]
	if !ok {
		return KeyPage{}, fmt.Errorf("store: unknown sort %q", f.Sort)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	offset := max(f.Offset, 0)
	page := KeyPage{Offset: offset, Limit: limit, Keys: []Key{}}
	if f.IDs != nil && len(f.IDs) == 0 {
		return page, nil
	}
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, v := range f.Statuses {
			st[i] = string(v)
		}
		where = append(where, "status IN ?")
		args = append(args, st)
	} else {
		where = append(where, "status NOT IN ?")
		args = append(args, []string{string(StatusAdding), string(StatusDeleting)})
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		e := likeEscape(q)
		where = append(where, `(preview LIKE ? ESCAPE '\' OR label LIKE ? ESCAPE '\' OR id IN (SELECT value FROM json_each(?)))`)
		args = append(args, "%"+e, "%"+e+"%", jsonStrings(f.SearchIDs))
	}
	if f.IDs != nil {
		// Large id sets go through a temporary JSON array to stay under
		// SQLite's bound-variable limit.
		where = append(where, "id IN (SELECT value FROM json_each(?))")
		args = append(args, jsonStrings(f.IDs))
	}
	cond := strings.Join(where, " AND ")
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Raw(`SELECT COUNT(*) FROM keys WHERE `+cond, args...).Scan(&total).Error; err != nil {
		return KeyPage{}, fmt.Errorf("store: list keys: %w", err)
	}
	page.Total = int(total)
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	var rows []keyRow
	q := `SELECT ` + keyColumns + ` FROM keys WHERE ` + cond +
		` ORDER BY ` + col + ` ` + dir + `, rowid ` + dir + ` LIMIT ? OFFSET ?`
	if err := db.Raw(q, append(args, limit, offset)...).Scan(&rows).Error; err != nil {
		return KeyPage{}, fmt.Errorf("store: list keys: %w", err)
	}
	page.Keys = toKeys(rows)
	return page, nil
}

// CountByStatus returns how many keys have each status.
func (s *Store) CountByStatus(ctx context.Context) (map[Status]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT status, COUNT(*) AS n FROM keys GROUP BY status`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: count keys: %w", err)
	}
	out := make(map[Status]int, len(rows))
	for _, r := range rows {
		out[Status(r.Status)] = r.N
	}
	return out, nil
}

// SetStatus sets a key's status and reason; a non-zero checkedAt also sets
// the last check time. ErrKeyNotFound if the key does not exist.
func (s *Store) SetStatus(ctx context.Context, id string, status Status, reason string, checkedAt time.Time) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE keys SET status = ?, reason = ?, updated_at = ?,
		last_checked_at = CASE WHEN ? = 0 THEN last_checked_at ELSE ? END WHERE id = ?`,
		string(status), reason, time.Now().UnixMilli(), ms(checkedAt), ms(checkedAt), id)
	if res.Error != nil {
		return fmt.Errorf("store: set status: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrKeyNotFound
	}
	return nil
}

// CheckUpdate is the stored outcome of checking one key.
type CheckUpdate struct {
	ID string
	// Verdict is what the check says about the key's status:
	//   - a dead status (invalid, expired, denied) replaces any live status
	//     (active, disabled, or another dead one);
	//   - StatusActive revives a dead key, but a key disabled by hand stays
	//     disabled;
	//   - empty changes nothing (rate limits, region refusals, network
	//     errors say nothing about the key).
	// Keys that are adding, deleting, quarantined or missing their secret
	// keep their status whatever the verdict.
	Verdict   Status
	Result    string // check result shown to the user (ok, invalid, rate_limited, …)
	Reason    string
	CheckedAt time.Time
}

// ApplyChecks stores many check outcomes in one transaction and returns the
// updated keys (with their resulting status), in input order. Keys that
// vanished meanwhile are skipped. The status rules are in CheckUpdate.
func (s *Store) ApplyChecks(ctx context.Context, updates []CheckUpdate) ([]Key, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	now := time.Now().UnixMilli()
	var out []Key
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ids := make([]string, 0, len(updates))
		for _, u := range updates {
			v := string(u.Verdict)
			err := tx.Exec(`UPDATE keys SET
				status = CASE
					WHEN status IN ('adding', 'deleting', 'quarantined', 'secret_missing') THEN status
					WHEN ? IN ('invalid', 'expired', 'denied') THEN ?
					WHEN ? = 'active' AND status IN ('invalid', 'expired', 'denied') THEN 'active'
					ELSE status END,
				reason = CASE WHEN status = 'disabled' AND ? NOT IN ('invalid', 'expired', 'denied') THEN reason ELSE ? END,
				last_result = ?, last_checked_at = ?, updated_at = ?
				WHERE id = ?`,
				v, v, v, v, u.Reason, u.Result, ms(u.CheckedAt), now, u.ID).Error
			if err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		var err error
		out, err = getKeys(tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply checks: %w", err)
	}
	return out, nil
}

// SetLabel sets a key's label. ErrKeyNotFound if it does not exist.
func (s *Store) SetLabel(ctx context.Context, id, label string) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE keys SET label = ?, updated_at = ? WHERE id = ?`, label, time.Now().UnixMilli(), id)
	if res.Error != nil {
		return fmt.Errorf("store: set label: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrKeyNotFound
	}
	return nil
}

// Transition moves the keys among ids whose status is in from to status
// to, remembering the old status in PrevStatus, with reason. It returns
// the ids that changed (in the order of ids). One transaction.
func (s *Store) Transition(ctx context.Context, ids []string, from []Status, to Status, reason string) ([]string, error) {
	var changed []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		changed, err = moveKeys(tx, ids, from,
			`UPDATE keys SET prev_status = status, status = ?, reason = ?, updated_at = ? WHERE id IN ?`,
			string(to), reason, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: transition keys to %s: %w", to, err)
	}
	return changed, nil
}

// moveKeys runs update, a statement ending in "WHERE id IN ?", on the keys
// among ids whose status is in from, a chunk at a time with args before the
// chunk's ids. It returns the ids it updated, in the order of ids.
func moveKeys(tx *gorm.DB, ids []string, from []Status, update string, args ...any) ([]string, error) {
	keys, err := getKeys(tx, ids)
	if err != nil {
		return nil, err
	}
	var move []string
	for _, k := range keys {
		if slices.Contains(from, k.Status) {
			move = append(move, k.ID)
		}
	}
	for _, c := range chunks(move, chunkSize) {
		if err := tx.Exec(update, append(slices.Clip(args), c)...).Error; err != nil {
			return nil, err
		}
	}
	return move, nil
}

// quarantinable are the statuses Quarantine accepts.
var quarantinable = []Status{StatusActive, StatusDisabled, StatusInvalid, StatusExpired, StatusDenied, StatusSecretMissing}

// Quarantine moves keys to StatusQuarantined (soft delete) at time at,
// remembering their status for Restore. Transient and already quarantined
// keys are left alone. It returns the ids that changed.
func (s *Store) Quarantine(ctx context.Context, ids []string, at time.Time) ([]string, error) {
	var changed []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		changed, err = moveKeys(tx, ids, quarantinable,
			`UPDATE keys SET prev_status = status, status = 'quarantined', deleted_at = ?, updated_at = ? WHERE id IN ?`,
			ms(at), time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: quarantine: %w", err)
	}
	return changed, nil
}

// Restore brings quarantined keys among ids back to the status they had
// (active if unknown). It returns the restored keys.
func (s *Store) Restore(ctx context.Context, ids []string) ([]Key, error) {
	keys, err := s.backToPrev(ctx, ids, StatusQuarantined)
	if err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	return keys, nil
}

// Revive returns keys among ids marked StatusSecretMissing to the status
// they had before (active if unknown), once their secret is back. It
// returns the revived keys.
func (s *Store) Revive(ctx context.Context, ids []string) ([]Key, error) {
	keys, err := s.backToPrev(ctx, ids, StatusSecretMissing)
	if err != nil {
		return nil, fmt.Errorf("store: revive: %w", err)
	}
	return keys, nil
}

// backToPrev moves keys in status from back to their previous status when
// it is a settled one (active, disabled, dead), to active otherwise.
func (s *Store) backToPrev(ctx context.Context, ids []string, from Status) ([]Key, error) {
	var out []Key
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		move, err := moveKeys(tx, ids, []Status{from}, `UPDATE keys SET
				status = CASE WHEN prev_status IN ('active', 'disabled', 'invalid', 'expired', 'denied') THEN prev_status ELSE 'active' END,
				prev_status = '', deleted_at = 0, updated_at = ? WHERE id IN ?`, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		out, err = getKeys(tx, move)
		return err
	})
	return out, err
}

// QuarantinedBefore returns the ids of the keys quarantined before t,
// oldest first.
func (s *Store) QuarantinedBefore(ctx context.Context, t time.Time) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM keys WHERE status = 'quarantined' AND deleted_at < ? ORDER BY deleted_at, id`, ms(t)).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: quarantined keys: %w", err)
	}
	return ids, nil
}

// Delete removes the rows of ids (whatever their status) in one
// transaction and returns how many existed. Usage history is kept.
func (s *Store) Delete(ctx context.Context, ids []string) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n = 0
		for _, c := range chunks(ids, chunkSize) {
			res := tx.Exec(`DELETE FROM keys WHERE id IN ?`, c)
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete keys: %w", err)
	}
	return int(n), nil
}
