package kdf

import (
	"bytes"
	"runtime"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// Key derives what scrypt derives.
func TestKeyIsScrypt(t *testing.T) {
	for _, c := range []struct{ n, r int }{{1 << 10, 8}, {1 << 14, 8}} {
		want, err := scrypt.Key([]byte("pw"), []byte("salt-salt-salt!!"), c.n, c.r, 1, 32)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Key([]byte("pw"), []byte("salt-salt-salt!!"), c.n, c.r, 1, 32)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("N=%d: Key = %x, %v; scrypt.Key = %x", c.n, got, err, want)
		}
	}
	if _, err := Key([]byte("pw"), []byte("salt"), 3, 8, 1, 32); err == nil {
		t.Fatal("N not a power of two: no error")
	}
}

// After Key with a large work buffer, the freed heap is back with the OS
// (not kept as idle heap, which counts in the process's memory).
func TestKeyReleasesWorkBuffer(t *testing.T) {
	if _, err := Key([]byte("pw"), []byte("salt-salt-salt!!"), 1<<14, 8, 1, 32); err != nil { // 16 MiB of work
		t.Fatal(err)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if kept := m.HeapIdle - m.HeapReleased; kept >= bigWork {
		t.Fatalf("%d MiB of freed heap kept after Key (HeapIdle %d MiB, HeapReleased %d MiB)", kept>>20, m.HeapIdle>>20, m.HeapReleased>>20)
	}
}
