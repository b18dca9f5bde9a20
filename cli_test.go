package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

func TestQuoteForShells(t *testing.T) {
	tests := []struct {
		goos string
		args []string
		want string
	}{
		{"linux", []string{"/usr/bin/gbd", "access-key"}, "/usr/bin/gbd access-key"},
		{"linux", []string{"/home/a b/gbd", "keys", "add", "FILE", "--data-dir", "/tmp/it's here"}, `'/home/a b/gbd' keys add FILE --data-dir '/tmp/it'\''s here'`},
		{"linux", []string{"/opt/x$y/gbd", "access-key"}, `'/opt/x$y/gbd' access-key`},
		{"windows", []string{`C:\Program Files\Gemini Balance\gemini-balance-desktop.exe`, "access-key"}, `& 'C:\Program Files\Gemini Balance\gemini-balance-desktop.exe' access-key`},
		{"windows", []string{`C:\Tools\gbd.exe`, "access-key", "--data-dir", `D:\data`}, `C:\Tools\gbd.exe access-key --data-dir D:\data`},
		{"windows", []string{`C:\Users\O'Neil\gbd.exe`, "--data-dir", `C:\a $b`}, `& 'C:\Users\O''Neil\gbd.exe' --data-dir 'C:\a $b'`},
	}
	for _, tt := range tests {
		h := hinter{goos: tt.goos, exe: tt.args[0]}
		if got := h.line(tt.args[1:], nil); got != tt.want {
			t.Errorf("hinter{%s}.line(%q) = %s, want %s", tt.goos, tt.args, got, tt.want)
		}
	}
}

// TestHintsWorkAsPrinted runs the commands the serve banner prints through
// sh, as a user pastes them: a data dir with a space and a quote, and the
// user's passphrase file.
func TestHintsWorkAsPrinted(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	exe := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "my data's dir")
	pass := filepath.Join(t.TempDir(), "pass phrase")
	os.WriteFile(pass, []byte("a passphrase of mine\n"), 0o600)
	o := options{dataDir: dir, passFile: pass}
	h := hinter{goos: "linux", exe: exe}
	h.flags = newHinter("linux", o).flags
	// Make the data dir with the user's passphrase, as a first run does.
	if out, err := exec.Command("sh", "-c", h.cmd("secret-store")+" --secret-store file").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", h.cmd("secret-store"), err, out)
	}
	for _, line := range []string{h.cmd("access-key"), h.cmd("admin-password"), h.cmd("secret-store")} {
		var stderr bytes.Buffer
		cmd := exec.Command("sh", "-c", line)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			t.Errorf("sh -c %s: %v, printed %q\n%s", line, err, out, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("%s printed noise on stderr: %s", line, stderr.String())
		}
	}
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// buildBinary returns the binary under test: GBD_BIN (the desktop build,
// whose commands need no display) when set, else a headless build made
// once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GBD_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gbd-bin-*")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "gemini-balance-desktop")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// serveApp starts an instance on dataDir with a fake Google.
func serveApp(t *testing.T, dataDir string, fake *proxytest.Server) *app.App {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, app.Options{DataDir: dataDir, SecretStore: "file", Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s := a.Settings()
	s.Upstream = fake.URL()
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestKeysAddReachesRunningInstance: with serve running, `keys add` goes
// through it and the very next proxied request uses the new key; the
// admin password and access key commands go through it too.
func TestKeysAddReachesRunningInstance(t *testing.T) {
	fake := proxytest.New(t)
	dir := t.TempDir()
	a := serveApp(t, dir, fake)
	key := testKey(t)
	file := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(file, []byte(key+"\n"), 0o600)

	var out, errOut bytes.Buffer
	if code := run([]string{"keys", "add", file, "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("keys add: exit %d: %s", code, errOut.String())
	}
	if n := a.Status().Keys.Total; n != 1 {
		t.Fatalf("the running pool holds %d keys after keys add, want 1", n)
	}
	req, _ := http.NewRequest(http.MethodPost, a.Status().GeminiBaseURL+"/v1beta/models/gemini-2.5-flash:generateContent",
		strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
	req.Header.Set("x-goog-api-key", a.AccessKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || fake.CountFor(key) != 1 {
		t.Fatalf("proxied request: %d, upstream saw the new key %d times; want 200 and 1", resp.StatusCode, fake.CountFor(key))
	}

	out.Reset()
	if code := run([]string{"access-key", "--data-dir", dir}, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != a.AccessKey() {
		t.Errorf("access-key through the instance: exit %d, printed %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"admin-password", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("admin-password: exit %d: %s", code, errOut.String())
	}
	// The password printed is the running instance's now.
	req, _ = http.NewRequest(http.MethodGet, a.Status().GeminiBaseURL+"/api/status", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the password admin-password printed gets %d from the running instance, want 200", resp.StatusCode)
	}
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}

	// Restart: nothing missing.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if text := storedKeys(t, dir); strings.TrimSpace(text) != key {
		t.Fatalf("after a restart the store holds %d keys, want the one added through the instance", len(strings.Fields(text)))
	}
}

// TestKeysAddExitStatus: nothing valid → exit 1 with the reason.
func TestKeysAddExitStatus(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(file, []byte("no key here, only AIzaTooShort\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := run([]string{"keys", "add", file, "--data-dir", dir, "--secret-store", "file"}, &out, &errOut); code != 1 {
		t.Fatalf("keys add of a file without a valid key: exit %d, want 1 (stdout %q)", code, out.String())
	}
	if !strings.Contains(errOut.String(), "no valid API key") {
		t.Errorf("stderr = %q, want the reason", errOut.String())
	}
}

// TestCLIChild runs run() with the arguments in GBD_CLI_CHILD_ARGS (one
// per line) and exits with its status; it does nothing in a normal run.
func TestCLIChild(t *testing.T) {
	args := os.Getenv("GBD_CLI_CHILD_ARGS")
	if args == "" {
		t.Skip("helper process")
	}
	os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
}

// TestConcurrentKeysAdd: three processes add keys to one data dir at once
// (no instance running): none is lost, and a restart finds them all.
func TestConcurrentKeysAdd(t *testing.T) {
	dir := t.TempDir()
	// The first run makes the file store (generated passphrase).
	var out, errOut bytes.Buffer
	if code := run([]string{"secret-store", "--data-dir", dir, "--secret-store", "file"}, &out, &errOut); code != 0 {
		t.Fatalf("secret-store: exit %d: %s", code, errOut.String())
	}
	var all []string
	var cmds []*exec.Cmd
	for w := range 3 {
		var keys []string
		for range 50 {
			keys = append(keys, testKey(t))
		}
		all = append(all, keys...)
		file := filepath.Join(t.TempDir(), fmt.Sprintf("keys%d.txt", w))
		os.WriteFile(file, []byte(strings.Join(keys, "\n")), 0o600)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCLIChild$")
		cmd.Env = append(os.Environ(), "GBD_CLI_CHILD_ARGS="+strings.Join([]string{"keys", "add", file, "--data-dir", dir}, "\n"))
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	for _, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("keys add: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()

	text := storedKeys(t, dir)
	got := map[string]bool{}
	for _, k := range strings.Fields(text) {
		got[k] = true
	}
	lost := 0
	for _, k := range all {
		if !got[k] {
			lost++
		}
	}
	if lost > 0 || len(got) != len(all) {
		t.Fatalf("after 3 concurrent keys add of 50 keys each and a restart: %d keys readable, %d lost", len(got), lost)
	}
}

// storedKeys opens the data dir dir as a restart does, finishes
// interrupted adds and returns the keys it holds, one per line.
func storedKeys(t *testing.T, dir string) string {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Keys().Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	text, err := a.Keys().Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return text
}
