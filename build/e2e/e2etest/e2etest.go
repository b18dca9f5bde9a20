package e2etest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a skip for a missing tool (node,
// node_modules, Chromium) into a test failure.
const RequireEnv = "GBD_REQUIRE_E2E"

// DefaultTimeout bounds one script run; a test's own deadline (go test -timeout) wins when
// it is sooner.
const DefaultTimeout = 3 * time.Minute

// Required reports whether end-to-end prerequisites are mandatory (GBD_REQUIRE_E2E=1).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing skips the test because what is not available, or fails it when
// GBD_REQUIRE_E2E=1.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s, and %s=1 requires it (run build/test.sh, which installs everything)", what, RequireEnv)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", what, RequireEnv)
}

// Dir returns the absolute path of build/e2e. It looks upwards from the working directory
// for the module root (go test runs in the package's folder), then falls back to this
// source file's location.
func Dir(t testing.TB) string {
	t.Helper()
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "build", "e2e", "package.json")) {
				return filepath.Join(d, "build", "e2e")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Dir(filepath.Dir(file))
		if fileExists(filepath.Join(d, "package.json")) {
			return d
		}
	}
	t.Fatalf("e2etest: cannot find build/e2e from the working directory")
	return ""
}

// Node returns the path of the node executable and the build/e2e folder with its
// node_modules installed, skipping or failing the test (see [Missing]) when either is absent.
func Node(t testing.TB) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node is not installed")
		return "", ""
	}
	dir = Dir(t)
	if !fileExists(filepath.Join(dir, "node_modules", ".package-lock.json")) {
		Missing(t, "build/e2e/node_modules is missing (run: npm ci --prefix build/e2e)")
		return "", ""
	}
	return node, dir
}

// Chromium returns the path of a Chromium executable for playwright-core's executablePath
// ($GBD_CHROMIUM, /usr/bin/chromium, or chromium / chromium-browser on PATH), skipping or
// failing the test when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, c := range []string{os.Getenv("GBD_CHROMIUM"), "/usr/bin/chromium"} {
		if c != "" && fileExists(c) {
			return c
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "Chromium is not installed (apt-get install chromium)")
	return ""
}

// Result is the outcome of one script run.
type Result struct {
	Stdout, Stderr []byte
	// Err is nil when the script exited 0; otherwise the exit error or the timeout.
	Err error
}

// TryNode runs build/e2e/script with node and returns what happened; a non-zero exit is
// reported in Result.Err, not as a test failure, for tests that expect a client to fail.
// env is added to the test process's environment. Missing node or node_modules skips or
// fails the test (see [Missing]).
func TryNode(t testing.TB, script string, env map[string]string) Result {
	t.Helper()
	node, dir := Node(t)
	path := script
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, script)
	}
	if !fileExists(path) {
		t.Fatalf("e2etest: script %s does not exist", path)
	}

	timeout := DefaultTimeout
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			if left := time.Until(dl) - 5*time.Second; left > 0 && left < timeout {
				timeout = left
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, node, path)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killGroup(cmd) // also ends browsers the script started
	cmd.WaitDelay = 5 * time.Second

	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("node %s: timed out after %v: %w", script, timeout, errors.Join(ctx.Err(), err))
	} else if err != nil {
		err = fmt.Errorf("node %s: %w", script, err)
	}
	return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Err: err}
}

// RunNode runs build/e2e/script with node and the extra environment env, and returns its
// standard output. The test fails when the script exits non-zero or times out (its output
// is logged); it is skipped, or fails under GBD_REQUIRE_E2E=1, when node or build/e2e's
// node_modules is missing.
func RunNode(t testing.TB, script string, env map[string]string) []byte {
	t.Helper()
	r := TryNode(t, script, env)
	if r.Err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if len(r.Stderr) > 0 {
		t.Logf("node %s stderr:\n%s", script, r.Stderr)
	}
	return r.Stdout
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
