// Package app is the desktop application around the proxy: it owns the
// store (SQLite), the secrets (OS keychain or an explicit encrypted file),
// the key vault, the statistics recorder and the settings, and runs the
// proxy with them. The window (Wails bindings), the tray, the web UI and
// the management API all call the same App and Vault methods.
package app
