package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one schema step. Steps are applied in order, each in its own
// transaction together with its schema_version row, and never edited once
// released: a change is a new step.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

// migrations is the ordered schema history.
var migrations = []migration{
	{1, "keys, settings, usage, request log", migrate1},
	{2, "one vocabulary for key verdicts", migrate2},
	{3, "request log queue", migrate3},
}

func execAll(tx *gorm.DB, stmts ...string) error {
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	return nil
}

func firstLine(q string) string {
	for i, c := range q {
		if c == '\n' || c == '(' {
			return q[:i]
		}
	}
	return q
}

func migrate1(tx *gorm.DB) error {
	return execAll(tx,
		`CREATE TABLE keys (
			id              TEXT PRIMARY KEY,
			fingerprint     TEXT NOT NULL,
			preview         TEXT NOT NULL,
			label           TEXT NOT NULL DEFAULT '',
			status          TEXT NOT NULL,
			prev_status     TEXT NOT NULL DEFAULT '',
			reason          TEXT NOT NULL DEFAULT '',
			last_result     TEXT NOT NULL DEFAULT '',
			created_at      INTEGER NOT NULL,
			updated_at      INTEGER NOT NULL,
			last_checked_at INTEGER NOT NULL DEFAULT 0,
			last_used_at    INTEGER NOT NULL DEFAULT 0,
			requests        INTEGER NOT NULL DEFAULT 0,
			failures        INTEGER NOT NULL DEFAULT 0,
			tokens          INTEGER NOT NULL DEFAULT 0,
			deleted_at      INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX keys_status ON keys(status)`,
		`CREATE INDEX keys_created ON keys(created_at, id)`,
		`CREATE TABLE settings (
			name       TEXT PRIMARY KEY,
			value      TEXT NOT NULL,
			updated_at INTEGER NOT NULL
		)`,
		// One row per (bucket, key, model, outcome class); bucket is the Unix
		// second the minute / hour starts.
		`CREATE TABLE usage_minute (
			bucket         INTEGER NOT NULL,
			key_id         TEXT NOT NULL,
			model          TEXT NOT NULL,
			class          TEXT NOT NULL,
			requests       INTEGER NOT NULL DEFAULT 0,
			prompt_tokens  INTEGER NOT NULL DEFAULT 0,
			output_tokens  INTEGER NOT NULL DEFAULT 0,
			thought_tokens INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (bucket, key_id, model, class)
		) WITHOUT ROWID`,
		`CREATE TABLE usage_hour (
			bucket         INTEGER NOT NULL,
			key_id         TEXT NOT NULL,
			model          TEXT NOT NULL,
			class          TEXT NOT NULL,
			requests       INTEGER NOT NULL DEFAULT 0,
			prompt_tokens  INTEGER NOT NULL DEFAULT 0,
			output_tokens  INTEGER NOT NULL DEFAULT 0,
			thought_tokens INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (bucket, key_id, model, class)
		) WITHOUT ROWID`,
		`CREATE TABLE request_log (
			id             INTEGER PRIMARY KEY,
			time           INTEGER NOT NULL,
			route          TEXT NOT NULL,
			model          TEXT NOT NULL,
			key_id         TEXT NOT NULL,
			status         INTEGER NOT NULL,
			attempts       INTEGER NOT NULL,
			class          TEXT NOT NULL,
			latency_ms     INTEGER NOT NULL,
			stream         INTEGER NOT NULL,
			prompt_tokens  INTEGER NOT NULL,
			output_tokens  INTEGER NOT NULL,
			thought_tokens INTEGER NOT NULL
		)`,
		`CREATE INDEX request_log_time ON request_log(time)`,
	)
}

// migrate2 renames stored verdicts to the one vocabulary: the check result
// "disabled" (by Google) is "denied", like the status it leads to
// ("disabled" is left to keys disabled by hand); a key that traffic found
// expired was stored "invalid" with the reason "API key expired": it is
// "expired", as a check would have stored it.
func migrate2(tx *gorm.DB) error {
	return execAll(tx,
		`UPDATE keys SET last_result = 'denied' WHERE last_result = 'disabled'`,
		`UPDATE keys SET status = 'expired' WHERE status = 'invalid' AND reason = 'API key expired'`,
		`UPDATE keys SET prev_status = 'expired' WHERE prev_status = 'invalid' AND reason = 'API key expired'`,
		`UPDATE keys SET last_result = 'expired' WHERE last_result = 'invalid' AND reason = 'API key expired'`,
	)
}

// migrate3 adds the queue of request-log batches (see FlushLog): one row
// per recorded batch, its rows as the JSON array RecordBatch built, hex
// when its strings are hex-encoded, n its row count.
func migrate3(tx *gorm.DB) error {
	return execAll(tx,
		`CREATE TABLE request_log_pending (
			id   INTEGER PRIMARY KEY,
			rows TEXT NOT NULL,
			hex  INTEGER NOT NULL,
			n    INTEGER NOT NULL
		)`,
	)
}

// migrate applies the migrations newer than the database's version. A
// database written by a newer app (a version this binary does not know) is
// refused rather than guessed at.
func (s *Store) migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`).Error; err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	current, err := s.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	latest := migrations[len(migrations)-1].version
	if current > latest {
		return fmt.Errorf("store: the database has schema version %d, newer than this app knows (%d); use a newer version of the app", current, latest)
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			// Re-check inside the write lock: another process may have
			// migrated in between.
			var done int64
			if err := tx.Raw(`SELECT COUNT(*) FROM schema_version WHERE version = ?`, m.version).Scan(&done).Error; err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			if err := m.up(tx); err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO schema_version(version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixMilli()).Error
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
		s.log.Info("database migrated", "version", m.version, "step", m.name)
	}
	return nil
}
