package keychain

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gemini-balance/desktop/app/kdf"
	"github.com/gemini-balance/desktop/app/private"
)

// ErrNoPassphrase is returned by NewFile for an empty passphrase: the file
// store never keeps secrets in plaintext.
var ErrNoPassphrase = errors.New("keychain file: a passphrase is required (secrets are never stored in plaintext)")

// ErrWrongPassphrase is returned by NewFile when the passphrase does not
// open an existing file.
var ErrWrongPassphrase = errors.New("keychain file: wrong passphrase")

// ErrCorrupt is returned by NewFile when the passphrase is right but the
// file cannot be decrypted or parsed (it was damaged or edited).
var ErrCorrupt = errors.New("keychain file: the file is damaged")

const (
	fileFormat  = "gbd-keychain-file"
	fileVersion = 1
	keyLen      = 32 // AES-256
)

// kdfParams are the scrypt cost parameters, stored in the file.
type kdfParams struct {
	N int `json:"n"`
	R int `json:"r"`
	P int `json:"p"`
}

// defaultKDF costs about 100 ms and 32 MiB once per NewFile (the derived
// key is kept in memory afterwards). RFC 7914 / x/crypto recommend N=2^15,
// r=8, p=1 for interactive use.
var defaultKDF = kdfParams{N: 1 << 15, R: 8, P: 1}

// fileEnvelope is the JSON document on disk. Only Ciphertext carries
// secrets; everything else is public parameters.
type fileEnvelope struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	KDF        string    `json:"kdf"`
	Params     kdfParams `json:"params"`
	Salt       []byte    `json:"salt"`
	Check      []byte    `json:"check"` // SHA-256 of the verifier half of the scrypt output
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"` // AES-256-GCM of the JSON map account → secret
}

// aad binds the public parameters to the ciphertext.
func (e *fileEnvelope) aad() []byte {
	return fmt.Appendf(nil, "%s/%d/%s/%d/%d/%d/%x", e.Format, e.Version, e.KDF, e.Params.N, e.Params.R, e.Params.P, e.Salt)
}

// File is an explicit, passphrase-encrypted Store in one file, for
// machines without a usable OS keychain (servers, WSL, CI). It is never
// chosen silently: the user picks it and gives a passphrase.
//
// On disk: a JSON envelope holding the scrypt parameters and salt, a
// passphrase check value, and the AES-256-GCM encryption of the whole
// account → secret map (fresh random nonce on every write). The key is
// derived with scrypt (N=2^15, r=8, p=1) into 64 bytes: the first 32 are
// the AES key, the SHA-256 of the last 32 is the check value that tells a
// wrong passphrase from a damaged file. The file is 0600 in a 0700
// directory and every write is atomic (temporary file, fsync, rename,
// fsync of the directory), so a crash leaves either the old or the new
// content.
//
// Several processes may open the same file (the app, and a command-line
// tool while the app is not running): every write takes an exclusive lock
// on a companion file (path + ".lock"; flock on Unix, LockFileEx on
// Windows), re-reads the file under the lock and applies its change to
// what it read, so no process overwrites another's change. Reads pick up
// a file changed by another process (its size or time changed).
type File struct {
	path string

	mu      sync.Mutex
	env     fileEnvelope // public parameters of the current file
	aead    cipher.AEAD
	secrets map[string]string
	seen    stamp // the file as last read or written
}

// stamp identifies a version of the file.
type stamp struct {
	size int64
	mod  int64
}

func stampOf(path string) (stamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{size: st.Size(), mod: st.ModTime().UnixNano()}, nil
}

// withLock runs fn holding the cross-process lock of the file.
func (f *File) withLock(fn func() error) error {
	lf, err := os.OpenFile(f.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return unavailable(fmt.Errorf("keychain file: lock: %w", err))
	}
	defer lf.Close()
	if err := lockFile(lf); err != nil {
		return unavailable(fmt.Errorf("keychain file: lock: %w", err))
	}
	defer unlockFile(lf)
	return fn()
}

// refresh is reload for reads: a file that cannot be read right now (it
// is being replaced by hand, a disk error) leaves the content last read.
// f.mu must be held.
func (f *File) refresh() error {
	err := f.reload()
	if errors.Is(err, ErrUnavailable) {
		return nil
	}
	return err
}

// reload re-reads the file when another process changed it. f.mu must be
// held.
func (f *File) reload() error {
	st, err := stampOf(f.path)
	if err != nil {
		return unavailable(fmt.Errorf("keychain file: %w", err))
	}
	if st == f.seen {
		return nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return unavailable(fmt.Errorf("keychain file: %w", err))
	}
	var env fileEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if string(env.Salt) != string(f.env.Salt) || env.Params != f.env.Params {
		return fmt.Errorf("%w: the file was replaced by another one", ErrCorrupt)
	}
	plain, err := f.aead.Open(nil, env.Nonce, env.Ciphertext, env.aad())
	if err != nil {
		return fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	var secrets map[string]string
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return fmt.Errorf("%w: bad content", ErrCorrupt)
	}
	if secrets == nil {
		secrets = map[string]string{}
	}
	f.env, f.secrets, f.seen = env, secrets, st
	return nil
}

// NewFile opens the encrypted store at path, creating it (and its
// directory) when it does not exist. An empty passphrase is refused with
// ErrNoPassphrase; a passphrase that does not open an existing file yields
// ErrWrongPassphrase.
func NewFile(path string, passphrase string) (*File, error) {
	return newFile(path, passphrase, defaultKDF)
}

// NewFileCost is NewFile, but a file it creates uses the scrypt cost
// N = 2^logN (r = 8, p = 1) instead of 2^15. It is for tests, where the
// real cost takes seconds under the race detector; a file that exists
// keeps the cost it was made with.
func NewFileCost(path, passphrase string, logN int) (*File, error) {
	return newFile(path, passphrase, kdfParams{N: 1 << logN, R: 8, P: 1})
}

func newFile(path, passphrase string, params kdfParams) (*File, error) {
	if passphrase == "" {
		return nil, ErrNoPassphrase
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keychain file: create directory: %w", err)
	}
	f := &File{path: path}
	var out *File
	err := f.withLock(func() error {
		var err error
		out, err = f.open(passphrase, params)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// open reads or creates the file; the cross-process lock is held.
func (f *File) open(passphrase string, params kdfParams) (*File, error) {
	path := f.path
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keychain file: create directory: %w", err)
		}
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		f.env = fileEnvelope{Format: fileFormat, Version: fileVersion, KDF: "scrypt", Params: params, Salt: salt}
		check, aead, err := derive(passphrase, f.env.Params, salt)
		if err != nil {
			return nil, err
		}
		f.env.Check, f.aead, f.secrets = check, aead, map[string]string{}
		if err := f.write(f.secrets); err != nil {
			return nil, err
		}
		f.seen, _ = stampOf(path)
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("keychain file: %w", err)
	}
	if err := json.Unmarshal(data, &f.env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if f.env.Format != fileFormat || f.env.Version != fileVersion || f.env.KDF != "scrypt" {
		return nil, fmt.Errorf("%w: not a version %d %s file", ErrCorrupt, fileVersion, fileFormat)
	}
	check, aead, err := derive(passphrase, f.env.Params, f.env.Salt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if subtle.ConstantTimeCompare(check, f.env.Check) != 1 {
		return nil, ErrWrongPassphrase
	}
	f.aead = aead
	plain, err := aead.Open(nil, f.env.Nonce, f.env.Ciphertext, f.env.aad())
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	if err := json.Unmarshal(plain, &f.secrets); err != nil {
		return nil, fmt.Errorf("%w: bad content", ErrCorrupt)
	}
	if f.secrets == nil {
		f.secrets = map[string]string{}
	}
	f.seen, _ = stampOf(path)
	// Tighten permissions left loose by hand (on Windows: by ACL).
	if err := private.File(path); err != nil {
		return nil, fmt.Errorf("keychain file: %w", err)
	}
	return f, nil
}

// derive runs scrypt and returns the check value and the AEAD.
func derive(passphrase string, p kdfParams, salt []byte) (check []byte, aead cipher.AEAD, err error) {
	if len(salt) < 16 {
		return nil, nil, errors.New("salt too short")
	}
	out, err := kdf.Key([]byte(passphrase), salt, p.N, p.R, p.P, 2*keyLen)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(out[:keyLen])
	if err != nil {
		return nil, nil, err
	}
	aead, err = cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(out[keyLen:])
	return sum[:], aead, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Set stores secret for account and rewrites the file.
func (f *File) Set(ctx context.Context, account, secret string) error {
	return f.SetMany(ctx, map[string]string{account: secret})
}

// Get returns the secret of account, ErrNotFound if there is none.
func (f *File) Get(ctx context.Context, account string) (string, error) {
	var s string
	var ok bool
	if err := f.read(ctx, func(secrets map[string]string) { s, ok = secrets[account] }); err != nil {
		return "", err
	}
	if !ok {
		return "", ErrNotFound
	}
	return s, nil
}

// read runs fn on the secrets, reloaded when the file changed, under the
// store's lock.
func (f *File) read(ctx context.Context, fn func(secrets map[string]string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refresh(); err != nil {
		return err
	}
	fn(f.secrets)
	return nil
}

// Delete removes the secret of account, ErrNotFound if there is none.
func (f *File) Delete(ctx context.Context, account string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.change(func(cur map[string]string) (map[string]string, error) {
		if _, ok := cur[account]; !ok {
			return nil, ErrNotFound
		}
		next := maps.Clone(cur)
		delete(next, account)
		return next, nil
	})
}

// SetMany stores all pairs with one rewrite of the file.
func (f *File) SetMany(ctx context.Context, secrets map[string]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.change(func(cur map[string]string) (map[string]string, error) {
		next := maps.Clone(cur)
		maps.Copy(next, secrets)
		return next, nil
	})
}

// GetMany returns the secrets of the accounts that have one.
func (f *File) GetMany(ctx context.Context, accounts []string) (map[string]string, error) {
	out := make(map[string]string, len(accounts))
	err := f.read(ctx, func(secrets map[string]string) {
		for _, a := range accounts {
			if s, ok := secrets[a]; ok {
				out[a] = s
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMany removes the accounts with one rewrite of the file; missing
// accounts are ignored.
func (f *File) DeleteMany(ctx context.Context, accounts []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.change(func(cur map[string]string) (map[string]string, error) {
		next := maps.Clone(cur)
		for _, a := range accounts {
			delete(next, a)
		}
		if len(next) == len(cur) {
			return nil, nil
		}
		return next, nil
	})
}

// change applies edit to the current content under the cross-process
// lock (after re-reading the file) and writes the result; a nil result
// writes nothing.
func (f *File) change(edit func(cur map[string]string) (map[string]string, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.withLock(func() error {
		if err := f.reload(); err != nil {
			return err
		}
		next, err := edit(f.secrets)
		if err != nil || next == nil {
			return err
		}
		if err := f.write(next); err != nil {
			return err
		}
		f.secrets = next
		f.seen, _ = stampOf(f.path)
		return nil
	})
}

// write encrypts secrets and replaces the file atomically. f.mu must be
// held (or f not yet shared).
func (f *File) write(secrets map[string]string) error {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return err
	}
	env := f.env
	env.Nonce = make([]byte, f.aead.NonceSize())
	if _, err := rand.Read(env.Nonce); err != nil {
		return err
	}
	env.Ciphertext = f.aead.Seal(nil, env.Nonce, plain, env.aad())
	clear(plain)
	data, err := json.Marshal(&env)
	if err != nil {
		return err
	}
	if err := private.WriteFile(f.path, data); err != nil {
		return unavailable(fmt.Errorf("keychain file: %w", err))
	}
	f.env = env
	return nil
}

// Accounts lists the accounts that have a secret, sorted. (The OS keychain
// cannot list portably; the file store can, which lets the app and tests
// find secrets no row points to.)
func (f *File) Accounts(ctx context.Context) ([]string, error) {
	var out []string
	if err := f.read(ctx, func(secrets map[string]string) { out = slices.Sorted(maps.Keys(secrets)) }); err != nil {
		return nil, err
	}
	return out, nil
}

// Lock takes an exclusive cross-process lock on the file at path (made
// 0600 if missing), waiting until ctx ends; unlock releases it. It is the
// lock the file store takes around each write, for callers that need a
// longer critical section of their own.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	lf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- lockFile(lf) }()
	select {
	case err := <-done:
		if err != nil {
			lf.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return func() { unlockFile(lf); lf.Close() }, nil
	case <-ctx.Done():
		// The lock call may still succeed: release it then.
		go func() {
			if <-done == nil {
				unlockFile(lf)
			}
			lf.Close()
		}()
		return nil, ctx.Err()
	}
}
