package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/private"
)

// One writer: while an instance serves, command-line tools that change
// something go through its management API instead of opening the data dir
// themselves, so the running pool sees the change at once and no two
// processes write the same store. The instance proves who may do that
// with a control file in the data dir: its loopback address and a random
// token, mode 0600 (the data dir is 0700). Whoever can read it can already
// read the database and the secret store; the API checks the token in
// constant time like the admin password.

// controlFileName is the control file's name in the data dir.
const controlFileName = "control.json"

// Control is what the control file holds.
type Control struct {
	// URL is the management API's base, e.g. http://127.0.0.1:8321.
	URL string `json:"url"`
	// Token is sent as "Authorization: Bearer <token>".
	Token string `json:"token"`
	// PID is the running instance's process id (informative).
	PID int `json:"pid"`
}

// DefaultDataDir is the data dir used when none is given: the user config
// dir + AppID.
func DefaultDataDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory (set --data-dir): %w", err)
	}
	return filepath.Join(dir, AppID), nil
}

// ReadControl reads the control file of dataDir; ok is false when there
// is none (no instance has served from this data dir, or it stopped).
func ReadControl(dataDir string) (c Control, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, controlFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.URL == "" || c.Token == "" {
		return c, false, nil // torn or foreign: as if absent
	}
	return c, true, nil
}

// writeControl publishes the serving address and the control token.
func (a *App) writeControl() {
	addr := a.server.Addr()
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	c := Control{URL: "http://" + net.JoinHostPort(host, port), Token: a.controlToken, PID: os.Getpid()}
	b, _ := json.Marshal(c)
	path := filepath.Join(a.opts.DataDir, controlFileName)
	if err := private.WriteFile(path, b); err != nil {
		a.log.Warn("could not write the control file; command-line tools will not reach this instance", "err", err)
	}
}

// removeControl deletes the control file if it is still this instance's.
func (a *App) removeControl() {
	if c, ok, _ := ReadControl(a.opts.DataDir); ok && tokenEqual(c.Token, a.controlToken) {
		os.Remove(filepath.Join(a.opts.DataDir, controlFileName))
	}
}

// LockDataDir takes the data dir's writer lock: command-line tools that
// act on the data dir themselves hold it for their whole run, and an
// instance holds it while it reconciles on start, so that one process
// never finishes or drops another's half-done add (the vault's recovery
// assumes the intents it finds are its own, left by a crash).
func LockDataDir(ctx context.Context, dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return keychain.Lock(ctx, filepath.Join(dir, "writer.lock"))
}

// isControlToken reports whether tok is this instance's control token.
func (a *App) isControlToken(tok string) bool { return tokenEqual(tok, a.controlToken) }

// tokenEqual compares a presented token with want in constant time
// (independent of their lengths); an empty want matches nothing.
func tokenEqual(got, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
