package app

import (
	"context"
	"time"
)

// Bindings are the methods the desktop window calls (Wails binds them as
// window.go.app.Bindings.*). They are the same operations as the
// management API, without HTTP; none takes a context, so each gets a
// bounded one of its own.
type Bindings struct {
	a *App
}

// NewBindings returns the window's bindings for a.
func NewBindings(a *App) *Bindings { return &Bindings{a: a} }

// callTimeout bounds one window call (a bulk add of thousands of keys
// through the OS keychain fits).
const callTimeout = 5 * time.Minute

func (b *Bindings) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// Status returns the proxy's state.
func (b *Bindings) Status() Status { return b.a.Status() }

// AccessKey returns the proxy's access key (shown on request, copied).
func (b *Bindings) AccessKey() string { return b.a.AccessKey() }

// ResetAdminPassword sets a new random admin password for the web UI and
// returns it (it cannot be read later: only its hash is kept).
func (b *Bindings) ResetAdminPassword() (string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.ResetAdminPassword(ctx)
}

// SetPassthrough turns passthrough mode on or off.
func (b *Bindings) SetPassthrough(on bool) error {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.SetPassthrough(ctx, on)
}

// SetPaused pauses or resumes the proxy.
func (b *Bindings) SetPaused(paused bool) error {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.SetPaused(ctx, paused)
}

// GetSettings returns the settings.
func (b *Bindings) GetSettings() Settings { return b.a.Settings() }

// SaveSettings validates, saves and applies settings.
func (b *Bindings) SaveSettings(s Settings) (SettingsChange, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.UpdateSettings(ctx, s)
}

// RegenerateAccessKey makes a new access key and returns it.
func (b *Bindings) RegenerateAccessKey() (string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.RegenerateAccessKey(ctx)
}

// AddKeys adds the keys found in pasted text.
func (b *Bindings) AddKeys(text string) (AddResult, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	defer b.a.notify()
	return b.a.vault.AddBulk(ctx, text)
}

// ListKeys returns a page of masked keys.
func (b *Bindings) ListKeys(q KeyQuery) (KeyList, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.vault.List(ctx, q)
}

// RevealKey returns one key in full, on explicit request.
func (b *Bindings) RevealKey(id string) (string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.vault.Reveal(ctx, id)
}

// DeleteKeys deletes keys for good.
func (b *Bindings) DeleteKeys(ids []string) (DeleteResult, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	defer b.a.notify()
	return b.a.vault.Delete(ctx, ids)
}

// SetKeyEnabled enables or disables a key by hand.
func (b *Bindings) SetKeyEnabled(id string, enabled bool) error {
	ctx, cancel := b.ctx()
	defer cancel()
	defer b.a.notify()
	return b.a.vault.SetEnabled(ctx, id, enabled)
}

// SetKeyLabel labels a key.
func (b *Bindings) SetKeyLabel(id, label string) error {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.vault.SetLabel(ctx, id, label)
}

// CheckKeys starts checking the keys with these ids (all when empty).
func (b *Bindings) CheckKeys(ids []string) (string, error) { return b.a.StartCheck(ids) }

// CheckStatus returns the progress of the latest check.
func (b *Bindings) CheckStatus() CheckJob { return b.a.CheckStatus() }

// CancelCheck stops the running check.
func (b *Bindings) CancelCheck() { b.a.CancelCheck() }

// PruneDeadKeys quarantines the dead keys.
func (b *Bindings) PruneDeadKeys() (PruneResult, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.PruneDead(ctx)
}

// RestoreKeys brings quarantined keys back.
func (b *Bindings) RestoreKeys(ids []string) ([]KeyInfo, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.RestoreKeys(ctx, ids)
}
