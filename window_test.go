package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDesktopWindow starts the real desktop binary (GBD_BIN, built with
// -tags desktop,production,webkit2_41) on the X display, finds its window,
// takes a screenshot and checks that something was drawn, that the page
// read the status through the window's in-process way to the management
// API (Wails' asset server → app.WindowHandler, logged at debug level),
// that the proxy serves, and that a second launch hands over to the first
// instance and exits. build/test.sh runs it under Xvfb with
// GBD_REQUIRE_DISPLAY=1.
func TestDesktopWindow(t *testing.T) {
	required := os.Getenv("GBD_REQUIRE_DISPLAY") == "1"
	skip := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (GBD_REQUIRE_DISPLAY=1)", args...)
		}
		t.Skipf(format, args...)
	}
	bin := os.Getenv("GBD_BIN")
	if bin == "" {
		skip("GBD_BIN is not set: build the desktop binary and point GBD_BIN at it")
	}
	if os.Getenv("DISPLAY") == "" {
		skip("no DISPLAY")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		skip("no D-Bus session (the single-instance lock uses it)")
	}
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s not installed", tool)
		}
	}

	addr := freeAddr(t)
	dir := t.TempDir()
	env := append(os.Environ(), "GBD_PASSPHRASE=window-test", "GBD_SECRET_STORE=file", "GBD_DATA_DIR="+dir, "GBD_ADDR="+addr, "GBD_LOG_LEVEL=debug")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	first := exec.CommandContext(ctx, bin)
	first.Env = env
	var log lockedLog
	first.Stdout, first.Stderr = &log, &log
	if err := first.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	t.Cleanup(func() {
		first.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			first.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("app output:\n%s", log.String())
		}
	})

	// The window appears and the proxy inside the app serves.
	var win string
	waitFor(t, exited, 60*time.Second, "the window to appear", func() bool {
		out, _ := exec.Command("xdotool", "search", "--name", "^Gemini Balance Desktop$").Output()
		win = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		return win != ""
	})
	waitFor(t, exited, 30*time.Second, "the proxy to answer /healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	name, err := exec.Command("xdotool", "getwindowname", win).Output()
	if err != nil || strings.TrimSpace(string(name)) != "Gemini Balance Desktop" {
		t.Errorf("window name = %q, %v", name, err)
	}

	// The page asked for the status in-process: Wails' asset server handed
	// the request to app.WindowHandler, which served it without a login.
	waitFor(t, exited, 30*time.Second, "the window's page to read /api/status in-process", func() bool {
		for _, line := range strings.Split(log.String(), "\n") {
			if strings.Contains(line, `msg="window API request"`) && strings.Contains(line, "path=/api/status") && strings.Contains(line, "status=200") {
				return true
			}
		}
		return false
	})

	// Something was drawn: the UI, not a blank or black window. The page
	// loads its status through the API; give it a moment to render.
	shot := filepath.Join(dir, "window.png")
	waitFor(t, exited, 30*time.Second, "the window to show the UI", func() bool {
		if err := exec.Command("import", "-window", win, shot).Run(); err != nil {
			return false
		}
		n, err := distinctColours(shot)
		return err == nil && n >= 16
	})
	if keep := os.Getenv("GBD_SCREENSHOT_DIR"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(filepath.Join(keep, "window.png"), b, 0o644)
		}
	}

	// A change from the page takes the same way: a click on the header's
	// Pause button (at the right end of the header of the 1100-pixel-wide
	// window) sends PATCH /api/settings from WebKit, Origin wails://wails.
	if err := exec.Command("xdotool", "mousemove", "--window", win, "955", "24", "click", "1").Run(); err != nil {
		t.Fatalf("xdotool click: %v", err)
	}
	waitFor(t, exited, 30*time.Second, "the click on Pause to reach the API in-process", func() bool {
		for _, line := range strings.Split(log.String(), "\n") {
			if strings.Contains(line, `msg="window API request"`) && strings.Contains(line, "method=PATCH path=/api/settings status=200") {
				return true
			}
		}
		return false
	})
	if strings.Contains(log.String(), "window API request refused") {
		t.Errorf("the app refused a request of its own window's page")
	}

	// A second launch hands over to the running instance and exits.
	second := exec.CommandContext(ctx, bin)
	second.Env = env
	out, err := runWithin(second, 30*time.Second)
	if err != nil {
		t.Errorf("second instance: %v\n%s", err, out)
	}
	select {
	case err := <-exited:
		t.Fatalf("the first instance exited when a second was launched: %v", err)
	default:
	}
	if n := countWindows(); n != 1 {
		t.Errorf("windows named Gemini Balance Desktop = %d, want 1 (single instance)", n)
	}
}

// lockedLog collects a child's output while the test reads it.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond until it holds, the app exits, or the time is up.
func waitFor(t *testing.T, exited <-chan error, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("the app exited while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func runWithin(cmd *exec.Cmd, limit time.Duration) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(out.String()), err
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		return []byte(out.String()), errors.New("did not exit: the single-instance lock did not hand over")
	}
}

func countWindows() int {
	out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Gemini Balance Desktop$").Output()
	return len(strings.Fields(string(out)))
}

// distinctColours counts the colours in a PNG (up to 10,000).
func distinctColours(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("decode %s: %w", path, err)
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 10000 {
				return len(seen), nil
			}
		}
	}
	return len(seen), nil
}
