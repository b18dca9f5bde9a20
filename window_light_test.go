package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestDesktopHiddenWindowReleasesPage: the real window (GBD_BIN under
// Xvfb, a stand-in tray host) closed to the tray ends its web process;
// a key added while it is hidden is on the page when it is opened again
// (a second launch hands over), which is reloaded before the window shows;
// typed input not saved yet keeps the page (same web process) while hidden.
func TestDesktopHiddenWindowReleasesPage(t *testing.T) {
	bin := desktopEnv(t)
	stop := fakeWatcher(t)
	defer stop()
	fake := proxytest.New(t)
	d := startDesktop(t, bin, fake, testKey(t), "GBD_LOG_LEVEL=debug")
	pid := d.cmd.Process.Pid
	waitFor(t, d.exited, 30*time.Second, "the page to read the keys", func() bool {
		return strings.Contains(d.log.String(), "method=GET path=/api/keys status=200")
	})
	web := webProcesses(pid)
	if len(web) != 1 {
		t.Fatalf("web processes of the shown window: %v, want one", web)
	}

	// Closed to the tray: the page's web process ends.
	d.closeWindow()
	waitFor(t, d.exited, 10*time.Second, "the window to hide", func() bool { return countWindows() == 0 })
	waitFor(t, d.exited, 10*time.Second, "the web process to end while the window is hidden", func() bool {
		return len(webProcesses(pid)) == 0
	})

	// A key added while hidden (through the running instance).
	added := testKey(t)
	file := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(file, []byte(added+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"keys", "add", file, "--data-dir", d.dir}, &out, &errOut); code != 0 {
		t.Fatalf("keys add: exit %d: %s%s", code, out.String(), errOut.String())
	}

	// Reopened by a second launch: a fresh page reads the keys (now two)
	// and the status before the window shows.
	mark := len(d.log.String())
	reopen(t, bin, d)
	after := d.log.String()[mark:]
	if !strings.Contains(after, "window shown: page reloaded") {
		t.Fatalf("the window showed without its reloaded page being ready:\n%s", after)
	}
	keysRead := strings.Index(after, "method=GET path=/api/keys status=200")
	statusRead := strings.Index(after, "method=GET path=/api/status status=200")
	shown := strings.Index(after, "window shown: page reloaded")
	if keysRead < 0 || statusRead < 0 || statusRead > shown {
		t.Fatalf("the reopened page did not read the keys and the status before showing:\n%s", after)
	}
	web = webProcesses(pid)
	if len(web) != 1 {
		t.Fatalf("web processes of the reopened window: %v, want one", web)
	}

	// Unsaved input (typed into Add keys) keeps the page while hidden.
	typeIntoAddKeys(t, d)
	waitFor(t, d.exited, 10*time.Second, "the page to report unsaved input", func() bool {
		return strings.Contains(d.log.String()[mark:], "the page reports unsaved input\" unsaved=true")
	})
	mark = len(d.log.String())
	d.closeWindow()
	waitFor(t, d.exited, 10*time.Second, "the window to hide", func() bool { return countWindows() == 0 })
	time.Sleep(2 * time.Second)
	if now := webProcesses(pid); len(now) != 1 || now[0] != web[0] {
		t.Fatalf("with unsaved input the page was released: web processes %v, were %v", now, web)
	}
	reopen(t, bin, d)
	if strings.Contains(d.log.String()[mark:], "page reloaded") {
		t.Fatal("the page with unsaved input was reloaded on reopening")
	}
	if now := webProcesses(pid); len(now) != 1 || now[0] != web[0] {
		t.Fatalf("the page with unsaved input did not survive: web processes %v, were %v", now, web)
	}
}

// reopen runs bin a second time: it hands over to the running instance,
// which shows its window.
func reopen(t *testing.T, bin string, d *desktopApp) {
	t.Helper()
	second := exec.Command(bin)
	second.Env = append(os.Environ(), "GBD_DATA_DIR="+d.dir, "GBD_ADDR="+d.addr)
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second launch: %v\n%s", err, out)
	}
	waitFor(t, d.exited, 15*time.Second, "the window to show again", func() bool {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Gemini Balance Desktop$").Output()
		d.win = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		return d.win != ""
	})
}

// typeIntoAddKeys clicks into the Add keys text area (where the Keys tab
// of a 1100×760 window with one key puts it) and types.
func typeIntoAddKeys(t *testing.T, d *desktopApp) {
	t.Helper()
	for _, args := range [][]string{
		{"windowfocus", "--sync", d.win},
		{"mousemove", "--window", d.win, "550", "260", "click", "1"},
		{"type", "--delay", "20", "not saved yet"},
	} {
		if out, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
	}
}

// webProcesses lists the WebKitWebProcess descendants of pid.
func webProcesses(pid int) []int {
	var found []int
	var walk func(int)
	walk = func(p int) {
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(p) + "/task/*/children")
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(b)) {
				child, err := strconv.Atoi(c)
				if err != nil {
					continue
				}
				if comm, _ := os.ReadFile("/proc/" + c + "/comm"); strings.HasPrefix(string(comm), "WebKitWebProces") {
					found = append(found, child)
				}
				walk(child)
			}
		}
	}
	walk(pid)
	return found
}
