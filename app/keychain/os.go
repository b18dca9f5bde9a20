package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds one OS keychain call when NewOS gets a zero timeout.
const DefaultTimeout = 5 * time.Second

// maxInFlight bounds the OS keychain calls running at once. A call that hit
// its timeout keeps its goroutine until the keychain answers (go-keyring has
// no cancellation), so this also bounds the goroutines a hung keychain can
// hold.
const maxInFlight = 32

// probeAccount is the account Probe writes, reads back and deletes.
const probeAccount = "__gbd_probe__"

// OS is a Store backed by the operating system keychain through go-keyring:
// one item per account, under one service name. Every call is bounded by a
// timeout: go-keyring cannot be cancelled, so each call runs in its own
// goroutine and the caller stops waiting when the timeout or its context
// ends. A locked or absent keyring therefore yields ErrUnavailable instead
// of hanging.
type OS struct {
	service   string
	timeout   time.Duration
	sem       chan struct{}
	accountOf atomic.Pointer[func(secret string) string]
}

// DeriveAccounts tells the store that every account is f(its secret) (the
// vault stores each key under its id, a hash of the key). Bulk reads then
// attribute each item to f(secret) instead of reading each item's
// attributes; items whose f(secret) is not a wanted account are still
// looked up by their attributes. Only use it when f really is how the
// accounts are made.
func (o *OS) DeriveAccounts(f func(secret string) string) {
	if f == nil {
		o.accountOf.Store(nil)
		return
	}
	o.accountOf.Store(&f)
}

// NewOS returns the OS keychain store for service (the app id). timeout
// bounds each call; zero means DefaultTimeout.
func NewOS(service string, timeout time.Duration) *OS {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &OS{service: service, timeout: timeout, sem: make(chan struct{}, maxInFlight)}
}

// Set stores secret for account, replacing any previous secret.
func (o *OS) Set(ctx context.Context, account, secret string) error {
	_, err := o.call(ctx, "set", func() (string, error) {
		return "", keyring.Set(o.service, account, secret)
	})
	return err
}

// Get returns the secret of account, ErrNotFound if there is none.
func (o *OS) Get(ctx context.Context, account string) (string, error) {
	return o.call(ctx, "get", func() (string, error) {
		return keyring.Get(o.service, account)
	})
}

// Delete removes the secret of account, ErrNotFound if there is none.
func (o *OS) Delete(ctx context.Context, account string) error {
	_, err := o.call(ctx, "delete", func() (string, error) {
		return "", keyring.Delete(o.service, account)
	})
	return err
}

// Probe tells whether the keychain works: it writes, reads back and deletes
// a probe item. A nil error means secrets can be stored; otherwise the error
// wraps ErrUnavailable and says why.
func (o *OS) Probe(ctx context.Context) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	want := hex.EncodeToString(b[:])
	if err := o.Set(ctx, probeAccount, want); err != nil {
		return fmt.Errorf("keychain probe: write: %w", err)
	}
	got, err := o.Get(ctx, probeAccount)
	if err != nil {
		return fmt.Errorf("keychain probe: read back: %w", err)
	}
	if err := o.Delete(ctx, probeAccount); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("keychain probe: delete: %w", err)
	}
	if got != want {
		return unavailable(errors.New("keychain probe: the secret read back differs from the one written"))
	}
	return nil
}

type result struct {
	val string
	err error
}

// call runs fn in a goroutine and waits for it at most o.timeout (or until
// ctx ends). Errors are classified into ErrNotFound / ErrUnavailable.
func (o *OS) call(ctx context.Context, op string, fn func() (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	select {
	case o.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", unavailable(fmt.Errorf("keychain %s: %d calls already waiting on the keychain for more than %v", op, maxInFlight, o.timeout))
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-o.sem }()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.val, classify(op, r.err)
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", unavailable(fmt.Errorf("keychain %s: no answer within %v (is the keyring locked?)", op, o.timeout))
	}
}

// classify maps go-keyring errors to this package's errors. go-keyring's
// errors come from D-Bus / the OS API and never contain the secret.
func classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("keychain %s: %w", op, err)
	default:
		return unavailable(fmt.Errorf("keychain %s: %w", op, err))
	}
}
