// Package kdf derives keys from passwords with scrypt, the one slow hash of
// the app (the admin password, the encrypted key file).
package kdf

import (
	"runtime/debug"

	"golang.org/x/crypto/scrypt"
)

// bigWork is the scrypt work buffer from which Key hands the memory back
// at once.
const bigWork = 8 << 20

// Key is scrypt.Key, but a large work buffer (128·N·r bytes: 32 MiB at
// N = 2^15, r = 8) goes back to the OS when it returns. The buffer is
// garbage by then, but the Go runtime keeps freed heap pages until a
// later collection, and an idle app may not run one for minutes: each
// derivation at start-up would stay resident (issue 7 measured 36 MiB of
// the idle desktop app's memory).
func Key(password, salt []byte, N, r, p, keyLen int) ([]byte, error) {
	key, err := scrypt.Key(password, salt, N, r, p, keyLen)
	if 128*N*r >= bigWork {
		debug.FreeOSMemory()
	}
	return key, err
}
