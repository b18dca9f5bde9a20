package keychain

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotFound reports that an account has no secret in the store.
var ErrNotFound = errors.New("keychain: secret not found")

// ErrUnavailable reports that the store cannot be used right now: no Secret
// Service on the session bus, a locked keyring, a call that timed out, an
// unreadable file. The returned errors wrap both ErrUnavailable and the cause.
var ErrUnavailable = errors.New("keychain: unavailable")

// Store keeps one secret per account. Implementations are safe for
// concurrent use. Set overwrites an existing secret; Delete of a missing
// account returns ErrNotFound.
type Store interface {
	Set(ctx context.Context, account, secret string) error
	Get(ctx context.Context, account string) (string, error)
	Delete(ctx context.Context, account string) error
}

// BulkReader is implemented by stores that read many secrets at once
// much faster than one by one (the file store; the OS store on Linux, where
// one Secret Service round trip replaces seven per item).
type BulkReader interface {
	// GetMany returns the secrets of the accounts that have one; accounts
	// without a secret are absent from the map (not an error).
	GetMany(ctx context.Context, accounts []string) (map[string]string, error)
}

// Batcher is implemented by stores for which one write of many accounts
// is much cheaper than many writes (the file store rewrites its file
// once). A batch either fully succeeds or changes nothing.
type Batcher interface {
	// SetMany stores every account → secret pair of secrets.
	SetMany(ctx context.Context, secrets map[string]string) error
	// DeleteMany removes the accounts; missing accounts are ignored.
	DeleteMany(ctx context.Context, accounts []string) error
}

// unavailable wraps cause so that errors.Is(err, ErrUnavailable) and
// errors.Is(err, cause) both hold.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", ErrUnavailable, cause)
}
