package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "serve-") {
		os.Exit(runChild(os.Args[1], os.Args[2:]))
	}
	os.Exit(runBench(os.Args[1:], os.Stdout, os.Stderr))
}

// config holds the command's flags.
type config struct {
	quick, jsonOut, strict, verbose bool
	skipRSS                         bool
	rounds                          int
	n1, n64, nStream, nRSS          int
	conc, events, keys              int
	interval, latency               time.Duration
	runTimeout, timeout             time.Duration
	profileDir, logMode             string
	fullDuplex                      bool
	only                            string
	jsonFile                        string
	vaultKeys, reps                 int
	checkLatency                    time.Duration
	floodConns, floodParallel       int
	slowConns                       int
	desktopBin                      string
}

// groups are the parts -only can pick; "vault" is the four of issue 4.
var groups = []string{"load", "keypool", "rss", "stats", "add", "startup", "check", "abuse", "desktop"}

// vaultGroups are the parts of issue 4.
var vaultGroups = []string{"stats", "add", "startup", "check"}

// runs reports whether the run includes group.
func (c config) runs(group string) bool {
	switch c.only {
	case "", group:
		return true
	case "vault":
		return slices.Contains(vaultGroups, group)
	}
	return false
}

// parseFlags reads args; -quick changes the defaults of the count flags
// that were not given explicitly.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./build/bench [flags]\n\nCompares proxy.Server with an httputil.ReverseProxy baseline over a fake Gemini on loopback.\n\nFlags:")
		fl.PrintDefaults()
	}
	fl.BoolVar(&c.quick, "quick", false, "short run: 1 round, fewer requests (< 1 minute)")
	fl.BoolVar(&c.jsonOut, "json", false, "print the results as JSON on stdout (progress stays on stderr)")
	fl.StringVar(&c.jsonFile, "json-file", "", "also write the JSON results to this file")
	fl.BoolVar(&c.strict, "strict", false, "exit 1 when a target is missed")
	fl.BoolVar(&c.verbose, "v", false, "pass the servers' stderr through")
	fl.BoolVar(&c.skipRSS, "skip-rss", false, "do not build and measure the headless binary")
	fl.IntVar(&c.rounds, "rounds", 3, "rounds per scenario; the median is reported")
	fl.IntVar(&c.n1, "n1", 3000, "requests per run, non-stream at concurrency 1")
	fl.IntVar(&c.n64, "n64", 20000, "requests per run, non-stream at the high concurrency")
	fl.IntVar(&c.nStream, "nstream", 2560, "streams per run at the high concurrency")
	fl.IntVar(&c.nRSS, "nrss", 2560, "streams through the headless binary for its peak RSS")
	fl.IntVar(&c.conc, "c", 64, "the high concurrency")
	fl.IntVar(&c.events, "events", 20, "events per stream")
	fl.DurationVar(&c.interval, "interval", 5*time.Millisecond, "time between stream events")
	fl.DurationVar(&c.latency, "latency", 0, "the fake's delay before every answer")
	fl.IntVar(&c.keys, "keys", 20, "pool keys")
	fl.DurationVar(&c.runTimeout, "run-timeout", 60*time.Second, "time limit of one measured run")
	fl.DurationVar(&c.timeout, "timeout", 15*time.Minute, "time limit of the whole command")
	fl.StringVar(&c.profileDir, "cpuprofile", "", "directory to write CPU profiles of the servers to (proxy.pprof, baseline.pprof)")
	fl.BoolVar(&c.fullDuplex, "baseline-full-duplex", false, "let the baseline call EnableFullDuplex (avoids the stream cuts of golang/go#40747)")
	fl.StringVar(&c.only, "only", "", "run only one part: load, keypool, rss, abuse (issue 9), desktop (issue 7: under xvfb-run and dbus-run-session), or of issue 4: stats, add, startup, check (vault: those four)")
	fl.IntVar(&c.vaultKeys, "vault-keys", 1000, "issue 4: keys to add, start with and check")
	fl.IntVar(&c.reps, "reps", 3, "issue 4: repetitions of the add and startup timings (the median is reported)")
	fl.DurationVar(&c.checkLatency, "check-latency", 100*time.Millisecond, "issue 4: the fake's delay for the key check")
	fl.IntVar(&c.floodConns, "flood", 20000, "issue 9: key-less connections announcing a body they never send")
	fl.IntVar(&c.floodParallel, "flood-parallel", 1024, "issue 9: of those, at most this many at once")
	fl.IntVar(&c.slowConns, "slow-headers", 10000, "issue 9: connections holding half-sent headers")
	fl.StringVar(&c.desktopBin, "desktop-bin", "", "issue 7: the desktop binary to measure (default: built with -tags desktop,production,webkit2_41)")
	fl.StringVar(&c.logMode, "proxy-log", "discard", "proxy request log: discard (formatted like the app's, then dropped) or none")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	if fl.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	if c.quick {
		c.quickDefaults(fl)
	}
	return c, c.check()
}

// quickDefaults sets the -quick values of the count flags not given in fl.
func (c *config) quickDefaults(fl *flag.FlagSet) {
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	quick := map[string]*int{"rounds": &c.rounds, "n1": &c.n1, "n64": &c.n64, "nstream": &c.nStream, "nrss": &c.nRSS, "reps": &c.reps}
	values := map[string]int{"rounds": 1, "n1": 500, "n64": 4000, "nstream": 640, "nrss": 640, "reps": 1}
	for name, p := range quick {
		if !set[name] {
			*p = values[name]
		}
	}
	if !set["run-timeout"] {
		c.runTimeout = 20 * time.Second
	}
}

// check tells whether the flags are in their bounds: the benchmark is
// bounded on purpose.
func (c config) check() error {
	if c.only != "" && c.only != "vault" && !slices.Contains(groups, c.only) {
		return fmt.Errorf("-only %q: use one of %s or vault", c.only, strings.Join(groups, ", "))
	}
	for _, n := range []int{c.rounds, c.n1, c.n64, c.nStream, c.conc, c.events, c.keys, c.vaultKeys, c.reps} {
		if n < 1 {
			return errors.New("counts must be at least 1")
		}
	}
	in := func(n, lo, hi int) bool { return lo <= n && n <= hi }
	if !in(c.floodConns, 1, 100_000) || !in(c.floodParallel, 1, 8192) || !in(c.slowConns, 0, 15_000) {
		return errors.New("-flood 1..100000, -flood-parallel 1..8192, -slow-headers 0..15000: the benchmark is bounded on purpose")
	}
	for _, b := range []struct{ n, most int }{
		{c.n1, 1_000_000}, {c.n64, 1_000_000}, {c.nStream, 100_000}, {c.nRSS, 100_000},
		{c.conc, 4096}, {c.rounds, 50}, {c.vaultKeys, 100_000}, {c.reps, 20},
	} {
		if b.n > b.most {
			return errors.New("counts too large: the benchmark is bounded on purpose")
		}
	}
	return nil
}

func runBench(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	rep, err := benchmark(ctx, cfg, stderr)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "bench: stopped:", context.Cause(ctx))
			return 130
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	js = append(js, '\n')
	if cfg.jsonOut {
		stdout.Write(js)
	} else {
		rep.print(stdout)
	}
	if cfg.jsonFile != "" {
		if err := os.WriteFile(cfg.jsonFile, js, 0o644); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	if cfg.strict && rep.Failed > 0 {
		return 1
	}
	return 0
}

// randomToken returns n random characters of a key's alphabet.
func randomToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// fakeKeys returns n keys shaped like real Google API keys.
func fakeKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "AIza" + randomToken(35)
	}
	return keys
}

// bench is one run of the command: the servers and what they measured.
type bench struct {
	cfg      config
	log      io.Writer
	fake     *child
	baseline *child
	ours     *child
	eps      map[string]*endpoint
	keys     []string
	access   string
	tmp      string
	bin      string // the headless binary, once built
}

// benchmark starts the servers, runs every scenario and measures RSS.
func benchmark(ctx context.Context, cfg config, log io.Writer) (*Report, error) {
	tmp, err := os.MkdirTemp("", "gbd-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: cfg, log: log, keys: fakeKeys(cfg.keys), access: "gbd-" + randomToken(32), tmp: tmp}
	keysFile := filepath.Join(tmp, "keys.txt")
	if err := os.WriteFile(keysFile, []byte(strings.Join(b.keys, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}

	startLoad := loadAverage()
	fmt.Fprintf(log, "bench: GOMAXPROCS=%d, %d CPUs; rounds=%d n1=%d n%d=%d streams=%d (%d events, %s apart), fake latency %s\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), cfg.rounds, cfg.n1, cfg.conc, cfg.n64, cfg.nStream, cfg.events, cfg.interval, cfg.latency)
	if b.fake, err = startChild(ctx, roleFake, []string{
		"-events", fmt.Sprint(cfg.events), "-interval", cfg.interval.String(), "-latency", cfg.latency.String(),
	}, cfg.verbose); err != nil {
		return nil, err
	}
	defer b.fake.stop()
	upstream := "http://" + b.fake.addr
	common := []string{"-upstream", upstream, "-keys-file", keysFile, "-access-key", b.access}
	profile := func(name string) []string {
		if cfg.profileDir == "" {
			return nil
		}
		return []string{"-cpuprofile", filepath.Join(cfg.profileDir, name+".pprof")}
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return nil, err
		}
	}
	if cfg.runs("load") {
		baseArgs := append(append([]string(nil), common...), profile("baseline")...)
		if cfg.fullDuplex {
			baseArgs = append(baseArgs, "-full-duplex")
		}
		if b.baseline, err = startChild(ctx, roleBaseline, baseArgs, cfg.verbose); err != nil {
			return nil, err
		}
		defer b.baseline.stop()
		if b.ours, err = startChild(ctx, roleProxy, append(append(common, "-log", cfg.logMode), profile("proxy")...), cfg.verbose); err != nil {
			return nil, err
		}
		defer b.ours.stop()
		b.eps = map[string]*endpoint{
			"direct":   {name: "direct", base: upstream, keys: b.keys, client: newClient()},
			"baseline": {name: "baseline", base: "http://" + b.baseline.addr, keys: b.keys, access: b.access, proc: b.baseline, client: newClient()},
			"ours":     {name: "ours", base: "http://" + b.ours.addr, keys: b.keys, access: b.access, proc: b.ours, client: newClient()},
		}
	}
	rep := &Report{
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		Rounds: cfg.rounds, Concurrency: cfg.conc, Events: cfg.events, IntervalMS: ms(cfg.interval),
		FakeLatencyMS: ms(cfg.latency), ProxyLog: cfg.logMode, Quick: cfg.quick, Definitions: definitions,
	}
	if cfg.runs("load") {
		openAI, note := b.probe(ctx)
		if note != "" {
			rep.Notes = append(rep.Notes, note)
			fmt.Fprintln(log, "bench:", note)
		}
		if err := b.warmUp(ctx, openAI); err != nil {
			return nil, err
		}
		results, err := b.rounds(ctx, openAI)
		if err != nil {
			return nil, err
		}
		rep.addScenarios(cfg, results, openAI)
	}
	if cfg.runs("keypool") {
		fmt.Fprintln(log, "bench: keypool pick, 10,000 keys, a third cooling")
		rep.Keypool = benchKeypool()
	}
	switch {
	case !cfg.runs("rss"):
	case cfg.skipRSS:
		rep.RSS = &RSSReport{Skipped: "skipped: -skip-rss"}
	default:
		rep.RSS = b.measureRSS(ctx, upstream)
	}
	if slices.ContainsFunc(vaultGroups, cfg.runs) {
		rep.Vault = b.vault(ctx, upstream, keysFile, profile)
	}
	if cfg.runs("abuse") {
		rep.Abuse = b.abuse(ctx, upstream, keysFile)
	}
	if cfg.runs("desktop") {
		rep.Desktop = b.measureDesktop(ctx)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if la := loadAverage(); la != "" {
		rep.Notes = append(rep.Notes, "load average at the start: "+startLoad+"; at the end: "+la+" (other processes share these CPUs; latency figures suffer first)")
	}
	rep.check(cfg)
	return rep, nil
}

// probe checks that every server answers, and whether the OpenAI routes of
// ours do (they may still be a stub answering 501).
func (b *bench) probe(ctx context.Context) (openAI bool, note string) {
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ours := b.eps["ours"]
	if _, err := ours.do(pctx, kindChat, b.cfg.events); err != nil {
		var se *statusError
		if errors.As(err, &se) && (se.code == 501 || se.code == 404) {
			return false, fmt.Sprintf("OpenAI scenarios skipped: /v1/chat/completions answers %d (%s)", se.code, se.body)
		}
		return false, "OpenAI scenarios skipped: /v1/chat/completions failed: " + err.Error()
	}
	for _, k := range []kind{kindChatStream, kindResponses, kindResponsesStream, kindMessages, kindMessagesStream} {
		st, err := ours.do(pctx, k, b.cfg.events)
		if err != nil {
			return false, fmt.Sprintf("OpenAI scenarios skipped: %s failed: %v", k, err)
		}
		if st.cut {
			return false, fmt.Sprintf("OpenAI scenarios skipped: the %s probe counts as cut: %s", k, st.why)
		}
	}
	return true, ""
}

// warmUp sends a few hundred requests of every kind to every endpoint and
// checks that they succeed.
func (b *bench) warmUp(ctx context.Context, openAI bool) error {
	fmt.Fprintln(b.log, "bench: warming up")
	for _, name := range []string{"direct", "baseline", "ours"} {
		e := b.eps[name]
		kinds := []kind{kindGenerate, kindStream}
		if name == "ours" && openAI {
			kinds = append(kinds, kindChat, kindChatStream, kindResponses, kindResponsesStream, kindMessages, kindMessagesStream)
		}
		for _, k := range kinds {
			n := min(b.cfg.n64/4, 1000)
			if k.stream() {
				n = min(b.cfg.nStream/2, 2*b.cfg.conc)
			}
			r, err := load(ctx, e, b.fake, k, b.cfg.conc, max(n, b.cfg.conc), b.cfg.events, b.cfg.runTimeout)
			if err != nil {
				return err
			}
			if r.Requests == 0 || r.Errors > 0 {
				return fmt.Errorf("warm-up of %s (%s): %d errors, first: %s", name, k, r.Errors, r.FirstError)
			}
		}
	}
	return nil
}

// scenario is one load shape and the servers it runs against.
type scenario struct {
	ID      string
	Title   string
	Kind    kind
	Conc    int
	N       int
	Targets []string
	// Native names the scenario of ours' native route an OpenAI scenario is
	// compared with.
	Native string
}

// scenarios lists what a round runs, in order.
func (b *bench) scenarios(openAI bool) []scenario {
	c := b.cfg
	all := []string{"direct", "baseline", "ours"}
	s := []scenario{
		{ID: "native-generate-c1", Title: "native generateContent, c=1", Kind: kindGenerate, Conc: 1, N: c.n1, Targets: all},
		{ID: fmt.Sprintf("native-generate-c%d", c.conc), Title: fmt.Sprintf("native generateContent, c=%d", c.conc), Kind: kindGenerate, Conc: c.conc, N: c.n64, Targets: all},
		{ID: fmt.Sprintf("native-stream-c%d", c.conc), Title: fmt.Sprintf("native SSE stream (%d ev), c=%d", c.events, c.conc), Kind: kindStream, Conc: c.conc, N: c.nStream, Targets: all},
	}
	if openAI {
		s = append(s[:2], append([]scenario{
			{ID: fmt.Sprintf("openai-chat-c%d", c.conc), Title: fmt.Sprintf("OpenAI chat, c=%d", c.conc), Kind: kindChat, Conc: c.conc, N: c.n64, Targets: []string{"ours"}, Native: s[1].ID},
		}, s[2:]...)...)
		s = append(s, scenario{ID: fmt.Sprintf("openai-stream-c%d", c.conc), Title: fmt.Sprintf("OpenAI stream (%d ev), c=%d", c.events, c.conc), Kind: kindChatStream, Conc: c.conc, N: c.nStream, Targets: []string{"ours"}, Native: s[len(s)-1].ID})
		s = append(s,
			scenario{ID: fmt.Sprintf("responses-c%d", c.conc), Title: fmt.Sprintf("OpenAI Responses, c=%d", c.conc), Kind: kindResponses, Conc: c.conc, N: c.n64, Targets: []string{"ours"}, Native: fmt.Sprintf("native-generate-c%d", c.conc)},
			scenario{ID: fmt.Sprintf("responses-stream-c%d", c.conc), Title: fmt.Sprintf("OpenAI Responses stream (%d ev), c=%d", c.events, c.conc), Kind: kindResponsesStream, Conc: c.conc, N: c.nStream, Targets: []string{"ours"}, Native: fmt.Sprintf("native-stream-c%d", c.conc)},
			scenario{ID: fmt.Sprintf("anthropic-c%d", c.conc), Title: fmt.Sprintf("Anthropic Messages, c=%d", c.conc), Kind: kindMessages, Conc: c.conc, N: c.n64, Targets: []string{"ours"}, Native: fmt.Sprintf("native-generate-c%d", c.conc)},
			scenario{ID: fmt.Sprintf("anthropic-stream-c%d", c.conc), Title: fmt.Sprintf("Anthropic Messages stream (%d ev), c=%d", c.events, c.conc), Kind: kindMessagesStream, Conc: c.conc, N: c.nStream, Targets: []string{"ours"}, Native: fmt.Sprintf("native-stream-c%d", c.conc)})
	}
	return s
}

// results[scenario ID][target] holds one run per round.
type results struct {
	scenarios []scenario
	runs      map[string]map[string][]*run
}

// rounds runs every scenario cfg.rounds times, rotating the order of the
// servers from round to round.
func (b *bench) rounds(ctx context.Context, openAI bool) (*results, error) {
	res := &results{scenarios: b.scenarios(openAI), runs: map[string]map[string][]*run{}}
	for round := 0; round < b.cfg.rounds; round++ {
		for _, sc := range res.scenarios {
			if res.runs[sc.ID] == nil {
				res.runs[sc.ID] = map[string][]*run{}
			}
			n := len(sc.Targets)
			for i := 0; i < n; i++ {
				name := sc.Targets[(i+round)%n]
				r, err := load(ctx, b.eps[name], b.fake, sc.Kind, sc.Conc, sc.N, b.cfg.events, b.cfg.runTimeout)
				if err != nil {
					return nil, err
				}
				res.runs[sc.ID][name] = append(res.runs[sc.ID][name], r)
				cpu := r.cpuPerReq()
				if name == "direct" {
					cpu = r.fakeCPUPerReq()
				}
				line := fmt.Sprintf("round %d/%d  %-32s %-8s %6d req %3d err %3d cut  %6.0f req/s  CPU %6.1f µs/req  p50 %7.3f ms  p99 %7.3f ms",
					round+1, b.cfg.rounds, sc.Title, name, r.Requests, r.Errors, r.Cut, float64(r.Requests)/r.Wall.Seconds(),
					cpu, ms(percentile(r.Lat, 50)), ms(percentile(r.Lat, 99)))
				if sc.Kind.stream() {
					line += fmt.Sprintf("  TTFT p50 %6.3f ms", ms(percentile(r.TTFT, 50)))
				}
				if r.TimedOut {
					line += "  (time limit hit)"
				}
				if r.FirstError != "" {
					line += "  first error: " + r.FirstError
				}
				if r.FirstCut != "" {
					line += "  first cut: " + r.FirstCut
				}
				fmt.Fprintln(b.log, line)
			}
		}
	}
	return res, nil
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
