package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gemini-balance/desktop/proxy"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// Roles a child process plays; the parent re-executes itself with one of
// them as the first argument.
const (
	roleFake     = "serve-fake"
	roleBaseline = "serve-baseline"
	roleProxy    = "serve-proxy"
	roleApp      = "serve-app" // the whole app (vault.go)
)

// childFlags are the flags every role understands.
type childFlags struct {
	upstream   string
	keysFile   string
	accessKey  string
	latency    time.Duration
	events     int
	interval   time.Duration
	logMode    string
	cpuProfile string
	fullDuplex bool
	dataDir    string
	passphrase string
	imageAllow string
}

// runChild serves one role until its stdin closes. It prints
// "ready <addr>" on stdout once listening, then answers "stat" lines on
// stdin with "stat <user ns> <system ns> <max rss KiB>" (and the app role
// its own commands: see serveApp).
func runChild(role string, args []string) int {
	var f childFlags
	fl := flag.NewFlagSet(role, flag.ContinueOnError)
	fl.StringVar(&f.upstream, "upstream", "", "fake upstream base URL")
	fl.StringVar(&f.keysFile, "keys-file", "", "file with one pool key per line")
	fl.StringVar(&f.accessKey, "access-key", "", "the proxy's access key")
	fl.DurationVar(&f.latency, "latency", 0, "fake: delay before every answer")
	fl.IntVar(&f.events, "events", 20, "fake: events of the default stream")
	fl.DurationVar(&f.interval, "interval", 5*time.Millisecond, "fake: time between stream events")
	fl.StringVar(&f.logMode, "log", "discard", "proxy: request log: discard (formatted, then dropped) or none")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole serving time to this file")
	fl.BoolVar(&f.fullDuplex, "full-duplex", false, "baseline: call EnableFullDuplex before proxying (golang/go#40747)")
	fl.StringVar(&f.dataDir, "data-dir", "", "app: its data directory")
	fl.StringVar(&f.passphrase, "passphrase", "", "app: passphrase of its file secret store")
	fl.StringVar(&f.imageAllow, "image-allow", "", "proxy: hosts the image fetcher may reach besides public ones (comma-separated)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpuprofile:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "cpuprofile:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			pf.Close()
		}()
	}

	var (
		addr  string
		stop  func()
		err   error
		extra map[string]func() string
	)
	switch role {
	case roleFake:
		addr, stop = serveFake(f)
	case roleBaseline:
		addr, stop, err = serveBaseline(f)
	case roleProxy:
		addr, stop, err = serveProxy(f)
	case roleApp:
		addr, stop, extra, err = serveApp(f)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, role+":", err)
		return 1
	}
	defer stop()
	fmt.Printf("ready %s\n", addr)
	control(os.Stdin, os.Stdout, extra)
	return 0
}

// control answers the parent's requests until in ends. extra holds the
// commands of a role besides "stat"; each answers one line.
func control(in io.Reader, out io.Writer, extra map[string]func() string) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd := strings.TrimSpace(sc.Text())
		if f := extra[cmd]; f != nil {
			fmt.Fprintln(out, f())
			continue
		}
		switch cmd {
		case "stat":
			u, s, rss, err := selfUsage()
			if err != nil {
				fmt.Fprintf(out, "error %s\n", err)
				continue
			}
			fmt.Fprintf(out, "stat %d %d %d\n", u.Nanoseconds(), s.Nanoseconds(), rss)
		default:
			fmt.Fprintf(out, "error unknown command\n")
		}
	}
}

// serveFake runs the fake Gemini with the benchmark's stream shape.
func serveFake(f childFlags) (string, func()) {
	s := proxytest.NewServer()
	s.SetDefaultStream(f.events, f.interval)
	if f.latency > 0 {
		s.SetLatency(f.latency)
	}
	u, _ := url.Parse(s.URL())
	return u.Host, s.Close
}

// readKeys reads the pool keys, one per line.
func readKeys(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			keys = append(keys, line)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys in " + file)
	}
	return keys, nil
}

// listenLoopback binds a free loopback port.
func listenLoopback() (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:0")
}

// serveBaseline runs the reference: httputil.ReverseProxy that puts a
// random key of the list in x-goog-api-key and flushes every write. It uses
// the proxy's own upstream transport settings so that only the handler
// differs.
func serveBaseline(f childFlags) (string, func(), error) {
	keys, err := readKeys(f.keysFile)
	if err != nil {
		return "", nil, err
	}
	target, err := url.Parse(f.upstream)
	if err != nil {
		return "", nil, err
	}
	tr, err := proxy.NewTransport("direct")
	if err != nil {
		return "", nil, err
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set("x-goog-api-key", keys[rand.IntN(len(keys))])
			pr.Out.Header.Del("Authorization")
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	ln, err := listenLoopback()
	if err != nil {
		return "", nil, err
	}
	var h http.Handler = rp
	if f.fullDuplex {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.NewResponseController(w).EnableFullDuplex()
			rp.ServeHTTP(w, r)
		})
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return ln.Addr().String(), stop, nil
}

// countingRecorder stands in for the app's recorder: it takes each Result
// without blocking.
type countingRecorder struct{ n atomic.Int64 }

// Record counts res.
func (r *countingRecorder) Record(res proxy.Result) { r.n.Add(1) }

// serveProxy runs proxy.Server with the keys in a keypool (random strategy,
// the default), logging one line per request like the app does.
func serveProxy(f childFlags) (string, func(), error) {
	keys, err := readKeys(f.keysFile)
	if err != nil {
		return "", nil, err
	}
	pool := keypool.New(keypool.Options{})
	for _, k := range keys {
		pool.Add(keypool.Key{ID: apikey.ID(k), Secret: apikey.NewSecret(k)})
	}
	var logger *slog.Logger
	switch f.logMode {
	case "none":
		logger = slog.New(slog.DiscardHandler)
	case "stderr":
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	default:
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := proxy.New(proxy.Config{
		Addr:                 "127.0.0.1:0",
		AccessKey:            f.accessKey,
		Upstream:             f.upstream,
		UpstreamProxy:        "direct",
		ImageFetchAllowHosts: splitList(f.imageAllow),
	}, pool, &countingRecorder{}, nil, logger)
	if err != nil {
		return "", nil, err
	}
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return srv.Addr(), stop, nil
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
