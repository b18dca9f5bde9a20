package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/app/tray/traytest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The desktop lifecycle with the real window (GBD_BIN under Xvfb, a D-Bus
// session): SIGTERM and SIGINT quit cleanly while a stream is in flight
// (the stream completes, the exit status is 0, the control file is gone);
// closing the window quits when no tray host is on the bus, and hides it
// when one is; the tray library's own error lines never reach the
// terminal.

// desktopEnv checks what the lifecycle tests need, or skips.
func desktopEnv(t *testing.T) string {
	t.Helper()
	required := os.Getenv("GBD_REQUIRE_DISPLAY") == "1"
	skip := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (GBD_REQUIRE_DISPLAY=1)", args...)
		}
		t.Skipf(format, args...)
	}
	bin := os.Getenv("GBD_BIN")
	switch {
	case bin == "":
		skip("GBD_BIN is not set: build the desktop binary and point GBD_BIN at it")
	case os.Getenv("DISPLAY") == "":
		skip("no DISPLAY")
	case os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "":
		skip("no D-Bus session")
	}
	for _, tool := range []string{"xdotool", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s not installed", tool)
		}
	}
	return bin
}

// desktopApp is a running desktop binary.
type desktopApp struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	addr   string
	log    *lockedLog
	exited chan error
	win    string
}

// startDesktop prepares a data dir (file store, one key, upstream = fake)
// and starts the binary on it (with env added), waiting for the window and
// the proxy.
func startDesktop(t *testing.T, bin string, fake *proxytest.Server, key string, env ...string) *desktopApp {
	t.Helper()
	dir := t.TempDir()
	a, err := app.New(context.Background(), app.Options{DataDir: dir, SecretStore: "file"})
	if err != nil {
		t.Fatal(err)
	}
	s := a.Settings()
	s.Upstream = fake.URL()
	if _, err := a.UpdateSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Keys().AddBulk(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	a.Close()

	d := &desktopApp{t: t, dir: dir, addr: freeAddr(t), log: &lockedLog{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin)
	d.cmd.Env = append(append(os.Environ(), "GBD_DATA_DIR="+dir, "GBD_ADDR="+d.addr), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("app output:\n%s", d.log.String())
		}
	})
	waitFor(t, d.exited, 60*time.Second, "the window", func() bool {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Gemini Balance Desktop$").Output()
		d.win = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		return d.win != ""
	})
	waitFor(t, d.exited, 30*time.Second, "the proxy", func() bool {
		resp, err := http.Get("http://" + d.addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

// waitExit waits for the process to end and returns its error.
func (d *desktopApp) waitExit(limit time.Duration) (error, bool) {
	select {
	case err := <-d.exited:
		d.exited <- err // for the cleanup
		return err, true
	case <-time.After(limit):
		return nil, false
	}
}

func (d *desktopApp) closeWindow() {
	d.t.Helper()
	if out, err := traytest.CloseWindow(d.win); err != nil {
		d.t.Fatalf("WM_DELETE_WINDOW: %v\n%s", err, out)
	}
}

func (d *desktopApp) checkQuiet() {
	d.t.Helper()
	if strings.Contains(d.log.String(), "systray error") {
		d.t.Errorf("the tray library's raw error reached the terminal:\n%s", d.log.String())
	}
}

func TestDesktopSignalsQuitCleanly(t *testing.T) {
	bin := desktopEnv(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			fake := proxytest.New(t)
			fake.SetDefaultStream(8, 250*time.Millisecond) // a 2 s stream
			key := testKey(t)
			d := startDesktop(t, bin, fake, key)
			accessKey := readAccessKey(t, d.dir)

			req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
				strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
			req.Header.Set("x-goog-api-key", accessKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("stream: status %d", resp.StatusCode)
			}
			sc := bufio.NewScanner(resp.Body)
			events := 0
			for events == 0 && sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data:") {
					events++
				}
			}
			// The stream is in flight: signal.
			d.cmd.Process.Signal(sig)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data:") {
					events++
				}
			}
			if events != 8 {
				t.Errorf("the stream in flight got %d of 8 events before the app quit (%v)", events, sc.Err())
			}
			err, done := d.waitExit(20 * time.Second)
			if !done {
				t.Fatalf("%v did not quit the app within 20 s (the window was only hidden?)", sig)
			}
			if err != nil {
				t.Errorf("exit after %v: %v, want status 0", sig, err)
			}
			if _, ok, _ := app.ReadControl(d.dir); ok {
				t.Errorf("the control file is still there after a clean quit")
			}
			if !strings.Contains(d.log.String(), "tray stopped") {
				t.Errorf("the tray was not removed on %v", sig)
			}
			d.checkQuiet()
		})
	}
}

func TestDesktopCloseWithoutTrayHostQuits(t *testing.T) {
	bin := desktopEnv(t)
	fake := proxytest.New(t)
	d := startDesktop(t, bin, fake, testKey(t))
	d.closeWindow()
	err, done := d.waitExit(20 * time.Second)
	if !done {
		t.Fatal("closing the window with no tray host left the app running invisibly")
	}
	if err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	d.checkQuiet()
}

func TestDesktopCloseWithTrayHostHides(t *testing.T) {
	bin := desktopEnv(t)
	stop := fakeWatcher(t)
	defer stop()
	fake := proxytest.New(t)
	d := startDesktop(t, bin, fake, testKey(t))
	d.closeWindow()
	waitFor(t, d.exited, 10*time.Second, "the window to hide", func() bool { return countWindows() == 0 })
	if _, done := d.waitExit(2 * time.Second); done {
		t.Fatal("closing the window quit although a tray icon can bring it back")
	}
	d.cmd.Process.Signal(syscall.SIGINT)
	if err, done := d.waitExit(20 * time.Second); !done || err != nil {
		t.Fatalf("SIGINT with the window hidden: done %v, %v", done, err)
	}
}

// fakeWatcher owns org.kde.StatusNotifierWatcher on the session bus, as a
// tray host does, until stop.
func fakeWatcher(t *testing.T) (stop func()) {
	t.Helper()
	w, err := traytest.StartWatcher(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		t.Fatal(err)
	}
	return func() { w.Close() }
}

// readAccessKey asks the running instance for its access key (through the
// CLI path: the control file in the data dir).
func readAccessKey(t *testing.T, dir string) string {
	t.Helper()
	var out, errOut strings.Builder
	if code := run([]string{"access-key", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("access-key: exit %d: %s", code, errOut.String())
	}
	return strings.TrimSpace(out.String())
}
