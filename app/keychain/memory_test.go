package keychain

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// testStore runs the behaviour every Store must have.
func testStore(t *testing.T, s Store, prefix string) {
	t.Helper()
	ctx := context.Background()
	a, b := prefix+"-a", prefix+"-b"
	if _, err := s.Get(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) on empty store = %v, want ErrNotFound", a, err)
	}
	if err := s.Delete(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete(%q) on empty store = %v, want ErrNotFound", a, err)
	}
	if err := s.Set(ctx, a, "one"); err != nil {
		t.Fatalf("Set(%q) = %v", a, err)
	}
	if err := s.Set(ctx, b, "two"); err != nil {
		t.Fatalf("Set(%q) = %v", b, err)
	}
	if err := s.Set(ctx, a, "uno"); err != nil {
		t.Fatalf("Set(%q) again = %v", a, err)
	}
	for acc, want := range map[string]string{a: "uno", b: "two"} {
		if got, err := s.Get(ctx, acc); err != nil || got != want {
			t.Fatalf("Get(%q) = %q, %v, want %q", acc, got, err, want)
		}
	}
	if err := s.Delete(ctx, a); err != nil {
		t.Fatalf("Delete(%q) = %v", a, err)
	}
	if _, err := s.Get(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) after Delete = %v, want ErrNotFound", a, err)
	}
	if got, err := s.Get(ctx, b); err != nil || got != "two" {
		t.Fatalf("Get(%q) = %q, %v, want %q", b, got, err, "two")
	}
	if err := s.Delete(ctx, b); err != nil {
		t.Fatalf("Delete(%q) = %v", b, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Set(cctx, a, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestMemory(t *testing.T) {
	testStore(t, NewMemory(), "mem")
}

func TestMemoryFailWith(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	m.FailWith(fmt.Errorf("%w: simulated", ErrUnavailable))
	if err := m.Set(ctx, "a", "s"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set while failing = %v, want ErrUnavailable", err)
	}
	m.FailWith(nil)
	if err := m.Set(ctx, "a", "s"); err != nil {
		t.Fatalf("Set after FailWith(nil) = %v", err)
	}
	if m.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", m.Len())
	}
	if acc, err := m.Accounts(ctx); err != nil || len(acc) != 1 || acc[0] != "a" {
		t.Fatalf("Accounts() = %v, %v, want [a]", acc, err)
	}
}
