package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestDesktopHiddenWindowReleasesPage: the real window (GBD_BIN under
// Xvfb, a stand-in tray host) closed to the tray ends its web process,
// then WebKit's network process, and pages out its code;
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
	web := childrenNamed(pid, "WebKitWebProces")
	if len(web) != 1 {
		t.Fatalf("web processes of the shown window: %v, want one", web)
	}
	// Without GPU compositing the app's own process needs no GL driver
	// (gbd_keep_gl_out): with Mesa it would map its DRI driver and libLLVM.
	if gl := glDrivers(t, pid); len(gl) > 0 {
		t.Errorf("the app's process maps a GL driver with the window shown: %v", gl)
	}

	// Closed to the tray: the page's web process ends.
	d.closeWindow()
	waitFor(t, d.exited, 10*time.Second, "the window to hide", func() bool { return countWindows() == 0 })
	waitFor(t, d.exited, 10*time.Second, "the web process to end while the window is hidden", func() bool {
		return len(childrenNamed(pid, "WebKitWebProces")) == 0
	})
	// Then WebKit's network process, and the window's code pages go back.
	waitFor(t, d.exited, 20*time.Second, "the network process to end while the window is hidden", func() bool {
		return len(childrenNamed(pid, "WebKitNetworkPr")) == 0
	})
	waitFor(t, d.exited, 10*time.Second, "the code pages to be given back", func() bool {
		return strings.Contains(d.log.String(), "window hidden: code pages given back")
	})
	if strings.Contains(d.log.String(), "code pages given back\" mappings_MiB=0 ") {
		t.Errorf("no mapping was paged out:\n%s", d.log.String())
	}

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
	web = childrenNamed(pid, "WebKitWebProces")
	if len(web) != 1 {
		t.Fatalf("web processes of the reopened window: %v, want one", web)
	}
	net := childrenNamed(pid, "WebKitNetworkPr")
	if len(net) != 1 {
		t.Fatalf("network processes of the reopened window: %v, want one", net)
	}

	// Unsaved input (typed into Add keys) keeps the page while hidden.
	typeIntoAddKeys(t, d, mark)
	mark = len(d.log.String())
	d.closeWindow()
	waitFor(t, d.exited, 10*time.Second, "the window to hide", func() bool { return countWindows() == 0 })
	time.Sleep(8 * time.Second) // past the 5 s after which a released page's network process ends
	if now := childrenNamed(pid, "WebKitWebProces"); len(now) != 1 || now[0] != web[0] {
		t.Fatalf("with unsaved input the page was released: web processes %v, were %v", now, web)
	}
	if now := childrenNamed(pid, "WebKitNetworkPr"); len(now) != 1 || now[0] != net[0] {
		t.Fatalf("with unsaved input the page's network process was ended: %v, was %v", now, net)
	}
	reopen(t, bin, d)
	if strings.Contains(d.log.String()[mark:], "page reloaded") {
		t.Fatal("the page with unsaved input was reloaded on reopening")
	}
	if now := childrenNamed(pid, "WebKitWebProces"); len(now) != 1 || now[0] != web[0] {
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
// of a 1100×760 window with one key puts it) and types, until the page
// reports unsaved input in the app's log after mark. A click right after
// the window shows may come before the page takes input (seen once on a
// loaded machine with cold caches, the window's code just paged back in):
// it is tried three times, 5 s each.
func typeIntoAddKeys(t *testing.T, d *desktopApp, mark int) {
	t.Helper()
	reported := func() bool {
		return strings.Contains(d.log.String()[mark:], "the page reports unsaved input\" unsaved=true")
	}
	for try := 1; ; try++ {
		for _, args := range [][]string{
			{"windowfocus", "--sync", d.win},
			{"mousemove", "--window", d.win, "550", "260", "click", "1"},
			{"type", "--delay", "20", "not saved yet"},
		} {
			if out, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
				t.Fatalf("xdotool %v: %v\n%s", args, err, out)
			}
		}
		for deadline := time.Now().Add(5 * time.Second); !reported() && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
		}
		if reported() {
			return
		}
		if try == 3 {
			t.Fatalf("the page did not report unsaved input after typing into Add keys %d times", try)
		}
		t.Logf("typing into Add keys, try %d: the page reported no unsaved input in 5 s; again", try)
	}
}

// childrenNamed lists the descendants of pid whose command name (15
// bytes at most) starts with name.
func childrenNamed(pid int, name string) []int {
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
				if comm, _ := os.ReadFile("/proc/" + c + "/comm"); strings.HasPrefix(string(comm), name) {
					found = append(found, child)
				}
				walk(child)
			}
		}
	}
	walk(pid)
	return found
}

// glDrivers lists the GL driver files (Mesa's DRI drivers, libgallium,
// libLLVM) mapped by process pid.
func glDrivers(t *testing.T, pid int) []string {
	t.Helper()
	maps, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		base := filepath.Base(f[5])
		if (strings.HasSuffix(base, "_dri.so") || strings.HasPrefix(base, "libgallium") || strings.HasPrefix(base, "libLLVM")) && !slices.Contains(found, base) {
			found = append(found, base)
		}
	}
	return found
}
