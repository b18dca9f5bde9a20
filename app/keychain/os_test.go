package keychain

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// childEnv selects a helper mode when the test binary re-executes itself.
const childEnv = "GBD_KEYCHAIN_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	default:
		os.Exit(childProbe())
	}
}

// childProbe runs Probe against whatever DBUS_SESSION_BUS_ADDRESS says and
// prints the outcome; exit code 0 means "ErrUnavailable, as expected".
func childProbe() int {
	o := NewOS("gbd-keychain-test", 300*time.Millisecond)
	start := time.Now()
	err := o.Probe(context.Background())
	os.Stdout.WriteString("elapsed=" + time.Since(start).String() + " err=" + errString(err) + "\n")
	if errors.Is(err, ErrUnavailable) {
		return 0
	}
	return 3
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// runChild re-executes the test binary in child mode with the session bus
// address replaced.
func runChild(t *testing.T, busAddress string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=probe", "DBUS_SESSION_BUS_ADDRESS="+busAddress)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Probe with bus %q: child failed (%v): %s", busAddress, err, out)
	}
	return string(out)
}
