package vault

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/gemini-balance/desktop/app/keychain"
)

// Keychain access for the vault: bounded concurrency, bulk paths when the
// store has them, and a stop at the first "unavailable".

// runBounded calls fn for every index with at most n calls at once. When fn
// reports stop (the keychain is unavailable), no further calls start.
func runBounded(ctx context.Context, total, n int, fn func(ctx context.Context, i int) (stop bool)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range total {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if fn(ctx, i) {
				cancel()
			}
		})
	}
	wg.Wait()
}

// firstErr keeps the first error seen by concurrent calls.
type firstErr struct {
	mu  sync.Mutex
	err error
}

func (f *firstErr) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstErr) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// setSecrets writes id → raw to the keychain and returns the ids written.
// err is the first failure (ids not returned were not written — or, after
// a timeout, maybe written later: the caller keeps their intent rows).
func (v *Vault) setSecrets(ctx context.Context, secrets map[string]string) (written []string, err error) {
	return v.setSecretsIn(ctx, v.kc(), secrets)
}

// setSecretsIn is setSecrets on the secret store kc.
func (v *Vault) setSecretsIn(ctx context.Context, kc keychain.Store, secrets map[string]string) (written []string, err error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if b, ok := kc.(keychain.Batcher); ok {
		if err := b.SetMany(ctx, secrets); err != nil {
			return nil, err
		}
		for id := range secrets {
			written = append(written, id)
		}
		return written, nil
	}
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	written, err = eachSecret(ctx, ids, func(ctx context.Context, id string) error {
		return kc.Set(ctx, id, secrets[id])
	})
	if err != nil {
		return written, err
	}
	return written, ctx.Err()
}

// eachSecret runs op on every id, keychainWriters at a time, and stops at
// the first failure (an unavailable or cancelled keychain is not to be
// hammered). It returns the ids op succeeded for, in the order of ids, and
// that failure.
func eachSecret(ctx context.Context, ids []string, op func(ctx context.Context, id string) error) ([]string, error) {
	ok := make([]bool, len(ids))
	var first firstErr
	runBounded(ctx, len(ids), keychainWriters, func(ctx context.Context, i int) bool {
		if err := op(ctx, ids[i]); err != nil {
			first.set(err)
			return true
		}
		ok[i] = true
		return false
	})
	var done []string
	for i, id := range ids {
		if ok[i] {
			done = append(done, id)
		}
	}
	return done, first.get()
}

// getSecrets reads the secrets of ids. found holds the secrets present,
// missing the ids the keychain says it has no secret for; ids in neither
// are unknown (err says why: the keychain is unavailable).
func (v *Vault) getSecrets(ctx context.Context, ids []string) (found map[string]string, missing []string, err error) {
	return v.getSecretsIn(ctx, v.kc(), ids)
}

// getSecretsIn is getSecrets on the secret store kc.
func (v *Vault) getSecretsIn(ctx context.Context, kc keychain.Store, ids []string) (found map[string]string, missing []string, err error) {
	found = make(map[string]string, len(ids))
	if len(ids) == 0 {
		return found, nil, nil
	}
	if b, ok := kc.(keychain.BulkReader); ok {
		got, err := b.GetMany(ctx, ids)
		if err == nil {
			for _, id := range ids {
				if s, ok := got[id]; ok {
					found[id] = s
				} else {
					missing = append(missing, id)
				}
			}
			return found, missing, nil
		}
		if ctx.Err() != nil {
			return found, nil, err
		}
		// The bulk path failed (e.g. a locked keyring, which only the
		// one-by-one path may prompt to unlock): go one by one.
		v.log.Debug("bulk keychain read failed; reading one by one", "err", err)
	}
	vals := make([]string, len(ids))
	state := make([]int8, len(ids)) // 0 unknown, 1 found, 2 missing
	var first firstErr
	runBounded(ctx, len(ids), keychainReaders, func(ctx context.Context, i int) bool {
		s, err := kc.Get(ctx, ids[i])
		switch {
		case err == nil:
			vals[i], state[i] = s, 1
		case errors.Is(err, keychain.ErrNotFound):
			state[i] = 2
		default:
			first.set(err)
			return true
		}
		return false
	})
	for i, id := range ids {
		switch state[i] {
		case 1:
			found[id] = vals[i]
		case 2:
			missing = append(missing, id)
		}
	}
	if err := first.get(); err != nil {
		return found, missing, err
	}
	if len(found)+len(missing) < len(ids) {
		return found, missing, ctx.Err()
	}
	return found, missing, nil
}

// deleteSecrets removes the secrets of ids; a secret already absent counts
// as deleted. It returns the ids whose secret is gone.
func (v *Vault) deleteSecrets(ctx context.Context, ids []string) (gone []string, err error) {
	return v.deleteSecretsIn(ctx, v.kc(), ids)
}

// deleteSecretsIn is deleteSecrets on the secret store kc.
func (v *Vault) deleteSecretsIn(ctx context.Context, kc keychain.Store, ids []string) (gone []string, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if b, ok := kc.(keychain.Batcher); ok {
		if err := b.DeleteMany(ctx, ids); err != nil {
			return nil, err
		}
		return slices.Clone(ids), nil
	}
	gone, err = eachSecret(ctx, ids, func(ctx context.Context, id string) error {
		if err := kc.Delete(ctx, id); !errors.Is(err, keychain.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return gone, err
	}
	if len(gone) < len(ids) {
		return gone, ctx.Err()
	}
	return gone, nil
}
