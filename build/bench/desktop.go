package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gemini-balance/desktop/app/tray/traytest"
)

// Issue 7's goals for the desktop app sitting in the tray.
const (
	maxVisibleS   = 1.0 // launch → window visible, proxy answering first
	maxShownPSS   = 200 // MiB, all the app's processes, window shown
	maxHiddenPSS  = 80  // MiB, 30 s after the window was closed to the tray
	maxIdleCPUPct = 0.5 // % of one core, window hidden
)

// DesktopReport is issue 7's figures of the real desktop binary (Linux,
// WebKitGTK, under an X server with a D-Bus session and a stand-in tray).
type DesktopReport struct {
	Skipped      string     `json:"skipped,omitempty"`
	ProxyS       float64    `json:"proxyAnsweredS,omitempty"` // launch → /healthz answers
	VisibleS     float64    `json:"windowVisibleS,omitempty"` // launch → the window is mapped
	ProxyFirst   bool       `json:"proxyBeforeWindow"`
	Shown        []procMem  `json:"shown,omitempty"`
	ShownPSS     float64    `json:"shownPssMiB,omitempty"`
	ShownRSS     float64    `json:"shownRssMiB,omitempty"`
	HiddenAfterS float64    `json:"hiddenAfterS,omitempty"`
	Hidden       []procMem  `json:"hidden,omitempty"`
	HiddenPSS    float64    `json:"hiddenPssMiB,omitempty"`
	HiddenRSS    float64    `json:"hiddenRssMiB,omitempty"`
	IdleCPUPct   float64    `json:"idleCpuPct"` // of one core, over IdleS while hidden
	IdleS        float64    `json:"idleS,omitempty"`
	ReopenS      float64    `json:"reopenVisibleS,omitempty"` // second launch → window visible
	ReopenFresh  bool       `json:"reopenPageFresh"`          // the page read keys and status after the key added while hidden
	ReopenNote   string     `json:"reopenNote,omitempty"`
	ReopenPSS    float64    `json:"reopenPssMiB,omitempty"`
	Bundle       bundleSize `json:"bundle"`
	Binary       string     `json:"binary,omitempty"`
}

// procMem is one process's memory in MiB (from /proc/PID/smaps_rollup).
type procMem struct {
	PID  int     `json:"pid"`
	Name string  `json:"name"`
	RSS  float64 `json:"rssMiB"`
	PSS  float64 `json:"pssMiB"`
}

// bundleSize is frontend/dist: raw bytes and the sum of each file gzipped.
type bundleSize struct {
	Files int    `json:"files"`
	Raw   int64  `json:"rawBytes"`
	Gzip  int64  `json:"gzipBytes"`
	Err   string `json:"error,omitempty"`
}

// measureDesktop runs issue 7's measurement, or says why it was skipped.
func (b *bench) measureDesktop(ctx context.Context) *DesktopReport {
	rep := &DesktopReport{}
	if root, err := moduleRoot(); err == nil {
		rep.Bundle = measureBundle(filepath.Join(root, "frontend", "dist"))
	}
	if err := b.desktop(ctx, rep); err != nil {
		fmt.Fprintln(b.log, "bench: desktop skipped:", err)
		rep.Skipped = "skipped: " + err.Error()
	}
	return rep
}

// desktopNeeds says what the desktop measurement lacks here, or "".
func desktopNeeds() string {
	switch {
	case runtime.GOOS != "linux":
		return "the desktop measurement runs on Linux (WebKitGTK); WebView2 on Windows is not measured by this command"
	case os.Getenv("DISPLAY") == "":
		return "no DISPLAY: run under xvfb-run -a"
	case os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "":
		return "no D-Bus session: run under dbus-run-session"
	}
	for _, tool := range []string{"xdotool", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (build/deps.sh installs it)"
		}
	}
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		return "no /proc/PID/smaps_rollup (Linux 4.14+) to read PSS from"
	}
	return ""
}

func (b *bench) desktop(ctx context.Context, rep *DesktopReport) error {
	if why := desktopNeeds(); why != "" {
		return errors.New(why)
	}
	bin, err := b.desktopBinary(ctx)
	if err != nil {
		return err
	}
	rep.Binary = bin
	w, err := traytest.StartWatcher(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		return fmt.Errorf("the stand-in tray host: %w (is another tray host on this bus?)", err)
	}
	defer w.Close()
	dir := filepath.Join(b.tmp, "desktop")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	run := &desktopRun{bin: bin, addr: addr, logs: &lockedWriter{w: &bytes.Buffer{}}, env: append(os.Environ(),
		"GBD_DATA_DIR="+filepath.Join(dir, "data"), "GBD_ADDR="+addr,
		"GBD_SECRET_STORE=file", "GBD_PASSPHRASE=bench-"+randomToken(16), "GBD_LOG_LEVEL=debug",
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "XDG_DATA_HOME="+filepath.Join(dir, "share"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"))}
	fmt.Fprintln(b.log, "bench: desktop: launching the window (no keys, a stand-in tray host)")
	if err := run.start(); err != nil {
		return err
	}
	defer run.stop()
	if err := run.waitVisible(ctx, rep); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 6*time.Second); err != nil { // the page settles
		return err
	}
	rep.Shown = treeMem(run.pid())
	rep.ShownRSS, rep.ShownPSS = sumMem(rep.Shown)
	wait := 30 * time.Second
	if b.cfg.quick {
		wait = 10 * time.Second
	}
	fmt.Fprintf(b.log, "bench: desktop: closing the window to the tray; measuring %s later\n", wait)
	if err := run.hide(ctx, wait, rep); err != nil {
		return err
	}
	return run.reopen(ctx, rep)
}

// desktopRun is the desktop app under measurement.
type desktopRun struct {
	bin, addr string
	env       []string
	logs      *lockedWriter
	cmd       *exec.Cmd
	exited    chan error
	win       string // the X window, while shown
}

func (r *desktopRun) pid() int { return r.cmd.Process.Pid }

// start launches the app.
func (r *desktopRun) start() error {
	r.cmd = exec.Command(r.bin)
	r.cmd.Env = r.env
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	dieWithParent(r.cmd)
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait() }()
	return nil
}

// stop ends the app (SIGTERM, then SIGKILL after 20 s) unless it ended.
func (r *desktopRun) stop() {
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// waitVisible waits for the proxy to answer and the window to map, and
// records when each happened after the launch.
func (r *desktopRun) waitVisible(ctx context.Context, rep *DesktopReport) error {
	start := time.Now()
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := start.Add(60 * time.Second)
	for rep.ProxyS == 0 || r.win == "" {
		if time.Now().After(deadline) {
			return fmt.Errorf("no window or no proxy within 60 s; app output: %s", firstLines(r.logs.bytes(), 5))
		}
		select {
		case err := <-r.exited:
			return fmt.Errorf("the app ended (%v): %s", err, firstLines(r.logs.bytes(), 5))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if rep.ProxyS == 0 && healthy(client, r.addr) {
			rep.ProxyS = time.Since(start).Seconds()
		}
		if r.win == "" {
			if r.win = visibleWindow(); r.win != "" {
				rep.VisibleS = time.Since(start).Seconds()
				rep.ProxyFirst = rep.ProxyS > 0
			}
		}
	}
	return nil
}

// healthy reports whether the proxy at addr answers /healthz.
func healthy(client *http.Client, addr string) bool {
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// hide closes the window as a window manager does, measures the app's
// memory wait later and then its CPU time over 10 s.
func (r *desktopRun) hide(ctx context.Context, wait time.Duration, rep *DesktopReport) error {
	if out, err := traytest.CloseWindow(r.win); err != nil {
		return fmt.Errorf("WM_DELETE_WINDOW: %v: %s", err, firstLines(out, 3))
	}
	hiddenAt := time.Now()
	for visibleWindow() != "" {
		if time.Since(hiddenAt) > 10*time.Second {
			return errors.New("the window did not hide when closed (no tray?)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := sleepCtx(ctx, wait); err != nil {
		return err
	}
	rep.HiddenAfterS = time.Since(hiddenAt).Seconds()
	rep.Hidden = treeMem(r.pid())
	rep.HiddenRSS, rep.HiddenPSS = sumMem(rep.Hidden)
	t0, c0 := time.Now(), treeTicks(r.pid())
	if err := sleepCtx(ctx, 10*time.Second); err != nil {
		return err
	}
	rep.IdleS = time.Since(t0).Seconds()
	rep.IdleCPUPct = float64(treeTicks(r.pid())-c0) / 100 / rep.IdleS * 100 // USER_HZ is 100 on Linux
	return nil
}

// reopen adds a key while the window is hidden, then launches the app a
// second time (it hands over to the running one, which shows its window)
// and checks the page read the keys and the status after the key was added.
func (r *desktopRun) reopen(ctx context.Context, rep *DesktopReport) error {
	mark := len(r.logs.bytes())
	add := exec.CommandContext(ctx, r.bin, "keys", "add", "-")
	add.Env = r.env
	add.Stdin = strings.NewReader(fakeKeys(1)[0] + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("keys add while hidden: %v: %s", err, firstLines(out, 3))
	}
	reopenAt := time.Now()
	second := exec.CommandContext(ctx, r.bin)
	second.Env = r.env
	if out, err := second.CombinedOutput(); err != nil {
		return fmt.Errorf("second launch: %v: %s", err, firstLines(out, 3))
	}
	for visibleWindow() == "" {
		if time.Since(reopenAt) > 30*time.Second {
			return errors.New("the window did not show again within 30 s of a second launch")
		}
		time.Sleep(20 * time.Millisecond)
	}
	rep.ReopenS = time.Since(reopenAt).Seconds()
	rep.ReopenFresh, rep.ReopenNote = pageFreshness(string(r.logs.bytes()[mark:]))
	if err := sleepCtx(ctx, 3*time.Second); err != nil {
		return err
	}
	_, rep.ReopenPSS = sumMem(treeMem(r.pid()))
	return nil
}

// pageFreshness judges, from the app's log since a key was added while the
// window was hidden, whether the shown page has the current state.
func pageFreshness(after string) (fresh bool, note string) {
	keys := strings.Contains(after, "method=GET path=/api/keys status=200")
	status := strings.Contains(after, "method=GET path=/api/status status=200")
	switch {
	case strings.Contains(after, "window shown: page reloaded") && keys && status:
		return true, "the page was reloaded and read the keys and the status before the window showed"
	case keys && status:
		return true, "the page (kept while hidden) read the keys and the status after the key was added"
	default:
		return false, "the page did not read the keys and the status after the key was added while hidden (a stale screen)"
	}
}

// desktopBinary is -desktop-bin, or the desktop build made here.
func (b *bench) desktopBinary(ctx context.Context) (string, error) {
	if b.cfg.desktopBin != "" {
		return b.cfg.desktopBin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(b.tmp, "desktop-bin", "gemini-balance-desktop")
	fmt.Fprintln(b.log, "bench: building the desktop binary (go build -tags desktop,production,webkit2_41)")
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(bctx, "go", "build", "-tags", "desktop,production,webkit2_41", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("the desktop binary does not build (GTK/WebKit dev packages, frontend/dist): %s", firstLines(out, 4))
	}
	return bin, nil
}

// visibleWindow is the app's mapped window, or "".
func visibleWindow() string {
	out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Gemini Balance Desktop$").Output()
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// treePIDs is pid and its descendants.
func treePIDs(pid int) []int {
	pids := []int{pid}
	for i := 0; i < len(pids); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pids[i]))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					pids = append(pids, n)
				}
			}
		}
	}
	return pids
}

// treeMem reads Rss and Pss of pid and its descendants.
func treeMem(pid int) []procMem {
	var out []procMem
	for _, p := range treePIDs(pid) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		m := procMem{PID: p}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		m.Name = strings.TrimSpace(string(comm))
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			name, val, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
			if err != nil {
				continue
			}
			switch name {
			case "Rss":
				m.RSS = mib(kib)
			case "Pss":
				m.PSS = mib(kib)
			}
		}
		f.Close()
		out = append(out, m)
	}
	return out
}

func sumMem(ps []procMem) (rss, pss float64) {
	for _, p := range ps {
		rss += p.RSS
		pss += p.PSS
	}
	return rss, pss
}

// treeTicks is the user+system CPU time of pid and its descendants, in
// clock ticks.
func treeTicks(pid int) int64 {
	var sum int64
	for _, p := range treePIDs(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// The fields after the command name (which may hold spaces).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		sum += u + s
	}
	return sum
}

// measureBundle sizes the built frontend.
func measureBundle(dist string) bundleSize {
	var bs bundleSize
	err := filepath.WalkDir(dist, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		bs.Files++
		bs.Raw += int64(len(data))
		bs.Gzip += int64(buf.Len())
		return nil
	})
	if err != nil {
		bs.Err = err.Error()
	} else if bs.Files == 0 {
		bs.Err = "frontend/dist is empty: run npm run build in frontend/"
	}
	return bs
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// checkDesktop evaluates issue 7's goals.
func (rep *Report) checkDesktop() {
	d := rep.Desktop
	if d == nil {
		return
	}
	if d.Bundle.Err == "" {
		rep.add(Check{Issue: 7, Name: fmt.Sprintf("frontend bundle (frontend/dist, %d files), gzip -9 each", d.Bundle.Files),
			Value: float64(d.Bundle.Gzip) / 1024, Unit: "KiB", Result: "INFO",
			Detail: fmt.Sprintf("%.1f KiB raw", float64(d.Bundle.Raw)/1024)})
	}
	if d.Skipped != "" {
		rep.add(Check{Issue: 7, Name: "desktop window figures", Result: "SKIP", Detail: d.Skipped})
		return
	}
	rep.add(Check{Issue: 7, Name: "launch → window visible; proxy answering before it", Value: d.VisibleS, Unit: "s",
		Target: fmt.Sprintf("≤ %.0f s, proxy first", maxVisibleS), Result: verdict(d.VisibleS <= maxVisibleS && d.ProxyFirst),
		Detail: fmt.Sprintf("proxy answered %.3f s after launch (before the window: %v); issue 7 before: 1.0 s", d.ProxyS, d.ProxyFirst)})
	rep.add(Check{Issue: 7, Name: "window shown: PSS of the app's processes", Value: d.ShownPSS, Unit: "MiB",
		Target: fmt.Sprintf("≤ %d MiB", maxShownPSS), Result: verdict(d.ShownPSS <= maxShownPSS),
		Detail: fmt.Sprintf("RSS %.0f MiB; %s; issue 7 before: PSS 348 MiB", d.ShownRSS, fmtProcs(d.Shown))})
	rep.add(Check{Issue: 7, Name: fmt.Sprintf("window closed to the tray, %.0f s later: PSS", d.HiddenAfterS), Value: d.HiddenPSS, Unit: "MiB",
		Target: fmt.Sprintf("≤ %d MiB", maxHiddenPSS), Result: verdict(d.HiddenPSS <= maxHiddenPSS),
		Detail: fmt.Sprintf("RSS %.0f MiB; %s; issue 7 before: PSS 328 MiB (closing freed nothing)", d.HiddenRSS, fmtProcs(d.Hidden))})
	rep.add(Check{Issue: 7, Name: fmt.Sprintf("idle CPU, window hidden, over %.0f s (%% of one core)", d.IdleS), Value: d.IdleCPUPct, Unit: "%",
		Target: fmt.Sprintf("≤ %.1f %%", maxIdleCPUPct), Result: verdict(d.IdleCPUPct <= maxIdleCPUPct)})
	rep.add(Check{Issue: 7, Name: "reopened (second launch) → window visible with current state", Value: d.ReopenS, Unit: "s",
		Target: "current state", Result: verdict(d.ReopenFresh),
		Detail: fmt.Sprintf("%s; PSS 3 s later %.0f MiB", d.ReopenNote, d.ReopenPSS)})
}

// fmtProcs lists the processes' PSS.
func fmtProcs(ps []procMem) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %.0f", p.Name, p.PSS))
	}
	return "PSS MiB: " + strings.Join(parts, ", ")
}

// lockedWriter collects a child's output written from exec's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.w.Bytes()...)
}
