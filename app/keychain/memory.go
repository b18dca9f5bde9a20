package keychain

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// Memory is an in-process Store for tests. Its zero value is not usable;
// call NewMemory.
type Memory struct {
	mu      sync.Mutex
	secrets map[string]string
	fail    error
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{secrets: make(map[string]string)}
}

// FailWith makes every later call return err (nil restores normal
// operation). Tests use it to simulate an unavailable keychain.
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Len returns the number of stored secrets.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.secrets)
}

// Set stores secret for account.
func (m *Memory) Set(ctx context.Context, account, secret string) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets[account] = secret
	return nil
}

// Get returns the secret of account, ErrNotFound if there is none.
func (m *Memory) Get(ctx context.Context, account string) (string, error) {
	if err := m.check(ctx); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[account]
	if !ok {
		return "", ErrNotFound
	}
	return s, nil
}

// Delete removes the secret of account, ErrNotFound if there is none.
func (m *Memory) Delete(ctx context.Context, account string) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.secrets[account]; !ok {
		return ErrNotFound
	}
	delete(m.secrets, account)
	return nil
}

func (m *Memory) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fail
}

// Accounts lists the accounts that have a secret, sorted.
func (m *Memory) Accounts(ctx context.Context) ([]string, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.secrets)), nil
}
