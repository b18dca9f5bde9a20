package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gemini-balance/desktop/app/store"
)

// memInfo is a process's memory in KiB, from /proc/PID/status.
type memInfo struct {
	RSS  int64 // VmRSS
	HWM  int64 // VmHWM, the peak of VmRSS
	Anon int64 // RssAnon: heap, stacks
	File int64 // RssFile: mapped pages of the binary and files
}

// RSSReport is the memory of the real headless binary.
type RSSReport struct {
	Skipped   string  `json:"skipped,omitempty"`
	BinaryMiB float64 `json:"binaryMiB,omitempty"`
	IdleMiB   float64 `json:"idleMiB,omitempty"` // VmRSS a few seconds after start
	IdleAnon  float64 `json:"idleAnonMiB,omitempty"`
	IdleFile  float64 `json:"idleFileMiB,omitempty"`
	StartHWM  float64 `json:"startHwmMiB,omitempty"` // VmHWM before any request
	PeakMiB   float64 `json:"peakMiB,omitempty"`     // VmHWM during the stream run (reset before it)
	PeakAll   float64 `json:"peakSinceStartMiB,omitempty"`
	PeakNote  string  `json:"peakNote,omitempty"`
	AfterMiB  float64 `json:"afterMiB,omitempty"` // VmRSS after the stream run
	Streams   int     `json:"streams,omitempty"`
	Errors    int     `json:"errors"`
	Cut       int     `json:"cutStreams"`
	P50MS     float64 `json:"p50Ms,omitempty"`
	TTFTP50MS float64 `json:"ttftP50Ms,omitempty"`
}

// moduleRoot finds the repository root (the directory of go.mod) from the
// working directory up.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/gemini-balance/desktop")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run from inside the repository (no go.mod of github.com/gemini-balance/desktop above " + wd + ")")
		}
	}
}

// firstLines shortens command output for a skip reason.
func firstLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " | ")
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := listenLoopback()
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// measureRSS builds the headless binary, gives it the pool keys and the
// fake as upstream, and reads its memory idle and under a stream run.
// Whatever prevents the measurement makes it a skip with the reason.
func (b *bench) measureRSS(ctx context.Context, upstream string) *RSSReport {
	rep, err := b.rss(ctx, upstream)
	if err != nil {
		fmt.Fprintln(b.log, "bench: RSS skipped:", err)
		return &RSSReport{Skipped: "skipped: " + err.Error()}
	}
	return rep
}

func (b *bench) rss(ctx context.Context, upstream string) (*RSSReport, error) {
	if _, err := memStatus(os.Getpid()); err != nil {
		return nil, err
	}
	bin, err := b.headless(ctx)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(b.tmp, "headless", "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	rep := &RSSReport{}
	if fi, err := os.Stat(bin); err == nil {
		rep.BinaryMiB = float64(fi.Size()) / (1 << 20)
	}

	env := append(os.Environ(), "GBD_PASSPHRASE=bench-"+randomToken(16), "GBD_LOG_LEVEL=info")
	common := []string{"--data-dir", data, "--secret-store", "file"}
	access, err := b.seedHeadless(ctx, bin, env, common, filepath.Join(data, "gemini-balance.db"), upstream)
	if err != nil {
		return nil, err
	}

	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, common...)...)
	cmd.Env = env
	logs := &tail{}
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithParent(cmd)
	done, stop, err := startProcess(cmd)
	if err != nil {
		return nil, err
	}
	defer stop()
	base := "http://" + addr
	if err := waitHealthy(ctx, base, done); err != nil {
		return nil, fmt.Errorf("gbd serve: %v: %s", err, firstLines([]byte(logs.String()), 3))
	}
	fmt.Fprintln(b.log, "bench: headless binary up; idle 3s")
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	idle, err := memStatus(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	rep.IdleMiB, rep.IdleAnon, rep.IdleFile, rep.StartHWM = mib(idle.RSS), mib(idle.Anon), mib(idle.File), mib(idle.HWM)

	if err := resetPeak(cmd.Process.Pid); err != nil {
		rep.PeakNote = "VmHWM could not be reset before the run (" + err.Error() + "): the peak includes start-up"
	}
	e := &endpoint{name: "headless", base: base, keys: b.keys, access: access, client: newClient()}
	r, err := load(ctx, e, b.fake, kindStream, b.cfg.conc, b.cfg.nRSS, b.cfg.events, b.cfg.runTimeout)
	if err != nil {
		return nil, err
	}
	after, err := memStatus(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	rep.AfterMiB, rep.PeakMiB, rep.PeakAll = mib(after.RSS), mib(after.HWM), max(mib(after.HWM), rep.StartHWM)
	rep.Streams, rep.Errors, rep.Cut = r.Requests, r.Errors, r.Cut
	rep.P50MS, rep.TTFTP50MS = ms(percentile(r.Lat, 50)), ms(percentile(r.TTFT, 50))
	fmt.Fprintf(b.log, "bench: headless: %d streams, %d errors, %d cut; VmRSS idle %.1f MiB, after %.1f MiB; VmHWM during the run %.1f MiB, since start %.1f MiB\n",
		r.Requests, r.Errors, r.Cut, rep.IdleMiB, rep.AfterMiB, rep.PeakMiB, rep.PeakAll)
	if r.Requests == 0 {
		return nil, fmt.Errorf("no stream went through the headless binary (first error: %s)", r.FirstError)
	}
	return rep, nil
}

// seedHeadless stores the bench's keys with the headless binary bin (its
// data dir and store in common), points the database db at upstream and
// returns the access key the binary prints.
func (b *bench) seedHeadless(ctx context.Context, bin string, env, common []string, db, upstream string) (string, error) {
	// runGBD runs "gbd <cmd...> <common flags> <rest...>".
	runGBD := func(stdin string, args []string, rest ...string) (string, error) {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, append(append(append([]string(nil), args...), common...), rest...)...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("gbd %s: %v: %s", strings.Join(args, " "), err, firstLines(errb.Bytes(), 3))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := runGBD(strings.Join(b.keys, "\n")+"\n", []string{"keys", "add"}, "-"); err != nil {
		return "", err
	}
	access, err := runGBD("", []string{"access-key"})
	if err != nil {
		return "", err
	}
	if access == "" || strings.ContainsAny(access, " \n") {
		return "", fmt.Errorf("gbd access-key printed %q", firstLines([]byte(access), 1))
	}
	if err := pointAt(ctx, db, upstream); err != nil {
		return "", err
	}
	return access, nil
}

// headless builds the headless binary once (CGO_ENABLED=0 go build .) and
// returns its path.
func (b *bench) headless(ctx context.Context) (string, error) {
	if b.bin != "" {
		return b.bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(b.tmp, "headless", "gbd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o700); err != nil {
		return "", err
	}
	fmt.Fprintln(b.log, "bench: building the headless binary (CGO_ENABLED=0 go build .)")
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(bctx, "go", "build", "-o", bin, ".")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("the headless binary does not build: %s", firstLines(out, 4))
	}
	b.bin = bin
	return bin, nil
}

// mib converts KiB to MiB.
func mib(kib int64) float64 { return float64(kib) / 1024 }

// pointAt sets the upstream of the stored settings to the fake (the
// headless binary has no flag for it) before the binary serves.
func pointAt(ctx context.Context, db, upstream string) error {
	st, err := store.Open(db, nil)
	if err != nil {
		return fmt.Errorf("open the headless binary's store: %w", err)
	}
	defer st.Close()
	s, err := store.GetSetting[map[string]any](ctx, st, "settings", nil)
	if err != nil {
		return err
	}
	if s == nil {
		return errors.New("the headless binary saved no settings")
	}
	if _, ok := s["upstream"]; !ok {
		return errors.New(`the stored settings have no "upstream" field`)
	}
	s["upstream"] = upstream
	s["upstreamProxy"] = "direct"
	return store.PutSetting(ctx, st, "settings", s)
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(ctx context.Context, base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		} else if !isRefused(err) {
			return err
		}
		select {
		case <-exited:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("not healthy after 30s")
}

// isRefused reports a connection refused (not listening yet).
func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && errors.Is(err, syscall.ECONNREFUSED)
}

// startProcess starts cmd; done is closed when it exits, and stop ends it
// (SIGTERM, then SIGKILL after 15 s) and waits for it.
func startProcess(cmd *exec.Cmd) (done <-chan struct{}, stop func(), err error) {
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	return exited, func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}, nil
}
