package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// The operations every face (the window and the browser through the
// management API, the tray, the command line) performs on the keys. Each
// owns what must happen around the vault call: the status is published
// (UI, tray), the prune-undo list forgets keys that are gone, and the call
// is bounded in time when the caller gave no deadline.

// opTimeout bounds one operation whose context has no deadline (a bulk add
// of thousands of keys through the OS keychain fits).
const opTimeout = 5 * time.Minute

// bounded returns ctx limited to opTimeout unless it has a deadline.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, opTimeout)
}

// AddKeys adds the keys found in text (any text: one per line, KEY=…,
// quoted lists).
func (a *App) AddKeys(ctx context.Context, text string) (vault.AddResult, error) {
	return a.addExtracted(ctx, apikey.Extract(text))
}

// addExtracted adds the keys of text already read by apikey.Extract.
func (a *App) addExtracted(ctx context.Context, ext apikey.Extraction) (vault.AddResult, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	defer a.notify()
	return a.vault.AddExtracted(ctx, ext, nil)
}

// ReconcileKeys brings the store, the secret store and the pool in line
// (finishing adds and deletes a crash interrupted), as a start does: the
// command line runs it before it changes keys without a running app.
func (a *App) ReconcileKeys(ctx context.Context) (vault.ReconcileReport, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return a.vault.Reconcile(ctx)
}

// ListKeys returns a page of masked keys.
func (a *App) ListKeys(ctx context.Context, q vault.KeyQuery) (vault.KeyList, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return a.vault.List(ctx, q)
}

// GetKey returns one key, masked.
func (a *App) GetKey(ctx context.Context, id string) (vault.KeyInfo, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return a.vault.Get(ctx, id)
}

// RevealKey returns one key in full, on explicit request.
func (a *App) RevealKey(ctx context.Context, id string) (string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return a.vault.Reveal(ctx, id)
}

// DeleteKeys deletes keys for good; they leave the prune-undo list.
func (a *App) DeleteKeys(ctx context.Context, ids []string) (vault.DeleteResult, error) {
	return a.deleted(ctx, ids, a.vault.Delete)
}

// deleted runs a vault deletion (Delete or Purge): the keys gone leave the
// prune-undo list and the status is published.
func (a *App) deleted(ctx context.Context, ids []string, del func(context.Context, []string) (vault.DeleteResult, error)) (vault.DeleteResult, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := del(ctx, ids)
	a.forgetPruned(res.IDs)
	a.notify()
	return res, err
}

// KeyChange is an edit of one key; nil fields stay as they are.
type KeyChange struct {
	Label   *string
	Enabled *bool
}

// UpdateKey applies change to the key id and returns the key as it is
// then. Enabling or disabling comes first: it is the change that can be
// refused (the key's state), and then nothing has been applied.
func (a *App) UpdateKey(ctx context.Context, id string, change KeyChange) (vault.KeyInfo, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if _, err := a.vault.Get(ctx, id); err != nil {
		return vault.KeyInfo{}, err
	}
	defer a.notify()
	if change.Enabled != nil {
		if err := a.vault.SetEnabled(ctx, id, *change.Enabled); err != nil {
			return vault.KeyInfo{}, err
		}
	}
	if change.Label != nil {
		if err := a.vault.SetLabel(ctx, id, *change.Label); err != nil {
			return vault.KeyInfo{}, err
		}
	}
	return a.vault.Get(ctx, id)
}

// ExportKeys returns every usable key, one per line, in plain text.
func (a *App) ExportKeys(ctx context.Context) (string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return a.vault.Export(ctx)
}

// SaveDialog asks the user where to save a file (defaultName in dir
// proposed) and returns the path, or "" when the user canceled.
type SaveDialog func(ctx context.Context, dir, defaultName string) (string, error)

// saveDialog is the desktop's file dialog, when there is one.
type saveDialog struct {
	mu sync.Mutex
	f  SaveDialog
}

// SetSaveDialog gives the app the desktop's save-file dialog (nil: none;
// exports to a file then go to the Downloads folder).
func (a *App) SetSaveDialog(f SaveDialog) {
	a.dialog.mu.Lock()
	defer a.dialog.mu.Unlock()
	a.dialog.f = f
}

// ExportKeysToFile writes every usable key, one per line, to a new file
// with permissions 0600 and returns its path: where the user chose in the
// save dialog ("" when canceled), or without a dialog in the user's
// Downloads folder (or home folder). The file holds the keys in plain
// text: the UI warns before calling this.
func (a *App) ExportKeysToFile(ctx context.Context) (string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	dir, err := exportDir()
	if err != nil {
		return "", err
	}
	name := "gemini-api-keys-" + time.Now().Format("20060102-150405") + ".txt"
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	path := filepath.Join(dir, name)
	a.dialog.mu.Lock()
	choose := a.dialog.f
	a.dialog.mu.Unlock()
	if choose != nil {
		if path, err = choose(ctx, dir, name); err != nil || path == "" {
			return "", err
		}
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC // the dialog asked before replacing
	}
	text, err := a.vault.Export(ctx)
	if err != nil {
		return "", err
	}
	if err := writePrivate(path, flag, text); err != nil {
		return "", err
	}
	a.log.Info("exported keys written", "file", path)
	return path, nil
}

// writePrivate writes text to a file only its owner can read.
func writePrivate(path string, flag int, text string) error {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return fmt.Errorf("create the export file: %w", err)
	}
	err = f.Chmod(0o600) // an existing file keeps its mode otherwise
	if err == nil {
		_, err = f.WriteString(text)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write the export file: %w", err)
	}
	return nil
}

// exportDir is ~/Downloads when it exists, else the home folder.
func exportDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder: %w", err)
	}
	if st, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && st.IsDir() {
		return filepath.Join(home, "Downloads"), nil
	}
	return home, nil
}

// RetryStart starts serving when an earlier Start failed (a taken port):
// the window calls it after the user picked another port. It does nothing
// when the proxy already serves.
func (a *App) RetryStart() error {
	a.mu.Lock()
	started := a.stopBG != nil
	running := a.running
	a.mu.Unlock()
	if running {
		return nil
	}
	if !started {
		return errors.New("the app is not started")
	}
	return a.listen()
}
