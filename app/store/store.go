package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the app's SQLite database. It is safe for concurrent use.
type Store struct {
	db  *gorm.DB
	log *slog.Logger
}

// pragmas are applied to every connection of the pool.
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	// FULL: in WAL mode every commit fsyncs the WAL. NORMAL would already
	// survive kill -9 (the OS keeps the written pages), but a power loss
	// could drop the last commits — and the key vault reports a key "added"
	// only after its commit. Our writes are batched, so the cost is a few
	// fsyncs per second at most.
	"synchronous(FULL)",
	"foreign_keys(1)",
}

// maxConns bounds the connection pool: WAL allows readers alongside one
// writer; writers queue on the busy timeout.
const maxConns = 4

// Open opens (creating if needed) the database at path, applies the
// pragmas and runs the pending migrations. The directory is created with
// mode 0700. log receives migration and maintenance messages.
func Open(path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: database path %q must not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	q := make([]string, 0, len(pragmas)+1)
	for _, p := range pragmas {
		q = append(q, "_pragma="+p)
	}
	// IMMEDIATE: a write transaction takes the write lock when it begins,
	// so two writers never deadlock upgrading read locks (SQLITE_BUSY).
	q = append(q, "_txlock=immediate")
	dsn := path + "?" + strings.Join(q, "&")
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	s := &Store{db: db, log: log}
	if err := s.migrate(context.Background()); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v).Error
	return v, err
}

// ErrKeyNotFound is returned by methods addressing one key that does not
// exist.
var ErrKeyNotFound = errors.New("store: key not found")

// ms converts t to Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts Unix milliseconds to a UTC time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// chunks splits ids into slices of at most n (SQLite limits bound variables).
func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// chunkSize bounds the ids bound in one statement, insertRows the rows of
// one multi-row INSERT (SQLite limits bound variables per statement).
const (
	chunkSize  = 500
	insertRows = 200
)

// jsonStrings encodes ids as a JSON array for json_each().
func jsonStrings(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// statsTx runs fn in one transaction on a connection that does not fsync
// at commit (synchronous=NORMAL, in WAL mode: the WAL is synced at
// checkpoints). Statistics are not worth an fsync per batch: a power loss
// may drop the last seconds of them, a crash (kill -9) loses nothing.
// Everything else keeps synchronous=FULL.
func (s *Store) statsTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Connection(func(c *gorm.DB) error {
		if err := c.Exec(`PRAGMA synchronous = NORMAL`).Error; err != nil {
			return err
		}
		err := c.Transaction(fn)
		// Back to the pool's setting, even when ctx has ended.
		if rerr := c.WithContext(context.WithoutCancel(ctx)).Exec(`PRAGMA synchronous = FULL`).Error; rerr != nil && err == nil {
			err = rerr
		}
		return err
	})
}

// Scrub rewrites the database file (VACUUM) and empties the WAL, so that
// deleted or overwritten values (e.g. secrets an older version stored in
// plaintext) no longer linger in free pages or old WAL frames.
func (s *Store) Scrub(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.Exec(`VACUUM`).Error; err != nil {
		return fmt.Errorf("store: vacuum: %w", err)
	}
	if err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`).Error; err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}
