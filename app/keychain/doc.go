// Package keychain stores API key secrets outside SQLite: in the OS keychain
// (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
// through go-keyring, in an explicit passphrase-encrypted file for headless
// machines, or in memory for tests.
//
// Every implementation satisfies [Store]. Errors are classified with
// [ErrNotFound] (the account has no secret) and [ErrUnavailable] (the
// keychain cannot be used right now: no Secret Service, a locked keyring, a
// timeout); test them with errors.Is. Error texts never contain a secret.
//
// Stores that can read or write many items more cheaply than one by one
// also implement [BulkReader] (the file store; the OS store on Linux) or
// [Batcher] (the file store); callers should use them when present.
//
// The package imports neither app nor proxy.
package keychain
