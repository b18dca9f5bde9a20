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
	"github.com/gemini-balance/desktop/app/cmdline"
)

// Build information, set by build/package.sh with
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var appIcon []byte

func main() {
	if cmdline.WantsConsole(os.Args[1:]) {
		attachConsole()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Gemini Balance Desktop %s: a Gemini API load balancer on 127.0.0.1.

Usage:
  gemini-balance-desktop [flags]             open the window and the tray
  gemini-balance-desktop serve [flags]       run headless (servers, WSL, containers)
  gemini-balance-desktop keys add [FILE|-]   add keys found in FILE or stdin (any text);
                                             exits 1 when no valid key was found or one could not be stored
  gemini-balance-desktop keys list           list keys (masked)
  gemini-balance-desktop access-key          print the proxy's access key
  gemini-balance-desktop admin-password      set a new random admin password for the web UI and print it
  gemini-balance-desktop secret-store        say where the API keys are kept and how safe that is
  gemini-balance-desktop secret-store move keychain|file [--new-passphrase-file FILE]
                                             move the API keys to the OS keychain or the encrypted file
                                             (with your passphrase, or a generated one kept beside it)
  gemini-balance-desktop connect             list the tools with ready settings (Cherry Studio, Claude Code, Codex, …)
  gemini-balance-desktop connect TOOL        print TOOL's settings with this machine's Base URL and access key
  gemini-balance-desktop connect TOOL --write [--yes] [--config PATH]
                                             write them into the tool's config file (gemini-cli, claude-code,
                                             codex): shows the change, asks, keeps FILE.bak-<time>
  gemini-balance-desktop connect test [gemini|openai|responses|anthropic]
                                             send a test request through the running proxy in each dialect
  gemini-balance-desktop version

While the app runs, these commands go through it (the change applies at once);
otherwise they open the data dir themselves.

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
	newPassFile string
	logLevel    string
	// connect --write, --yes, --config
	write      bool
	yes        bool
	configPath string
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd, sub, args := splitCommand(args)
	var o options
	fl := newFlagSet(&o, stderr)
	positional, err := parseInterleaved(fl, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.logLevel == "" {
		// The command-line tools print their answer, not the log.
		o.logLevel = "info"
		if cliCommands[cmd] {
			o.logLevel = "error"
		}
	}
	log, err := newLogger(stderr, o.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "", "serve":
		return runApp(cmd, o, log, stdout, stderr)
	}
	if !cliCommands[cmd] {
		fmt.Fprintf(stderr, "unknown command %q\n\n", cmd)
		fl.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cliCommand(ctx, &cli{o: o, cmd: cmd, sub: sub, args: positional, stdin: os.Stdin,
		stdout: stdout, stderr: stderr, log: log, hint: newHinter(runtime.GOOS, o)})
}

// splitCommand takes the command and, for the commands that have them,
// the subcommand off the front of args.
func splitCommand(args []string) (cmd, sub string, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if (cmd == "keys" || cmd == "secret-store" || cmd == "connect") && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	return cmd, sub, args
}

// newFlagSet declares the command line's flags into o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
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
	fl.StringVar(&o.secretStore, "secret-store", envOr("GBD_SECRET_STORE", ""), `where API keys are kept on first run: "keychain" (the OS keychain) or "file" (an encrypted file in the data dir). Default: the keychain when it answers, else the file with a generated passphrase; the choice is remembered (env GBD_SECRET_STORE)`)
	fl.StringVar(&o.passFile, "passphrase-file", envOr("GBD_PASSPHRASE_FILE", ""), "file holding your passphrase of the file secret store (env GBD_PASSPHRASE_FILE; or set GBD_PASSPHRASE); without one the file store uses a generated passphrase kept beside it")
	fl.StringVar(&o.newPassFile, "new-passphrase-file", "", "secret-store move file: file holding the passphrase to encrypt the keys with (default: a generated one)")
	fl.BoolVar(&o.write, "write", false, "connect TOOL: write the settings into the tool's config file (shows the change first, keeps a backup)")
	fl.BoolVar(&o.yes, "yes", false, "connect TOOL --write: write without asking (needed when not run from a terminal)")
	fl.StringVar(&o.configPath, "config", "", "connect TOOL --write: the config file to edit (default: the tool's file in your home)")
	fl.StringVar(&o.logLevel, "log-level", envOr("GBD_LOG_LEVEL", ""), "debug, info, warn or error (default info; error for the command-line tools)")
	return fl
}

// runApp starts the app for cmd "" (the desktop, or headless when there is
// no display or no desktop build) or "serve" (headless) and runs it until
// it is quit or signalled.
func runApp(cmd string, o options, log *slog.Logger, stdout, stderr io.Writer) int {
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
	opts.Interactive = desktopMode
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	defer a.Close()

	if cmd == "serve" || o.headless {
		return serve(ctx, a, o, stdout, stderr)
	}
	if reason := noDisplay(); reason != "" {
		fmt.Fprintf(stderr, "%s: running headless instead (the web UI is at the address below).\n", reason)
		return serve(ctx, a, o, stdout, stderr)
	}
	if err := runDesktop(ctx, a, o.hidden, log); err != nil {
		if errors.Is(err, errNoDesktop) {
			fmt.Fprintln(stderr, "this binary was built without the desktop window (build with -tags desktop,production): running headless instead.")
			return serve(ctx, a, o, stdout, stderr)
		}
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// versionLine is what the version command prints: version, commit and
// build date (the commit's time, so that rebuilds are identical).
func versionLine() string {
	return fmt.Sprintf("gemini-balance-desktop %s (commit %s, built %s, %s %s/%s)",
		version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
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
	h := newHinter(runtime.GOOS, o)
	printStoreBanner(stdout, h, st)
	// The secrets themselves are not printed (logs are often kept): say how to get them.
	fmt.Fprintf(stdout, "  Access key:       %s\n", h.cmd("access-key"))
	fmt.Fprintf(stdout, "  Admin password:   %s   (sets a new one)\n", h.cmd("admin-password"))
	fmt.Fprintf(stdout, "  Add keys:         %s   (or paste them in the web UI)\n", h.cmd("keys", "add", "FILE"))
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
