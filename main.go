// Command gemini-balance-desktop runs a Gemini API load balancer on
// 127.0.0.1 with a window and a tray icon, or headless with "serve".
//
// main only wires: it parses flags, builds the logger and the app, and hands
// them to the desktop shell (desktop.go, built with -tags desktop) or to the
// headless loop.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gemini-balance/desktop/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// instanceID names the single-instance lock: a second launch shows the
// first instance's window and exits.
const instanceID = "gemini-balance-desktop.8d2f5c0e"

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var appIcon []byte

func main() {
	if wantsConsole(os.Args[1:]) {
		attachConsole()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Gemini Balance Desktop %s: a Gemini API load balancer on 127.0.0.1.

Usage:
  gemini-balance-desktop [flags]             open the window and the tray
  gemini-balance-desktop serve [flags]       run headless (servers, WSL, containers)
  gemini-balance-desktop keys add [FILE|-]   add keys found in FILE or stdin (any text)
  gemini-balance-desktop keys list           list keys (masked)
  gemini-balance-desktop access-key          print the proxy's access key
  gemini-balance-desktop admin-password      set a new random admin password for the web UI and print it
  gemini-balance-desktop version

Flags:
`

// options are the command-line flags shared by every subcommand.
type options struct {
	headless    bool
	hidden      bool
	addr        string
	dataDir     string
	secretStore string
	passFile    string
	logLevel    string
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	sub := ""
	if cmd == "keys" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var o options
	fl := flag.NewFlagSet("gemini-balance-desktop", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintf(stderr, usage, version)
		fl.PrintDefaults()
	}
	fl.BoolVar(&o.headless, "headless", false, "run without window and tray (same as the serve command)")
	fl.BoolVar(&o.hidden, "hidden", false, "start with the window hidden (used when launched at login)")
	fl.StringVar(&o.addr, "addr", envOr("GBD_ADDR", ""), "listen address for this run, e.g. 127.0.0.1:8321 (env GBD_ADDR; default: the saved setting)")
	fl.StringVar(&o.dataDir, "data-dir", envOr("GBD_DATA_DIR", ""), "where the database lives (env GBD_DATA_DIR; default: the user config dir)")
	fl.StringVar(&o.secretStore, "secret-store", envOr("GBD_SECRET_STORE", ""), `where API keys are kept: "keychain" (the OS keychain) or "file" (an encrypted file in the data dir; needs a passphrase) (env GBD_SECRET_STORE)`)
	fl.StringVar(&o.passFile, "passphrase-file", envOr("GBD_PASSPHRASE_FILE", ""), "file holding the passphrase of the file secret store (env GBD_PASSPHRASE_FILE; or set GBD_PASSPHRASE)")
	fl.StringVar(&o.logLevel, "log-level", envOr("GBD_LOG_LEVEL", "info"), "debug, info, warn or error")
	positional, err := parseInterleaved(fl, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := newLogger(stderr, o.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, version)
		return 0
	case "", "serve", "access-key", "admin-password", "keys":
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n", cmd)
		fl.Usage()
		return 2
	}

	desktopMode := cmd == "" && !o.headless && noDisplay() == ""
	if desktopMode && handOver() {
		fmt.Fprintln(stdout, "Gemini Balance Desktop is already running: its window is shown.")
		return 0
	}
	opts, err := appOptions(o, log)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	defer a.Close()

	switch cmd {
	case "access-key":
		fmt.Fprintln(stdout, a.AccessKey())
		return 0
	case "admin-password":
		// Only a hash of the password is kept: set a new one and show it.
		pw, err := a.ResetAdminPassword(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		fmt.Fprintln(stdout, pw)
		return 0
	case "keys":
		return keysCommand(ctx, a, sub, positional, stdout, stderr)
	}

	if cmd == "serve" || o.headless {
		return serve(ctx, a, o, stdout, stderr)
	}
	if reason := noDisplay(); reason != "" {
		fmt.Fprintf(stderr, "%s: running headless instead (the web UI is at the address below).\n", reason)
		return serve(ctx, a, o, stdout, stderr)
	}
	if err := runDesktop(a, o.hidden, log); err != nil {
		if errors.Is(err, errNoDesktop) {
			fmt.Fprintln(stderr, "this binary was built without the desktop window (build with -tags desktop,production): running headless instead.")
			return serve(ctx, a, o, stdout, stderr)
		}
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// appOptions turns flags into app.Options.
func appOptions(o options, log *slog.Logger) (app.Options, error) {
	dist, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		return app.Options{}, err
	}
	opts := app.Options{
		DataDir:     o.dataDir,
		Log:         log,
		SecretStore: o.secretStore,
		Addr:        o.addr,
		Assets:      dist,
		Version:     version,
		Icon:        appIcon,
	}
	if o.passFile != "" {
		b, err := os.ReadFile(o.passFile)
		if err != nil {
			return opts, fmt.Errorf("read passphrase file: %w", err)
		}
		opts.Passphrase = strings.TrimRight(string(b), "\r\n")
	} else {
		opts.Passphrase = os.Getenv("GBD_PASSPHRASE")
	}
	return opts, nil
}

// serve runs the proxy headless until SIGINT/SIGTERM.
func serve(ctx context.Context, a *app.App, o options, stdout, stderr io.Writer) int {
	if err := a.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	st := a.Status()
	fmt.Fprintf(stdout, "Gemini Balance Desktop %s is serving on http://%s\n", version, st.Addr)
	fmt.Fprintf(stdout, "  OpenAI Base URL:  %s\n", st.OpenAIBaseURL)
	fmt.Fprintf(stdout, "  Gemini Base URL:  %s\n", st.GeminiBaseURL)
	fmt.Fprintf(stdout, "  Web UI:           http://%s/\n", st.Addr)
	fmt.Fprintf(stdout, "  Keys:             %d (%d usable)\n", st.Keys.Total, st.Keys.Active)
	if st.SecretsProblem != "" {
		fmt.Fprintf(stdout, "  Key store:        %s\n", st.SecretsProblem)
	}
	// The secrets themselves are not printed (logs are often kept): say how to get them.
	flags := ""
	if o.dataDir != "" {
		flags += " --data-dir " + o.dataDir
	}
	if o.secretStore != "" {
		flags += " --secret-store " + o.secretStore
	}
	fmt.Fprintf(stdout, "  Access key:       %s access-key%s\n", os.Args[0], flags)
	fmt.Fprintf(stdout, "  Admin password:   %s admin-password%s\n", os.Args[0], flags)
	fmt.Fprintf(stdout, "  Add keys:         %s keys add%s FILE   (or paste them in the web UI)\n", os.Args[0], flags)
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down…")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Stop(sctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// keysCommand adds or lists keys from the command line.
func keysCommand(ctx context.Context, a *app.App, sub string, args []string, stdout, stderr io.Writer) int {
	switch sub {
	case "add":
		var in io.Reader = os.Stdin
		if len(args) > 0 && args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				fmt.Fprintln(stderr, "error:", err)
				return 1
			}
			defer f.Close()
			in = f
		}
		text, err := io.ReadAll(io.LimitReader(in, 64<<20))
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		res, err := a.Keys().AddBulk(ctx, string(text))
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		fmt.Fprintf(stdout, "added %d, already present %d, malformed %d\n", res.Added, res.Existing, len(res.Malformed))
		for _, m := range res.Malformed {
			fmt.Fprintf(stdout, "  line %d: %s (%s)\n", m.Line, m.Text, m.Reason)
		}
		return 0
	case "list":
		page, err := a.Keys().List(ctx, app.KeyQuery{Limit: 100000})
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		for _, k := range page.Keys {
			fmt.Fprintf(stdout, "%s  %-14s %s\n", k.Preview, k.Status, k.Reason)
		}
		fmt.Fprintf(stdout, "%d keys\n", page.Total)
		return 0
	}
	fmt.Fprintln(stderr, "usage: gemini-balance-desktop keys add [FILE|-] | keys list")
	return 2
}

// parseInterleaved parses flags that may stand before, between or after
// the positional arguments (`keys add FILE --data-dir DIR`), which the flag
// package alone would leave unparsed after FILE.
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// noDisplay says why no window can open here, or "" when one can.
func noDisplay() string {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return ""
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return "no display found (DISPLAY and WAYLAND_DISPLAY are empty)"
	}
	return ""
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
