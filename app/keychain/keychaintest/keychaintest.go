// Package keychaintest gives tests the real OS keychain (the Secret
// Service on a D-Bus session) under a throwaway service name.
package keychaintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
)

// Real returns an OS keychain on a working Secret Service under a
// fresh service name (its items removed at cleanup), or skips the test —
// unless GBD_REQUIRE_KEYRING=1, then it fails. Run for real with:
//
//	dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; GBD_REQUIRE_KEYRING=1 go test ./app/...'
func Real(t testing.TB) *keychain.OS {
	t.Helper()
	require := os.Getenv("GBD_REQUIRE_KEYRING") == "1"
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if require {
			t.Fatal("GBD_REQUIRE_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is not set")
		}
		t.Skip("no D-Bus session (run under dbus-run-session with gnome-keyring-daemon --unlock)")
	}
	var b [6]byte
	rand.Read(b[:])
	svc := "gbd-vault-test-" + hex.EncodeToString(b[:])
	kc := keychain.NewOS(svc, 10*time.Second)
	var err error
	for range 10 { // a daemon started just before may need a moment
		if err = kc.Probe(context.Background()); err == nil {
			return kc
		}
		time.Sleep(300 * time.Millisecond)
	}
	if require {
		t.Fatalf("GBD_REQUIRE_KEYRING=1 but the Secret Service does not work: %v", err)
	}
	t.Skipf("Secret Service not usable: %v", err)
	return nil
}
