package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/gemini-balance/desktop/app"
)

// `connect`: the Connect screen on the command line. `connect TOOL` prints
// the tool's settings (app/clients.go renders them with this machine's
// Base URL and access key, from the running instance when there is one);
// `connect TOOL --write` shows the change to the tool's config file and
// writes it with a backup; `connect test [DIALECT]` sends a test request.
// The config file is the user's own: this process (the user) writes it,
// not the instance.

// connectSource is where connect gets settings and test answers: the
// running instance or a local App.
type connectSource struct {
	client func(ctx context.Context, id string) (app.ClientSetup, error)
	test   func(ctx context.Context, dialect string) (app.TestResult, error)
}

func localConnect(a *app.App) connectSource {
	return connectSource{
		client: func(_ context.Context, id string) (app.ClientSetup, error) { return a.Client(id) },
		test: func(ctx context.Context, d string) (app.TestResult, error) {
			return a.TestRequest(ctx, "", d), nil
		},
	}
}

func remoteConnect(r *instance) connectSource {
	return connectSource{
		client: func(ctx context.Context, id string) (app.ClientSetup, error) {
			var s app.ClientSetup
			err := r.call(ctx, cliTimeout, http.MethodGet, "/api/clients/"+id, nil, &s)
			return s, err
		},
		test: func(ctx context.Context, d string) (app.TestResult, error) {
			var res app.TestResult
			err := r.call(ctx, 2*time.Minute, http.MethodPost, "/api/test-request", map[string]string{"dialect": d}, &res)
			return res, err
		},
	}
}

const connectUsage = "usage: %s connect [TOOL [--write [--yes] [--config PATH]] | test [DIALECT]]\n  tools: %s\n  dialects: %s"

func (c *cli) validateConnect() error {
	usage := fmt.Errorf(connectUsage, c.hint.exe, strings.Join(app.ClientIDs(), ", "), strings.Join(app.Dialects(), ", "))
	switch {
	case c.sub == "test":
		if len(c.args) > 1 || (len(c.args) == 1 && !slices.Contains(app.Dialects(), c.args[0])) || c.o.write {
			return usage
		}
	case c.sub == "":
		if len(c.args) > 0 || c.o.write {
			return usage
		}
	case !slices.Contains(app.ClientIDs(), c.sub) || len(c.args) > 0:
		return usage
	case (c.o.yes || c.o.configPath != "") && !c.o.write:
		return fmt.Errorf("--yes and --config go with --write\n%w", usage)
	}
	return nil
}

// runConnect runs the connect command with settings from src.
func (c *cli) runConnect(ctx context.Context, src connectSource) int {
	switch c.sub {
	case "":
		for _, id := range app.ClientIDs() {
			s, err := src.client(ctx, id)
			if err != nil {
				return c.fail(err)
			}
			fmt.Fprintf(c.stdout, "%-14s %s\n", id, s.Name)
		}
		fmt.Fprintf(c.stdout, "\nSettings of one: %s\n", c.hint.line([]string{"connect", "TOOL"}, c.hint.flags))
		return 0
	case "test":
		ds := app.Dialects()
		if len(c.args) == 1 {
			ds = c.args
		}
		code := 0
		for _, d := range ds {
			res, err := src.test(ctx, d)
			if err != nil {
				return c.fail(err)
			}
			if res.OK {
				fmt.Fprintf(c.stdout, "%-10s ok (%s, %d ms): %s\n", d, res.Model, res.LatencyMS, res.Text)
				continue
			}
			code = 1
			msg := testReasons[res.Reason]
			if msg == "" {
				msg = res.Reason
			}
			if res.Message != "" {
				msg += ": " + res.Message
			}
			fmt.Fprintf(c.stdout, "%-10s failed: %s\n", d, msg)
		}
		return code
	}
	s, err := src.client(ctx, c.sub)
	if err != nil {
		return c.fail(err)
	}
	if !c.o.write {
		c.printSetup(s)
		return 0
	}
	return c.writeConfig(s)
}

// testReasons word the test request's reasons.
var testReasons = map[string]string{
	app.TestNotRunning:   "the proxy is not running (start the app, or serve, and try again)",
	app.TestPaused:       "the proxy is paused (resume it in the window or the tray)",
	app.TestPassthrough:  "passthrough mode is on: clients must send their own Gemini key",
	app.TestNoKeys:       "no API keys yet (add some: keys add FILE)",
	app.TestNoUsableKey:  "no usable API key: every key is cooling down or dead",
	app.TestRegion:       "Google refuses this network's location: set a US upstream proxy in Settings",
	app.TestInvalidKey:   "Google refused the key as invalid",
	app.TestUpstream:     "Google answered with an error",
	app.TestNetwork:      "Google could not be reached",
	app.TestRequestError: "the request failed",
}

func (c *cli) printSetup(s app.ClientSetup) {
	w := c.stdout
	fmt.Fprintf(w, "%s\n%s\n", s.Name, s.Note)
	if len(s.Fields) > 0 {
		fmt.Fprintln(w)
		for _, f := range s.Fields {
			fmt.Fprintf(w, "  %-28s %s\n", f.Label+":", f.Value)
		}
	}
	for _, sn := range s.Snippets {
		fmt.Fprintf(w, "\n# %s\n%s\n", sn.Title, sn.Text)
	}
	if len(s.Files) > 0 {
		fmt.Fprintf(w, "\nTo write it (a backup of the old file is kept): %s\n", c.hint.line([]string{"connect", s.ID, "--write"}, c.hint.flags))
	}
}

// writeConfig shows the change to s's config files, asks (unless --yes),
// and writes them with a backup.
func (c *cli) writeConfig(s app.ClientSetup) int {
	if len(s.Files) == 0 {
		return c.fail(fmt.Errorf("%s has no config file to write: copy its settings (%s)", s.Name, c.hint.line([]string{"connect", s.ID}, c.hint.flags)))
	}
	home, err := os.UserHomeDir()
	if err != nil && c.o.configPath == "" {
		return c.fail(fmt.Errorf("find your home folder: %w", err))
	}
	changes, err := app.PlanClientConfig(s, app.ClientConfigPaths(s, home, c.o.configPath, os.Getenv))
	if err != nil {
		return c.fail(err)
	}
	todo := false
	for _, ch := range changes {
		if ch.Unchanged {
			fmt.Fprintf(c.stdout, "%s: already set\n", ch.Path)
			continue
		}
		todo = true
		state := "changes"
		if !ch.Exists {
			state = "new file"
		}
		fmt.Fprintf(c.stdout, "%s (%s):\n", ch.Path, state)
		for _, set := range ch.Set {
			if set.Before == set.After {
				continue
			}
			before := set.Before
			if before == "" {
				before = "(not set)"
			}
			fmt.Fprintf(c.stdout, "  %s: %s → %s\n", set.Key, before, set.After)
		}
		fmt.Fprintf(c.stdout, "%s\n", indent(ch.Diff, "    "))
	}
	if !todo {
		fmt.Fprintln(c.stdout, "Nothing to write.")
		return 0
	}
	if !c.o.yes {
		if !c.isTerminal() {
			return c.fail(fmt.Errorf("not a terminal: add --yes to write without asking (nothing was written)"))
		}
		fmt.Fprint(c.stdout, "Write these changes (the old files are kept as .bak-<time>)? [y/N] ")
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(c.stdout, "Nothing was written.")
			return 1
		}
	}
	written, err := app.WriteClientConfig(changes, time.Now())
	for _, ch := range written {
		if ch.Unchanged {
			continue
		}
		if ch.Backup != "" {
			fmt.Fprintf(c.stdout, "wrote %s (the old one is %s)\n", ch.Path, ch.Backup)
		} else {
			fmt.Fprintf(c.stdout, "wrote %s\n", ch.Path)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// isTerminal reports whether stdin is a terminal (where a question can be
// answered).
func (c *cli) isTerminal() bool {
	if c.terminal != nil {
		return c.terminal()
	}
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
