package vault

import (
	"context"
	"fmt"
	"maps"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// kc returns the secret store in use.
func (v *Vault) kc() keychain.Store {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.secrets
}

// MoveReport says what MoveSecrets copied.
type MoveReport struct {
	// Copied counts the keys written to the new store and read back.
	Copied int `json:"copied"`
	// Missing counts rows that had no secret in the old store (they stay
	// "secret missing"; nothing could be copied for them).
	Missing int `json:"missing"`
}

// MoveSecrets copies every key's secret from the store in use to dst,
// reads each one back, and only then calls commit (which records dst as
// the store in use, durably) and switches to dst. It runs alone: no key is
// added or deleted during a move. The old store is left untouched: the
// caller empties it after commit (the secrets are then in both). extra
// names accounts besides the keys' (the app's own secrets) that move
// too when present. If
// anything fails before commit returns nil, the store in use is unchanged
// and complete; dst may hold copies, which the caller discards.
func (v *Vault) MoveSecrets(ctx context.Context, dst keychain.Store, extra []string, commit func(context.Context) error) (MoveReport, error) {
	v.opMu.Lock()
	defer v.opMu.Unlock()
	var rep MoveReport
	rows, err := v.store.AllKeys(ctx)
	if err != nil {
		return rep, err
	}
	ids := make([]string, len(rows))
	for i, k := range rows {
		ids[i] = k.ID
	}
	src := v.kc()
	found, missing, err := v.getSecretsIn(ctx, src, ids)
	if err != nil {
		return rep, fmt.Errorf("read the keys from the current store: %w", err)
	}
	rep.Missing = len(missing)
	rep.Copied = len(found)
	more, _, err := v.getSecretsIn(ctx, src, extra)
	if err != nil {
		return rep, fmt.Errorf("read the app's secrets from the current store: %w", err)
	}
	maps.Copy(found, more)
	if _, err := v.setSecretsIn(ctx, dst, found); err != nil {
		return rep, fmt.Errorf("write the keys to the new store: %w", err)
	}
	v.hook("move.copy")
	back, _, err := v.getSecretsIn(ctx, dst, keysOf(found))
	if err != nil {
		return rep, fmt.Errorf("read the keys back from the new store: %w", err)
	}
	for id, s := range found {
		if back[id] != s {
			return rep, fmt.Errorf("the new store did not keep key %s", id)
		}
	}
	if err := commit(ctx); err != nil {
		return rep, err
	}
	v.hook("move.commit")
	v.mu.Lock()
	v.secrets = dst
	v.mu.Unlock()
	if d, ok := dst.(interface{ DeriveAccounts(func(string) string) }); ok {
		d.DeriveAccounts(apikey.ID)
	}
	v.log.Info("keys moved to another secret store", "copied", rep.Copied, "missing", rep.Missing)
	return rep, nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
