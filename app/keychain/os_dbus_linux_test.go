//go:build linux

package keychain

// Tests against the Secret Service over D-Bus (Linux): an absent or hung
// session bus, a locked gnome-keyring, and a real unlocked one.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOSNoSessionBus(t *testing.T) {
	addr := "unix:path=" + filepath.Join(t.TempDir(), "no-such-socket")
	out := runChild(t, addr)
	t.Logf("absent bus: %s", strings.TrimSpace(out))
}

// TestOSHungSessionBus points the session bus at a socket that accepts
// connections and never answers: Probe must give up with ErrUnavailable
// instead of hanging (the child would never exit otherwise).
func TestOSHungSessionBus(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets: %v", err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answer
		}
	}()
	out := runChild(t, "unix:path="+sock)
	t.Logf("hung bus: %s", strings.TrimSpace(out))
}

// realKeyring returns an OS store on a working Secret Service, or skips
// the test — unless GBD_REQUIRE_KEYRING=1, then it fails. A freshly started
// gnome-keyring-daemon may need a moment, so the probe is retried briefly.
func realKeyring(t *testing.T) *OS {
	t.Helper()
	require := os.Getenv("GBD_REQUIRE_KEYRING") == "1"
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if require {
			t.Fatal("GBD_REQUIRE_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is not set")
		}
		t.Skip("no D-Bus session (set DBUS_SESSION_BUS_ADDRESS, e.g. under dbus-run-session)")
	}
	o := NewOS("gbd-keychain-test", 5*time.Second)
	var err error
	for i := 0; i < 10; i++ {
		if err = o.Probe(context.Background()); err == nil {
			return o
		}
		time.Sleep(300 * time.Millisecond)
	}
	if require {
		t.Fatalf("GBD_REQUIRE_KEYRING=1 but the Secret Service does not work: %v", err)
	}
	t.Skipf("Secret Service not usable: %v", err)
	return nil
}

func randomAccount(t *testing.T) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b[:])
}

func TestOSRealKeyring(t *testing.T) {
	o := realKeyring(t)
	testStore(t, o, randomAccount(t))
}

func TestOSRealKeyringTimeout(t *testing.T) {
	realKeyring(t)
	// A timeout far below one D-Bus round trip: the call gives up with
	// ErrUnavailable (or, if the machine is fast enough, succeeds).
	o := NewOS("gbd-keychain-test", time.Nanosecond)
	acc := randomAccount(t)
	err := o.Set(context.Background(), acc, "x")
	if err != nil && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set with a 1ns timeout = %v, want nil or ErrUnavailable", err)
	}
	// Clean up with a sane timeout (the timed-out call may still land).
	slow := NewOS("gbd-keychain-test", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	_ = slow.Delete(context.Background(), acc)
}

// TestOSLockedKeyring runs Probe against a gnome-keyring whose login
// keyring exists but is locked (the daemon started without --unlock, no
// display for a prompt). It needs dbus-run-session and gnome-keyring-daemon.
func TestOSLockedKeyring(t *testing.T) {
	if testing.Short() {
		t.Skip("starts D-Bus sessions")
	}
	for _, bin := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("GBD_REQUIRE_KEYRING") == "1" {
				t.Fatalf("GBD_REQUIRE_KEYRING=1 but %s is missing", bin)
			}
			t.Skipf("%s not installed", bin)
		}
	}
	data := t.TempDir()
	env := append(os.Environ(), "XDG_DATA_HOME="+data, "XDG_RUNTIME_DIR="+t.TempDir(), "DISPLAY=", "WAYLAND_DISPLAY=")
	// Session 1 creates the login keyring with a password and stores an item.
	create := exec.Command("dbus-run-session", "--", "sh", "-c",
		`printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && `+
			`i=0; until printf s | secret-tool store --label=gbd service gbd-keychain-test username seed 2>/dev/null; do i=$((i+1)); [ $i -gt 20 ] && exit 1; sleep 0.1; done`)
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		t.Skipf("could not create a login keyring (secret-tool missing?): %v: %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "keyrings", "login.keyring")); err != nil {
		t.Fatalf("no login keyring written: %v", err)
	}
	// Session 2 starts the daemon without unlocking: the keyring is locked.
	probe := exec.Command("dbus-run-session", "--", "sh", "-c",
		`gnome-keyring-daemon --start --components=secrets >/dev/null && sleep 0.3 && exec "$0" -test.run='^$'`, os.Args[0])
	probe.Env = append(env, childEnv+"=probe")
	out, err := probe.Output()
	if err != nil {
		t.Fatalf("Probe on a locked keyring: child failed (%v): %s", err, out)
	}
	t.Logf("locked keyring: %s", strings.TrimSpace(string(out)))
}
