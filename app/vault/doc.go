// Package vault keeps the API keys: the secrets in a keychain.Store (the OS
// keychain or the encrypted file store), their index and metadata in the
// SQLite store, and the running pool in line with both. Adding and deleting
// follow crash-safe protocols (a kill -9 at any step loses nothing and
// leaves no orphan); Reconcile finishes what a crash interrupted; Check
// asks Google about keys without spending quota; Prune quarantines dead
// keys, undoably. It knows nothing of the app around it: the app, the
// management API, the tray and the command line call its methods.
package vault
