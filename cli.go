package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/app/vault"
)

// The command-line tools (keys, access-key, admin-password, secret-store).
// When an instance serves from the same data dir they go through its
// management API (authorised by the control file it keeps in the data dir,
// see app/control.go): the running pool sees the change at once and the
// data dir has one writer. Otherwise they open the data dir themselves.

// cliCommands are the commands cliCommand runs.
var cliCommands = map[string]bool{"access-key": true, "admin-password": true, "connect": true, "keys": true, "secret-store": true}

// cliTimeout bounds a call to the running instance; adds and moves of many
// keys through a slow keychain take longer than reads.
const (
	cliTimeout     = 15 * time.Second
	cliSlowTimeout = 10 * time.Minute
)

// cli runs one command-line tool.
type cli struct {
	o      options
	cmd    string
	sub    string
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	hint   hinter
	remote *instance // the running instance, or nil
	// terminal, when set, says whether stdin is a terminal (tests).
	terminal func() bool
}

// cliCommand runs cmd (sub) with args, through the running instance when
// there is one.
func cliCommand(ctx context.Context, c *cli) int {
	if err := c.validate(); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 2
	}
	dir := c.o.dataDir
	if dir == "" {
		d, err := app.DefaultDataDir()
		if err != nil {
			fmt.Fprintln(c.stderr, "error:", err)
			return 1
		}
		dir = d
	}
	c.remote = findInstance(ctx, dir)
	if c.remote != nil {
		return c.runRemote(ctx)
	}
	opts, err := appOptions(c.o, c.log)
	if err != nil {
		fmt.Fprintln(c.stderr, "error:", err)
		return 1
	}
	// One writer at a time on the data dir; an instance starting now
	// waits for this command (and then serves what it did).
	unlock, err := app.LockDataDir(ctx, dir)
	if err != nil {
		fmt.Fprintln(c.stderr, "error:", err)
		return 1
	}
	defer unlock()
	a, err := app.New(ctx, opts)
	if err != nil {
		fmt.Fprintln(c.stderr, "error:", err)
		return 1
	}
	defer a.Close()
	return c.runLocal(ctx, a)
}

func (c *cli) validate() error {
	switch c.cmd {
	case "connect":
		return c.validateConnect()
	case "keys":
		if c.sub != "add" && c.sub != "list" {
			return errors.New("usage: " + c.hint.exe + " keys add [FILE|-] | keys list")
		}
	case "secret-store":
		if c.sub != "" && c.sub != "move" {
			return errors.New("usage: " + c.hint.exe + " secret-store [move keychain|file [--new-passphrase-file FILE]]")
		}
		if c.sub == "move" && (len(c.args) != 1 || (c.args[0] != app.StoreKeychain && c.args[0] != app.StoreFile)) {
			return errors.New("usage: " + c.hint.exe + " secret-store move keychain|file [--new-passphrase-file FILE]")
		}
	}
	return nil
}

// readKeysInput reads the text of `keys add`.
func (c *cli) readKeysInput() (string, error) {
	in := c.stdin
	if len(c.args) > 0 && c.args[0] != "-" {
		f, err := os.Open(c.args[0])
		if err != nil {
			return "", err
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, 64<<20))
	return string(b), err
}

// newPassphrase reads --new-passphrase-file ("" without it: generated).
func (c *cli) newPassphrase() (string, error) {
	if c.o.newPassFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.o.newPassFile)
	if err != nil {
		return "", fmt.Errorf("read the new passphrase: %w", err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", errors.New("the new passphrase file is empty")
	}
	return p, nil
}

// addExit is the exit status of `keys add`: 0 when every valid key found
// is stored (added now or already there), 1 when no valid key was found or
// some could not be stored.
func addExit(found, failed int) int {
	if found == 0 || failed > 0 {
		return 1
	}
	return 0
}

func (c *cli) printAdd(res vault.AddResult) int {
	fmt.Fprintf(c.stdout, "added %d, already present %d, malformed %d\n", res.Added, res.Existing, len(res.Malformed))
	for _, m := range res.Malformed {
		fmt.Fprintf(c.stdout, "  line %d: %s (%s)\n", m.Line, m.Text, m.Reason)
	}
	if res.Failed > 0 {
		fmt.Fprintf(c.stderr, "error: %d keys could not be stored: %s\n", res.Failed, res.Error)
	}
	found := res.Added + res.Existing + res.Failed
	if found == 0 {
		fmt.Fprintln(c.stderr, "error: no valid API key found (a key is AIza followed by 35 letters, digits, - or _)")
	}
	return addExit(found, res.Failed)
}

func (c *cli) printStore(s app.SecretStoreInfo) {
	fmt.Fprintf(c.stdout, "store: %s\n", s.Kind)
	if s.Path != "" {
		fmt.Fprintf(c.stdout, "file: %s\n", s.Path)
	}
	if s.Passphrase != "" {
		fmt.Fprintf(c.stdout, "passphrase: %s\n", s.Passphrase)
	}
	if s.PassphrasePath != "" {
		fmt.Fprintf(c.stdout, "passphrase file: %s\n", s.PassphrasePath)
	}
	fmt.Fprintln(c.stdout, s.Note)
	if s.Kind == app.StoreFile && s.Passphrase == app.PassGenerated {
		fmt.Fprintf(c.stdout, "To use your own passphrase: %s\n", c.hint.line([]string{"secret-store", "move", "file", "--new-passphrase-file", "FILE"}, c.hint.flags))
	}
}

func (c *cli) runLocal(ctx context.Context, a *app.App) int {
	switch c.cmd {
	case "connect":
		return c.runConnect(ctx, localConnect(a))
	case "access-key":
		fmt.Fprintln(c.stdout, a.AccessKey())
	case "admin-password":
		p, err := a.ResetAdminPassword(ctx)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(c.stdout, p)
	case "keys":
		if c.sub == "list" {
			page, err := a.ListKeys(ctx, vault.KeyQuery{Limit: 1 << 30})
			if err != nil {
				return c.fail(err)
			}
			c.printKeys(page.Keys, page.Total)
			return 0
		}
		text, err := c.readKeysInput()
		if err != nil {
			return c.fail(err)
		}
		// Finish interrupted adds and load the keys first, as a start does.
		if _, err := a.ReconcileKeys(ctx); err != nil {
			return c.fail(err)
		}
		res, err := a.AddKeys(ctx, text)
		if err != nil && res.Failed == 0 {
			return c.fail(err)
		}
		return c.printAdd(res)
	case "secret-store":
		if c.sub == "move" {
			pass, err := c.newPassphrase()
			if err != nil {
				return c.fail(err)
			}
			if _, err := a.ReconcileKeys(ctx); err != nil {
				return c.fail(err)
			}
			res, err := a.MoveSecretStore(ctx, app.MoveRequest{To: c.args[0], Passphrase: pass})
			if err != nil {
				return c.fail(err)
			}
			fmt.Fprintf(c.stdout, "moved %d keys\n", res.Copied)
			c.printStore(res.Store)
			return 0
		}
		c.printStore(a.SecretStore())
	}
	return 0
}

func (c *cli) printKeys(keys []vault.KeyInfo, total int) {
	for _, k := range keys {
		fmt.Fprintf(c.stdout, "%s  %-14s %s\n", k.Preview, k.Status, k.Reason)
	}
	fmt.Fprintf(c.stdout, "%d keys\n", total)
}

func (c *cli) runRemote(ctx context.Context) int {
	r := c.remote
	switch c.cmd {
	case "connect":
		return c.runConnect(ctx, remoteConnect(r))
	case "access-key":
		var s struct {
			AccessKey string `json:"accessKey"`
		}
		if err := r.call(ctx, cliTimeout, http.MethodGet, "/api/settings", nil, &s); err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(c.stdout, s.AccessKey)
	case "admin-password":
		var s struct {
			AdminPassword string `json:"adminPassword"`
		}
		if err := r.call(ctx, cliTimeout, http.MethodPost, "/api/settings/admin-password", struct{}{}, &s); err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(c.stdout, s.AdminPassword)
	case "keys":
		return c.remoteKeys(ctx)
	case "secret-store":
		return c.remoteSecretStore(ctx)
	}
	return 0
}

// fail prints err and returns the exit status of a failed command.
func (c *cli) fail(err error) int {
	fmt.Fprintln(c.stderr, "error:", err)
	return 1
}

// remoteKeys runs "keys list" or "keys add" against the running instance.
func (c *cli) remoteKeys(ctx context.Context) int {
	r := c.remote
	if c.sub == "list" {
		var keys []vault.KeyInfo
		total := 0
		for off := 0; ; {
			var page struct {
				Keys  []vault.KeyInfo `json:"keys"`
				Total int             `json:"total"`
			}
			q := url.Values{"offset": {fmt.Sprint(off)}, "limit": {"1000"}}
			if err := r.call(ctx, cliTimeout, http.MethodGet, "/api/keys?"+q.Encode(), nil, &page); err != nil {
				return c.fail(err)
			}
			keys, total = append(keys, page.Keys...), page.Total
			off += len(page.Keys)
			if len(page.Keys) == 0 || off >= page.Total {
				break
			}
		}
		c.printKeys(keys, total)
		return 0
	}
	text, err := c.readKeysInput()
	if err != nil {
		return c.fail(err)
	}
	var res vault.AddResult
	err = r.call(ctx, cliSlowTimeout, http.MethodPost, "/api/keys/bulk", map[string]string{"text": text}, &res)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusBadRequest {
		// No key in the text: the instance says why.
		fmt.Fprintln(c.stderr, "error:", he.msg)
		return 1
	}
	if err != nil {
		return c.fail(err)
	}
	return c.printAdd(res)
}

// remoteSecretStore runs "secret-store" or "secret-store move" against the
// running instance.
func (c *cli) remoteSecretStore(ctx context.Context) int {
	r := c.remote
	if c.sub == "move" {
		pass, err := c.newPassphrase()
		if err != nil {
			return c.fail(err)
		}
		var res app.MoveResult
		if err := r.call(ctx, cliSlowTimeout, http.MethodPost, "/api/secret-store/move", app.MoveRequest{To: c.args[0], Passphrase: pass}, &res); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "moved %d keys\n", res.Copied)
		c.printStore(res.Store)
		return 0
	}
	var s app.SecretStoreInfo
	if err := r.call(ctx, cliTimeout, http.MethodGet, "/api/secret-store", nil, &s); err != nil {
		return c.fail(err)
	}
	c.printStore(s)
	return 0
}

// instance is a running instance's management API.
type instance struct {
	ctl    app.Control
	client *http.Client
}

// findInstance returns the instance serving from dataDir, or nil when
// none answers (no control file, or a stale one left by a crash).
func findInstance(ctx context.Context, dataDir string) *instance {
	ctl, ok, err := app.ReadControl(dataDir)
	if err != nil || !ok {
		return nil
	}
	in := &instance{ctl: ctl, client: &http.Client{
		// Never through a system proxy: this is loopback.
		Transport: &http.Transport{Proxy: nil, ResponseHeaderTimeout: cliSlowTimeout},
	}}
	var st struct {
		Running bool `json:"running"`
	}
	if err := in.call(ctx, 3*time.Second, http.MethodGet, "/api/status", nil, &st); err != nil {
		return nil
	}
	return in
}

// httpError is an error answer of the instance.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("the running instance answered %d: %s", e.status, e.msg)
}

// call sends one request to the instance and decodes its JSON answer.
func (in *instance) call(ctx context.Context, timeout time.Duration, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, in.ctl.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+in.ctl.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return fmt.Errorf("reach the running instance at %s: %w", in.ctl.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &httpError{status: resp.StatusCode, msg: e.Error}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// printStoreBanner says in the serve banner where the keys are kept.
func printStoreBanner(w io.Writer, h hinter, st app.Status) {
	s := st.SecretStore
	switch {
	case s.Kind == app.StoreFile && s.Passphrase == app.PassGenerated:
		fmt.Fprintf(w, "  Key store:        encrypted file %s, passphrase generated and kept in %s\n", s.Path, s.PassphrasePath)
		fmt.Fprintln(w, "                    (protects against copying the database or the file alone, not against")
		fmt.Fprintln(w, "                    someone who can read your files). To use your own passphrase:")
		fmt.Fprintf(w, "                    %s\n", h.line([]string{"secret-store", "move", "file", "--new-passphrase-file", "FILE"}, h.flags))
	case s.Kind == app.StoreFile:
		fmt.Fprintf(w, "  Key store:        encrypted file %s (your passphrase)\n", s.Path)
	default:
		fmt.Fprintln(w, "  Key store:        the OS keychain")
	}
	if st.SecretsProblem != "" {
		fmt.Fprintf(w, "  Key store problem: %s\n", st.SecretsProblem)
	}
}
