//go:build linux

package tray

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/build"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/gemini-balance/desktop/app/tray/traytest"
)

// The real-D-Bus test runs in child processes of the test binary (systray is process-global
// and starts only once per process) on a private dbus-daemon, with a fake
// org.kde.StatusNotifierWatcher standing in for the desktop's tray host.
//
// A host reads the menu with com.canonical.dbusmenu.GetLayout. In systray v1.12.2 the first
// GetLayout reads the layout revision after starting a goroutine that bumps it 150 ms later
// under a different lock: a data race inside the library, reported by every -race run that
// calls GetLayout. So the race-enabled binary reads the menu with GetGroupProperties
// (race-checking this package's own concurrency), and a second child built without -race
// reads it with GetLayout, exactly as a host does.

const (
	childEnv  = "GBD_TRAY_CHILD" // "layout" or "props": how the child reads the menu
	failAfter = 20 * time.Second // a deadline for a hung test, not a timing assertion
)

// TestTrayOverDBus starts a private session bus and runs TestTrayChild against it.
func TestTrayOverDBus(t *testing.T) {
	required := os.Getenv("GBD_REQUIRE_DISPLAY") == "1"
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if required {
			t.Fatalf("dbus-daemon not found and GBD_REQUIRE_DISPLAY=1: %v", err)
		}
		t.Skipf("dbus-daemon not found (install dbus): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	bus := exec.CommandContext(ctx, daemon, "--session", "--nofork", "--nopidfile",
		"--address=unix:path="+filepath.Join(t.TempDir(), "bus"), "--print-address=1")
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	defer func() { _ = bus.Process.Kill(); _ = bus.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read dbus-daemon address: %v", err)
	}
	addr := strings.TrimSpace(line)

	run := func(bin, mode string) {
		t.Helper()
		child := exec.CommandContext(ctx, bin, "-test.run=^TestTrayChild$", "-test.v", "-test.count=1")
		child.Env = append(os.Environ(), childEnv+"="+mode, "DBUS_SESSION_BUS_ADDRESS="+addr)
		got, err := child.CombinedOutput()
		t.Logf("child (%s) output:\n%s", mode, got)
		if err != nil {
			t.Fatalf("tray child test (%s) failed: %v", mode, err)
		}
		if !strings.Contains(string(got), "--- PASS: TestTrayChild") {
			t.Fatalf("tray child test (%s) did not pass (skipped?)", mode)
		}
	}
	if !raceEnabled {
		run(os.Args[0], "layout")
		return
	}
	run(os.Args[0], "props")
	goBin := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			if required {
				t.Fatalf("go not found to build the GetLayout child: %v", err)
			}
			t.Skipf("go not found to build the GetLayout child: %v", err)
		}
	}
	plain := filepath.Join(t.TempDir(), "tray.test")
	build := exec.CommandContext(ctx, goBin, "test", "-c", "-o", plain, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c (without -race): %v\n%s", err, b)
	}
	run(plain, "layout")
}

// TestStartWithoutSessionBus: no session bus means no tray and ErrUnavailable, not a panic
// later in Stop.
func TestStartWithoutSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus-here"))
	tr := New(newRecorder(), nil)
	err := tr.Start()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start() without a session bus = %v, want ErrUnavailable", err)
	}
	tr.Stop()
	tr.Update(State{Running: true}) // still must not block
}

// startWatcher runs the stand-in tray host (traytest) on the bus at addr.
func startWatcher(t *testing.T, addr string) *traytest.Watcher {
	t.Helper()
	w, err := traytest.StartWatcher(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// menuEntry is one top-level entry of a dbusmenu.
type menuEntry struct {
	id    int32
	props map[string]dbus.Variant
}

func (e menuEntry) label() string {
	if v, ok := e.props["type"]; ok && v.Value() == "separator" {
		return "---"
	}
	s, _ := e.props["label"].Value().(string)
	return s
}

func (e menuEntry) flag(name string) bool {
	b, _ := e.props[name].Value().(bool)
	return b
}

func entryLabels(es []menuEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.label())
	}
	return out
}

// getLayout reads the top-level entries with GetLayout, as a tray host does.
func getLayout(t *testing.T, menu dbus.BusObject) []menuEntry {
	t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	var entries []menuEntry
	for _, c := range root.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) != 3 {
			t.Fatalf("GetLayout child = %#v, want (ia{sv}av)", c.Value())
		}
		id, _ := f[0].(int32)
		props, _ := f[1].(map[string]dbus.Variant)
		entries = append(entries, menuEntry{id: id, props: props})
	}
	return entries
}

// getProps reads the entries with GetGroupProperties: systray numbers items (separators
// included) from 1 in creation order, which is menu order when the menu was built once.
func getProps(t *testing.T, menu dbus.BusObject) []menuEntry {
	t.Helper()
	ids := make([]int32, 64)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	var got []struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetGroupProperties", 0, ids, []string{}).Store(&got); err != nil {
		t.Fatalf("GetGroupProperties: %v", err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	var entries []menuEntry
	for _, g := range got {
		entries = append(entries, menuEntry{id: g.ID, props: g.Props})
	}
	return entries
}

func waitCall(t *testing.T, r *recorder, want string) {
	t.Helper()
	select {
	case got := <-r.fired:
		if got != want {
			t.Fatalf("action = %q, want %q", got, want)
		}
	case <-time.After(failAfter):
		t.Fatalf("no action after click, want %q", want)
	}
}

// TestTrayChild is the tray test proper; it only runs as TestTrayOverDBus's child.
func TestTrayChild(t *testing.T) {
	mode, addr := os.Getenv(childEnv), os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if (mode != "layout" && mode != "props") || addr == "" {
		t.Skip("runs as a child of TestTrayOverDBus")
	}
	read := getLayout
	if mode == "props" {
		read = getProps
	}
	w := startWatcher(t, addr)

	r := newRecorder()
	tr := New(r, slog.New(slog.NewTextHandler(t.Output(), nil)))
	first := State{Running: true, Addr: "127.0.0.1:8321", Port: 8321, Total: 4, Active: 2, Cooling: 1, Dead: 1}
	tr.Update(first)
	if err := tr.Start(); err != nil {
		t.Fatalf("Start() = %v, want nil", err)
	}
	defer tr.Stop()

	var reg traytest.Registration
	select {
	case reg = <-w.Registered:
	case <-time.After(failAfter):
		t.Fatal("the tray never called RegisterStatusNotifierItem")
	}
	host, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	item := host.Object(reg.Sender, dbus.ObjectPath(reg.Path))
	menuPath, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("Get(Menu): %v", err)
	}
	if title, err := item.GetProperty("org.kde.StatusNotifierItem.Title"); err != nil || title.Value() != AppName {
		t.Errorf("Get(Title) = %v, %v, want %q", title, err, AppName)
	}
	if px, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap"); err != nil || fmt.Sprint(px.Value()) == "[]" {
		t.Errorf("Get(IconPixmap) = %v, %v, want the icon", px, err)
	}
	menu := host.Object(reg.Sender, menuPath.Value().(dbus.ObjectPath))

	// The host sees exactly the model's labels, flags and checkbox state.
	entries := read(t, menu)
	want := labels(Menu(first))
	if got := entryLabels(entries); !slices.Equal(got, want) {
		t.Fatalf("%s labels = %q, want %q", mode, got, want)
	}
	byID := map[ItemID]menuEntry{}
	for i, it := range Menu(first) {
		byID[it.ID] = entries[i]
		if !it.Separator() && entries[i].flag("enabled") != it.Enabled {
			t.Errorf("%s %q enabled = %v, want %v", mode, it.Label, entries[i].flag("enabled"), it.Enabled)
		}
	}
	if v := byID[ItemPassthrough].props["toggle-type"].Value(); v != "checkmark" {
		t.Errorf("passthrough toggle-type = %v, want checkmark", v)
	}

	// Clicks reach the actions.
	click := func(id ItemID) {
		t.Helper()
		call := menu.Call("com.canonical.dbusmenu.Event", 0, byID[id].id, "clicked", dbus.MakeVariant(""), uint32(0))
		if call.Err != nil {
			t.Fatalf("Event(%s, clicked): %v", id, call.Err)
		}
	}
	click(ItemOpen)
	waitCall(t, r, "OpenWindow")
	click(ItemPassthrough)
	waitCall(t, r, "SetPassthrough(true)")
	click(ItemCopyOpenAI)
	waitCall(t, r, "CopyOpenAIBaseURL")
	click(ItemQuit)
	waitCall(t, r, "Quit")
	if err := item.Call("org.kde.StatusNotifierItem.Activate", 0, int32(0), int32(0)).Err; err != nil {
		t.Fatalf("Activate: %v", err)
	}
	waitCall(t, r, "OpenWindow")

	// A new state is drawn in place.
	second := State{Lang: "zh-CN", Running: true, Paused: true, Passthrough: true, Addr: "127.0.0.1:8321", Port: 8321, Total: 4, Active: 2, Dead: 2}
	tr.Update(second)
	want = labels(Menu(second))
	deadline := time.Now().Add(failAfter)
	for {
		entries = read(t, menu)
		if slices.Equal(entryLabels(entries), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s labels after Update = %q, want %q", mode, entryLabels(entries), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, it := range Menu(second) {
		if it.ID == ItemPassthrough {
			if v := entries[i].props["toggle-state"].Value(); v != int32(1) {
				t.Errorf("passthrough toggle-state after Update = %v, want 1", v)
			}
		}
	}
	click(ItemPause)
	waitCall(t, r, "SetPaused(false)")
	fmt.Fprintf(t.Output(), "tray menu verified over D-Bus (%s)\n", mode)
}
