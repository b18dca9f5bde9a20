package main

// The benchmarks of issue 4 (the key vault): statistics recording on vs
// off through the real app, adding keys, starting with keys, checking keys.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// Targets of issue 4.
const (
	minStatsRatio   = 0.95 // throughput with statistics recording on ÷ off
	maxStartupS     = 2.0  // start with 1,000 keys to the first proxied answer, Secret Service
	maxCheckS       = 15.0 // check 1,000 keys against an upstream answering in 100 ms
	startupDeadline = 60 * time.Second
)

// VaultReport holds the figures of issue 4.
type VaultReport struct {
	Keys    int           `json:"keys"`
	Stats   *StatsReport  `json:"statsRecording,omitempty"`
	Add     []StoreTiming `json:"add,omitempty"`
	Startup []StoreTiming `json:"startup,omitempty"`
	Check   *CheckReport  `json:"check,omitempty"`
}

// StatsReport compares the app's throughput with statistics recording on
// and off: native generateContent at the high concurrency, runs of the two
// modes alternating, medians over rounds.
type StatsReport struct {
	Skipped  string    `json:"skipped,omitempty"`
	Rounds   int       `json:"rounds"`
	Requests int       `json:"requestsPerRun"`
	OnRPS    float64   `json:"onRequestsPerSecond"`
	OffRPS   float64   `json:"offRequestsPerSecond"`
	Ratio    float64   `json:"ratio"` // median of the per-round on ÷ off
	PerRound []float64 `json:"perRound"`
	OnCPUUS  float64   `json:"onCpuUsPerRequest"`
	OffCPUUS float64   `json:"offCpuUsPerRequest"`
	// LogRows and LogCPUUS: the request-log rows written out after the
	// runs (the app defers that to idle time) and the CPU it took per row.
	LogRows  int64   `json:"logRowsWrittenAfter"`
	LogCPUUS float64 `json:"logWriteCpuUsPerRow"`
	Errors   int     `json:"errors"`
	SentOn   int64   `json:"sentWhileOn"` // requests answered while recording was on (warm-up included)
	Recorded int64   `json:"recorded"`    // requests the store counted at the end
	Dropped  int64   `json:"dropped"`     // results the recorder dropped (buffer full)
	FirstErr string  `json:"firstError,omitempty"`
}

// StoreTiming is a timing with one secret store.
type StoreTiming struct {
	Store   string    `json:"store"` // file, keychain
	Skipped string    `json:"skipped,omitempty"`
	Seconds []float64 `json:"seconds,omitempty"`
	MedianS float64   `json:"medianSeconds,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// CheckReport is one check of every key against a slow fake.
type CheckReport struct {
	Skipped     string         `json:"skipped,omitempty"`
	Keys        int            `json:"keys"`
	LatencyMS   float64        `json:"upstreamLatencyMs"`
	Concurrency int            `json:"concurrency"`
	Seconds     float64        `json:"seconds"`
	State       string         `json:"state"`
	Done        int            `json:"done"`
	ByResult    map[string]int `json:"byResult"`
}

// secretStores are the stores the add and startup timings run with.
var secretStores = []string{"file", "keychain"}

// noKeychain says why the OS keychain cannot be measured here, or "".
func noKeychain() string {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is empty): run under dbus-run-session with an unlocked gnome-keyring-daemon (see the package doc)"
	}
	return ""
}

// vault runs the parts of issue 4 that cfg selects.
func (b *bench) vault(ctx context.Context, upstream, keysFile string, profile func(string) []string) *VaultReport {
	rep := &VaultReport{Keys: b.cfg.vaultKeys}
	if b.cfg.runs("stats") {
		rep.Stats = b.statsBench(ctx, upstream, keysFile, profile("app"))
	}
	if b.cfg.runs("add") {
		rep.Add = b.addBench(ctx)
	}
	if b.cfg.runs("startup") {
		rep.Startup = b.startupBench(ctx, upstream)
	}
	if b.cfg.runs("check") {
		rep.Check = b.checkBench(ctx)
	}
	return rep
}

// quietLog is the app's logger in the benchmarks: records are formatted
// like the app's and dropped.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serveApp runs the whole app (file secret store, SQLite in f.dataDir,
// the real Recorder) with the pool keys, the fake as upstream and the
// parent's access key. Besides "stat" it answers "stats on", "stats off"
// ("ok"), "flush log" ("flushed <request-log rows written out>") and
// "recorded" ("recorded <requests in the store> <dropped>").
func serveApp(f childFlags) (string, func(), map[string]func() string, error) {
	ctx := context.Background()
	keys, err := readKeys(f.keysFile)
	if err != nil {
		return "", nil, nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "", nil, nil, err
	}
	a, err := app.New(ctx, app.Options{DataDir: f.dataDir, SecretStore: "file", Passphrase: f.passphrase, Addr: addr, Log: quietLog()})
	if err != nil {
		return "", nil, nil, err
	}
	fail := func(err error) (string, func(), map[string]func() string, error) {
		a.Close()
		return "", nil, nil, err
	}
	s := a.Settings()
	s.Upstream, s.UpstreamProxy, s.AccessKey = f.upstream, "direct", f.accessKey
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		return fail(err)
	}
	res, err := a.Keys().AddBulk(ctx, strings.Join(keys, "\n"))
	if err != nil {
		return fail(err)
	}
	if res.Added != len(keys) {
		return fail(fmt.Errorf("added %d of %d keys", res.Added, len(keys)))
	}
	started := time.Now()
	if err := a.Start(ctx); err != nil {
		return fail(err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Stop(sctx)
		a.Close()
	}
	extra := map[string]func() string{
		"stats on":  func() string { a.Stats().SetEnabled(true); return "ok" },
		"stats off": func() string { a.Stats().SetEnabled(false); return "ok" },
		"flush log": func() string {
			n, err := a.Stats().FlushLog(ctx)
			if err != nil {
				return "error " + err.Error()
			}
			return fmt.Sprintf("flushed %d", n)
		},
		"recorded": func() string {
			n, err := storedRequests(filepath.Join(f.dataDir, "gemini-balance.db"), started.Add(-time.Minute))
			if err != nil {
				return "error " + err.Error()
			}
			return fmt.Sprintf("recorded %d %d", n, a.Stats().Dropped())
		},
	}
	return a.Status().Addr, stop, extra, nil
}

// storedRequests counts the requests the statistics hold since since,
// through a second connection to the app's database.
func storedRequests(db string, since time.Time) (int64, error) {
	st, err := store.Open(db, nil)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	totals, err := st.Totals(context.Background(), since, store.ByModel)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range totals {
		n += t.Requests
	}
	return n, nil
}

// statsBench measures the app's throughput with statistics recording on
// and off.
func (b *bench) statsBench(ctx context.Context, upstream, keysFile string, profile []string) *StatsReport {
	rep, err := b.stats(ctx, upstream, keysFile, profile)
	if err != nil {
		fmt.Fprintln(b.log, "bench: statistics on/off skipped:", err)
		return &StatsReport{Skipped: "skipped: " + err.Error()}
	}
	return rep
}

func (b *bench) stats(ctx context.Context, upstream, keysFile string, profile []string) (*StatsReport, error) {
	cfg := b.cfg
	fmt.Fprintln(b.log, "bench: statistics recording on vs off, through the app (SQLite, file secret store)")
	args := append([]string{"-upstream", upstream, "-keys-file", keysFile, "-access-key", b.access,
		"-data-dir", filepath.Join(b.tmp, "app-stats"), "-passphrase", "bench-" + randomToken(16)}, profile...)
	c, err := startChild(ctx, roleApp, args, cfg.verbose)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	e := &endpoint{name: "app", base: "http://" + c.addr, keys: b.keys, access: b.access, proc: c, client: newClient()}
	setRecording := func(on bool) error {
		cmd := "stats off"
		if on {
			cmd = "stats on"
		}
		_, err := c.command(ctx, cmd)
		return err
	}
	rep := &StatsReport{Rounds: cfg.rounds, Requests: cfg.n64}
	if err := setRecording(true); err != nil {
		return nil, err
	}
	warm, err := load(ctx, e, b.fake, kindGenerate, cfg.conc, max(min(cfg.n64/4, 1000), cfg.conc), cfg.events, cfg.runTimeout)
	if err != nil {
		return nil, err
	}
	if warm.Requests == 0 || warm.Errors > 0 {
		return nil, fmt.Errorf("warm-up: %d errors, first: %s", warm.Errors, warm.FirstError)
	}
	rep.SentOn = int64(warm.Requests)
	on, off, err := b.statsRounds(ctx, e, setRecording, rep)
	if err != nil {
		return nil, err
	}
	if err := setRecording(true); err != nil {
		return nil, err
	}
	for i := range on {
		rep.PerRound = append(rep.PerRound, rps(on[i])/rps(off[i]))
	}
	rep.Ratio = median(rep.PerRound)
	rep.OnRPS, rep.OffRPS = median(perRound(on, rps)), median(perRound(off, rps))
	rep.OnCPUUS, rep.OffCPUUS = median(perRound(on, (*run).cpuPerReq)), median(perRound(off, (*run).cpuPerReq))

	if err := countRecorded(ctx, c, rep); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.log, "bench: statistics on ÷ off %.3fx (per round %s); the store counted %d requests, %d sent while on, %d dropped; %d request-log rows written out afterwards, %.1f µs CPU per row\n",
		rep.Ratio, fmtRounds(rep.PerRound, "%.3f"), rep.Recorded, rep.SentOn, rep.Dropped, rep.LogRows, rep.LogCPUUS)
	return rep, nil
}

// statsRounds runs the load cfg.rounds times with statistics on and off
// (alternating which goes first), adding to rep's counts.
func (b *bench) statsRounds(ctx context.Context, e *endpoint, setRecording func(bool) error, rep *StatsReport) (on, off []*run, err error) {
	for round := 0; round < b.cfg.rounds; round++ {
		order := []bool{true, false}
		if round%2 == 1 {
			order = []bool{false, true}
		}
		for _, rec := range order {
			if err := setRecording(rec); err != nil {
				return nil, nil, err
			}
			r, err := load(ctx, e, b.fake, kindGenerate, b.cfg.conc, b.cfg.n64, b.cfg.events, b.cfg.runTimeout)
			if err != nil {
				return nil, nil, err
			}
			mode := "off"
			if rec {
				mode = "on"
				on = append(on, r)
				rep.SentOn += int64(r.Requests)
			} else {
				off = append(off, r)
			}
			rep.Errors += r.Errors
			if rep.FirstErr == "" {
				rep.FirstErr = r.FirstError
			}
			fmt.Fprintf(b.log, "round %d/%d  app, statistics %-3s  %6d req %3d err  %6.0f req/s  CPU %6.1f µs/req  p50 %7.3f ms  p99 %7.3f ms\n",
				round+1, b.cfg.rounds, mode, r.Requests, r.Errors, rps(r), r.cpuPerReq(), ms(percentile(r.Lat, 50)), ms(percentile(r.Lat, 99)))
		}
	}
	return on, off, nil
}

// countRecorded fills in what the app c recorded: the request-log rows it
// writes out (and their CPU cost) and the requests its store counted.
func countRecorded(ctx context.Context, c *child, rep *StatsReport) error {
	// The recorder writes a batch every 500 ms: give it time, then count.
	select {
	case <-time.After(1500 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	// The app writes request-log rows out when the proxy is idle (or once a
	// minute under traffic): do it now and measure what it costs.
	cpu0, err := c.stat(ctx)
	if err != nil {
		return err
	}
	line, err := c.command(ctx, "flush log")
	if err != nil {
		return err
	}
	cpu1, err := c.stat(ctx)
	if err != nil {
		return err
	}
	if _, err := fmt.Sscanf(line, "flushed %d", &rep.LogRows); err != nil {
		return fmt.Errorf("app said %q", line)
	}
	if rep.LogRows > 0 {
		rep.LogCPUUS = float64((cpu1.CPU - cpu0.CPU).Microseconds()) / float64(rep.LogRows)
	}
	line, err = c.command(ctx, "recorded")
	if err != nil {
		return err
	}
	if _, err := fmt.Sscanf(line, "recorded %d %d", &rep.Recorded, &rep.Dropped); err != nil {
		return fmt.Errorf("app said %q", line)
	}
	return nil
}

// rps is a run's throughput.
func rps(r *run) float64 { return float64(r.Requests) / r.Wall.Seconds() }

// vaultKeysText returns n fresh keys, one per line.
func (b *bench) vaultKeysText() (string, []string) {
	keys := fakeKeys(b.cfg.vaultKeys)
	return strings.Join(keys, "\n") + "\n", keys
}

// openApp opens the app in this process on dir with a secret store.
func openApp(ctx context.Context, dir, secretStore, passphrase string) (*app.App, error) {
	a, err := app.New(ctx, app.Options{DataDir: dir, SecretStore: secretStore, Passphrase: passphrase, Log: quietLog()})
	if err != nil {
		return nil, err
	}
	if p := a.Status().SecretsProblem; p != "" {
		a.Close()
		return nil, errors.New(p)
	}
	return a, nil
}

// addBench times AddBulk of fresh keys into an empty vault, in this
// process, with each secret store.
func (b *bench) addBench(ctx context.Context) []StoreTiming {
	return b.perStore("add", func(t *StoreTiming) error {
		return b.add(ctx, t)
	})
}

// perStore runs measure for each secret store (the keychain only when
// one answers); a store whose run fails is reported skipped with why.
func (b *bench) perStore(what string, measure func(t *StoreTiming) error) []StoreTiming {
	var out []StoreTiming
	for _, st := range secretStores {
		t := StoreTiming{Store: st}
		if st == "keychain" {
			t.Skipped = noKeychain()
		}
		if t.Skipped == "" {
			if err := measure(&t); err != nil {
				t.Skipped = err.Error()
			}
		}
		if t.Skipped != "" {
			fmt.Fprintf(b.log, "bench: %s %d keys (%s) skipped: %s\n", what, b.cfg.vaultKeys, st, t.Skipped)
			t.Skipped = "skipped: " + t.Skipped
		}
		out = append(out, t)
	}
	return out
}

func (b *bench) add(ctx context.Context, t *StoreTiming) error {
	reps := b.cfg.reps
	if t.Store == "keychain" {
		reps = 1 // a thousand keychain items take a while to write and remove
	}
	var deletes []float64
	for i := 0; i < reps; i++ {
		dir := filepath.Join(b.tmp, fmt.Sprintf("add-%s-%d", t.Store, i))
		a, err := openApp(ctx, dir, t.Store, "bench-"+randomToken(16))
		if err != nil {
			return err
		}
		text, _ := b.vaultKeysText()
		fmt.Fprintf(b.log, "bench: adding %d keys (%s store)\n", b.cfg.vaultKeys, t.Store)
		start := time.Now()
		res, err := a.Keys().AddBulk(ctx, text)
		took := time.Since(start)
		if err == nil && res.Added != b.cfg.vaultKeys {
			err = fmt.Errorf("added %d of %d keys", res.Added, b.cfg.vaultKeys)
		}
		if err == nil && t.Store == "keychain" {
			// Leave nothing in the user's keychain.
			start := time.Now()
			var del vault.DeleteResult
			del, err = a.Keys().Delete(ctx, res.IDs)
			deletes = append(deletes, time.Since(start).Seconds())
			if err == nil && del.Deleted != len(res.IDs) {
				err = fmt.Errorf("removed %d of the %d keys added to the keychain (%d pending: %s)", del.Deleted, len(res.IDs), del.Pending, del.Error)
			}
		}
		a.Close()
		if err != nil {
			return err
		}
		t.Seconds = append(t.Seconds, took.Seconds())
		fmt.Fprintf(b.log, "bench: added %d keys (%s store) in %.3f s\n", res.Added, t.Store, took.Seconds())
	}
	t.MedianS = median(t.Seconds)
	t.Detail = "Vault.AddBulk of one paste into an empty vault, in process; per run " + fmtRounds(t.Seconds, "%.3f s")
	if len(deletes) > 0 {
		t.Detail += "; removing them again took " + fmtRounds(deletes, "%.3f s")
	}
	return nil
}

// runBin runs the headless binary to its end with stdin and returns its
// stdout.
func runBin(ctx context.Context, bin string, env []string, stdin string, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gbd %s: %v: %s", args[0], err, firstLines(errb.Bytes(), 3))
	}
	return strings.TrimSpace(out.String()), nil
}

// startupBench times the headless binary from exec to the first answer
// proxied through it, with the keys stored in each secret store.
func (b *bench) startupBench(ctx context.Context, upstream string) []StoreTiming {
	return b.perStore("start with", func(t *StoreTiming) error {
		return b.startup(ctx, upstream, t)
	})
}

func (b *bench) startup(ctx context.Context, upstream string, t *StoreTiming) (err error) {
	bin, err := b.headless(ctx)
	if err != nil {
		return err
	}
	data := filepath.Join(b.tmp, "startup-"+t.Store)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	pass := "bench-" + randomToken(16)
	env := append(os.Environ(), "GBD_LOG_LEVEL=info", "GBD_PASSPHRASE="+pass)
	common := []string{"--data-dir", data, "--secret-store", t.Store}
	text, keys := b.vaultKeysText()
	fmt.Fprintf(b.log, "bench: storing %d keys for the start-up timing (%s store)\n", len(keys), t.Store)
	added, err := runBin(ctx, bin, env, text, append(append([]string{"keys", "add"}, common...), "-")...)
	if t.Store == "keychain" {
		// Whatever happens next, leave nothing in the user's keychain.
		defer func() {
			if cerr := removeStored(data, keys); cerr != nil && err == nil {
				err = fmt.Errorf("removing the benchmark's keys from the keychain: %w", cerr)
			}
		}()
	}
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("added %d,", len(keys)); !strings.HasPrefix(added, want) {
		return fmt.Errorf("gbd keys add said %q", firstLines([]byte(added), 1))
	}
	access, err := runBin(ctx, bin, env, "", append([]string{"access-key"}, common...)...)
	if err != nil {
		return err
	}
	if err := pointAt(ctx, filepath.Join(data, "gemini-balance.db"), upstream); err != nil {
		return err
	}
	for i := 0; i < b.cfg.reps; i++ {
		took, err := startOnce(ctx, bin, env, common, access)
		if err != nil {
			return err
		}
		t.Seconds = append(t.Seconds, took.Seconds())
		fmt.Fprintf(b.log, "bench: start with %d keys (%s store) to the first proxied answer: %.3f s\n", len(keys), t.Store, took.Seconds())
	}
	t.MedianS = median(t.Seconds)
	t.Detail = "gbd serve: exec until a generateContent through it answers 200 (polled every 5 ms); per run " + fmtRounds(t.Seconds, "%.3f s")
	return nil
}

// removeStored deletes keys from the vault in data (and so from the
// keychain).
func removeStored(data string, keys []string) error {
	ctx := context.Background()
	a, err := openApp(ctx, data, "keychain", "")
	if err != nil {
		return err
	}
	defer a.Close()
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = apikey.ID(k)
	}
	res, err := a.Keys().Delete(ctx, ids)
	if err == nil && res.Pending > 0 {
		err = fmt.Errorf("%d keys still pending deletion: %s", res.Pending, res.Error)
	}
	return err
}

// startOnce starts "gbd serve" and polls a proxied generateContent until it
// answers 200; it returns the time from exec to that answer.
func startOnce(ctx context.Context, bin string, env, common []string, access string) (time.Duration, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, common...)...)
	cmd.Env = env
	logs := &tail{}
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithParent(cmd)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	url := "http://" + addr + "/v1beta/models/" + benchModel + ":generateContent"
	start := time.Now()
	done, stop, err := startProcess(cmd)
	if err != nil {
		return 0, err
	}
	defer stop()
	last := ""
	for time.Since(start) < startupDeadline {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(nativeBody))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-goog-api-key", access)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			last = "HTTP " + strconv.Itoa(resp.StatusCode)
		} else if !isRefused(err) {
			last = err.Error()
		}
		select {
		case <-done:
			return 0, fmt.Errorf("gbd serve exited: %s", firstLines([]byte(logs.String()), 3))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("no proxied answer within %s (last: %s): %s", startupDeadline, last, firstLines([]byte(logs.String()), 3))
}

// checkBench checks every key of a fresh vault against a fake that waits
// before every answer, as the UI's check does (App.StartCheck).
func (b *bench) checkBench(ctx context.Context) *CheckReport {
	rep, err := b.check(ctx)
	if err != nil {
		fmt.Fprintln(b.log, "bench: key check skipped:", err)
		return &CheckReport{Skipped: "skipped: " + err.Error()}
	}
	return rep
}

func (b *bench) check(ctx context.Context) (*CheckReport, error) {
	cfg := b.cfg
	slow, err := startChild(ctx, roleFake, []string{"-latency", cfg.checkLatency.String()}, cfg.verbose)
	if err != nil {
		return nil, err
	}
	defer slow.stop()
	a, err := openApp(ctx, filepath.Join(b.tmp, "check"), "file", "bench-"+randomToken(16))
	if err != nil {
		return nil, err
	}
	defer a.Close()
	s := a.Settings()
	s.Upstream, s.UpstreamProxy = "http://"+slow.addr, "direct"
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		return nil, err
	}
	text, keys := b.vaultKeysText()
	if res, err := a.Keys().AddBulk(ctx, text); err != nil || res.Added != len(keys) {
		return nil, fmt.Errorf("add the keys to check: added %d of %d: %v", res.Added, len(keys), err)
	}
	rep := &CheckReport{Keys: len(keys), LatencyMS: ms(cfg.checkLatency), Concurrency: a.Settings().CheckConcurrency}
	fmt.Fprintf(b.log, "bench: checking %d keys, upstream latency %s, concurrency %d\n", len(keys), cfg.checkLatency, rep.Concurrency)
	start := time.Now()
	if _, err := a.StartCheck(nil); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	var j app.CheckJob
	for {
		j = a.CheckStatus()
		if !j.Running() {
			break
		}
		if time.Now().After(deadline) {
			a.CancelCheck()
			return nil, errors.New("the check did not finish within 10 minutes")
		}
		select {
		case <-ctx.Done():
			a.CancelCheck()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	took := time.Since(start)
	if !j.FinishedAt.IsZero() {
		took = j.FinishedAt.Sub(start)
	}
	rep.Seconds, rep.State, rep.Done = took.Seconds(), j.State, j.Done
	rep.ByResult = map[string]int{}
	for k, v := range j.ByResult {
		rep.ByResult[string(k)] = v
	}
	fmt.Fprintf(b.log, "bench: checked %d keys in %.2f s (%s): %v\n", j.Done, rep.Seconds, j.State, rep.ByResult)
	if j.State != app.CheckDone || j.Done != len(keys) {
		return nil, fmt.Errorf("the check ended %s after %d of %d keys: %s", j.State, j.Done, len(keys), j.Error)
	}
	return rep, nil
}
