// Package store keeps the app's metadata in one SQLite file (gorm with the
// pure-Go glebarez/sqlite driver): the key index (never the key itself —
// secrets live in the keychain), settings, usage statistics and the request
// log.
//
// The database runs in WAL mode with synchronous=FULL, a busy timeout,
// foreign keys on and IMMEDIATE write transactions. A transaction that
// returned nil is on disk: a crash of the process (kill -9) or of the
// machine right after it loses nothing. Schema changes are ordered
// migrations recorded in the schema_version table; Open runs the missing
// ones, each in its own transaction, so opening twice is harmless.
//
// Times are stored as Unix milliseconds (usage buckets as Unix seconds);
// the API speaks time.Time, with the zero time meaning "never".
//
// The package imports neither app nor proxy: callers convert their own
// types to [NewKey] and [UsageEvent].
package store
