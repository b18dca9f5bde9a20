// Package app is the desktop application around the proxy: it owns the
// store (SQLite), the secrets (OS keychain or an explicit encrypted file),
// the key vault, the statistics recorder and the settings, and runs the
// proxy with them. The window and the web UI use the management API (the
// window in-process, see WindowHandler); the API, the tray and the command
// line all call the same App methods (ops.go), which publish the status,
// keep the prune-undo list and bound their time.
package app
