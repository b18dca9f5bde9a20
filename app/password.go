package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gemini-balance/desktop/app/kdf"
)

// The admin password is kept only as a slow hash (scrypt), in the store's
// settings as "scrypt$<log2 N>$<r>$<p>$<salt>$<hash>" (base64, no padding).
// Knowing the hash does not let anyone in; guessing from it costs 32 MiB
// and tens of milliseconds per try.

// scrypt parameters: N = 2^15, r = 8, p = 1 (32 MiB, ~50–100 ms here).
const (
	scryptLogN   = 15
	scryptR      = 8
	scryptP      = 1
	scryptKeyLen = 32
	scryptSalt   = 16
)

// MinAdminPasswordLen is the shortest admin password accepted.
const MinAdminPasswordLen = 12

// hashPassword returns the encoded scrypt hash of pw with a fresh salt;
// logN is log2 of scrypt's N (0: scryptLogN; the hash records it).
func hashPassword(pw string, logN int) (string, error) {
	if logN == 0 {
		logN = scryptLogN
	}
	salt := make([]byte, scryptSalt)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	dk, err := kdf.Key([]byte(pw), salt, 1<<logN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("scrypt$%d$%d$%d$%s$%s", logN, scryptR, scryptP, enc.EncodeToString(salt), enc.EncodeToString(dk)), nil
}

// errBadHash reports a stored hash this version cannot read.
var errBadHash = errors.New("admin password hash: unreadable")

// verifyPassword reports whether pw matches the encoded hash, comparing in
// constant time.
func verifyPassword(encoded, pw string) (bool, error) {
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "scrypt" {
		return false, errBadHash
	}
	logN, err1 := strconv.Atoi(f[1])
	r, err2 := strconv.Atoi(f[2])
	p, err3 := strconv.Atoi(f[3])
	salt, err4 := base64.RawStdEncoding.DecodeString(f[4])
	want, err5 := base64.RawStdEncoding.DecodeString(f[5])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil || logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 4 || len(want) < 16 {
		return false, errBadHash
	}
	got, err := kdf.Key([]byte(pw), salt, 1<<logN, r, p, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// maxHashChecks bounds the scrypt computations running at once (each
// takes 32 MiB): a crowd of guesses waits instead of eating the memory.
const maxHashChecks = 2

// adminAuth checks the admin password against its hash. A password that
// verified once is remembered as its SHA-256 in memory, so a script that
// sends it as Bearer token on every call pays for scrypt only once.
type adminAuth struct {
	sem chan struct{}

	mu       sync.Mutex
	hash     string   // encoded scrypt hash; "" before the first load
	verified [32]byte // SHA-256 of the password that last verified
	known    bool     // verified is set
}

func newAdminAuth() *adminAuth { return &adminAuth{sem: make(chan struct{}, maxHashChecks)} }

// set replaces the hash (forgetting the remembered password).
func (x *adminAuth) set(hash string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.hash, x.known, x.verified = hash, false, [32]byte{}
}

// check reports whether pw is the admin password. It waits for a free
// scrypt slot unless pw is the remembered password; ctx ends the wait.
func (x *adminAuth) check(ctx context.Context, pw string) bool {
	if pw == "" {
		return false
	}
	sum := sha256.Sum256([]byte(pw))
	x.mu.Lock()
	hash, known, verified := x.hash, x.known, x.verified
	x.mu.Unlock()
	if hash == "" {
		return false
	}
	if known && subtle.ConstantTimeCompare(sum[:], verified[:]) == 1 {
		return true
	}
	select {
	case x.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	ok, err := verifyPassword(hash, pw)
	<-x.sem
	if err != nil || !ok {
		return false
	}
	x.mu.Lock()
	if x.hash == hash { // not changed meanwhile
		x.verified, x.known = sum, true
	}
	x.mu.Unlock()
	return true
}
