package keychain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testKDF keeps tests fast; the format stores the parameters, so files
// written with them open like any other.
var testKDF = kdfParams{N: 1 << 10, R: 8, P: 1}

func TestFileStore(t *testing.T) {
	f, err := newFile(filepath.Join(t.TempDir(), "sub", "keys.enc"), "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, f, "file")
}

func TestNewFileDefaultParams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	f, err := NewFile(path, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), "a", "secret-a"); err != nil {
		t.Fatal(err)
	}
	g, err := NewFile(path, "correct horse")
	if err != nil {
		t.Fatalf("NewFile(reopen) = %v", err)
	}
	if got, err := g.Get(context.Background(), "a"); err != nil || got != "secret-a" {
		t.Fatalf("Get(a) after reopen = %q, %v, want %q", got, err, "secret-a")
	}
}

func TestFileEmptyPassphrase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	if _, err := NewFile(path, ""); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("NewFile(%q, \"\") = %v, want ErrNoPassphrase", path, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NewFile with an empty passphrase created %s (stat err %v)", path, err)
	}
}

func TestFilePersistsEncrypted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	path := filepath.Join(dir, "keys.enc")
	f, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := "AIzaSyD-plaintext-must-not-appear-0123"
	if err := f.Set(ctx, "k1", secret); err != nil {
		t.Fatal(err)
	}
	if err := f.SetMany(ctx, map[string]string{"k2": "two", "k3": "three"}); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteMany(ctx, []string{"k3", "missing"}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Only strings long enough not to turn up in base64 by chance.
	for _, plain := range []string{secret, "plaintext"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("file contains %q in clear", plain)
		}
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("file mode = %v, want 0600", st.Mode().Perm())
		}
		if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
			t.Errorf("dir mode = %v, want 0700", st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), ".lock") })
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the store (no temporary files left)", len(entries))
	}

	g, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	got, err := g.GetMany(ctx, []string{"k1", "k2", "k3"})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := g.Accounts(ctx); err != nil || fmt.Sprint(acc) != "[k1 k2]" {
		t.Fatalf("Accounts() after reopen = %v, %v, want [k1 k2]", acc, err)
	}
	want := map[string]string{"k1": secret, "k2": "two"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GetMany after reopen = %v, want %v", got, want)
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	f, err := newFile(path, "right", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), "a", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := newFile(path, "wrong", testKDF); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("newFile(wrong passphrase) = %v, want ErrWrongPassphrase", err)
	}
}

func TestFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	f, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), "a", "s"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	// Flip one character inside the base64 ciphertext.
	i := bytes.Index(raw, []byte(`"ciphertext":"`)) + len(`"ciphertext":"`) + 2
	if raw[i] == 'A' {
		raw[i] = 'B'
	} else {
		raw[i] = 'A'
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newFile(path, "pw", testKDF); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("newFile(tampered file) = %v, want ErrCorrupt", err)
	}
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newFile(path, "pw", testKDF); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("newFile(garbage) = %v, want ErrCorrupt", err)
	}
}

func TestFileTightensPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	path := filepath.Join(t.TempDir(), "keys.enc")
	if _, err := newFile(path, "pw", testKDF); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newFile(path, "pw", testKDF); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode after reopen = %v, want 0600", st.Mode().Perm())
	}
}

func TestFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.enc")
	f, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	// A non-empty directory where the file was: the rename fails, even as root.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), "a", "s"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set when the file cannot be replaced = %v, want ErrUnavailable", err)
	}
	if _, err := f.Get(context.Background(), "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after a failed Set = %v, want ErrNotFound", err)
	}
	entries, _ := os.ReadDir(dir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), ".lock") })
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries after a failed write, want 1 (temporary file removed)", len(entries))
	}
}

func TestFileConcurrent(t *testing.T) {
	f, err := newFile(filepath.Join(t.TempDir(), "keys.enc"), "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			acc := fmt.Sprintf("acc%d", i)
			if err := f.Set(ctx, acc, strings.Repeat("x", i+1)); err != nil {
				t.Error(err)
			}
			if _, err := f.Get(ctx, acc); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ := f.GetMany(ctx, []string{"acc0", "acc7"})
	if len(got) != 2 {
		t.Fatalf("GetMany = %d secrets, want 2", len(got))
	}
}

// TestFileTwoWriters opens one file twice (as two processes do: flock
// locks are per open file, so the handles exclude each other like two
// processes) and writes through both at once: every write must survive,
// and each handle must see the other's secrets.
func TestFileTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	a, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newFile(path, "pw", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w, f := range []*File{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := f.Set(ctx, fmt.Sprintf("w%d-%d", w, i), "s"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range []*File{a, b} {
		got, err := f.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 {
			t.Fatalf("Accounts() after two writers = %d accounts, want 100", len(got))
		}
	}
	if err := a.Delete(ctx, "w1-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "w1-0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a secret deleted by the other handle = %v, want ErrNotFound", err)
	}
}
