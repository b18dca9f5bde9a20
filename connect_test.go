package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestConnectCommand, without a running instance: `connect TOOL` prints
// the settings with this data dir's access key and URL; `--write` refuses
// without a terminal unless --yes, then merges into the existing file with
// a backup; an unparsable file is refused untouched; a tool without a
// config file and an unknown tool are errors.
func TestConnectCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GBD_PASSPHRASE", "cli-test")
	data := filepath.Join(dir, "data")
	flags := []string{"--data-dir", data, "--secret-store", "file", "--addr", "127.0.0.1:18555"}
	runOK := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(append(args, flags...), &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s%s", args, code, out.String(), errOut.String())
		}
		return out.String()
	}
	key := strings.TrimSpace(runOK("access-key"))
	// One of each kind (every tool's rendering is TestRenderClients'; each
	// run here opens the data dir, which costs a key derivation).
	for _, tool := range []string{"cherry-studio", "claude-code", "google-sdk", "curl"} {
		out := runOK("connect", tool)
		if !strings.Contains(out, key) || !strings.Contains(out, "http://127.0.0.1:18555") {
			t.Errorf("connect %s printed no access key or URL:\n%s", tool, out)
		}
	}
	if out := runOK("connect"); !strings.Contains(out, "claude-code") || !strings.Contains(out, "Codex CLI") {
		t.Errorf("connect lists:\n%s", out)
	}

	cfg := filepath.Join(dir, "codex", "config.toml")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	old := "# mine\n[model_providers.other]\nbase_url = \"http://x/v1\"\n"
	os.WriteFile(cfg, []byte(old), 0o600)
	var out, errOut bytes.Buffer
	// go test's stdin is not a terminal.
	if code := run(append([]string{"connect", "codex", "--write", "--config", cfg}, flags...), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--yes") {
		t.Errorf("--write without a terminal: exit %d, stderr %q", code, errOut.String())
	}
	if b, _ := os.ReadFile(cfg); string(b) != old {
		t.Fatalf("written without --yes: %s", b)
	}
	out.Reset()
	errOut.Reset()
	if code := run(append([]string{"connect", "codex", "--write", "--yes", "--config", cfg}, flags...), &out, &errOut); code != 0 {
		t.Fatalf("--write --yes: exit %d: %s", code, errOut.String())
	}
	b, _ := os.ReadFile(cfg)
	if !strings.HasPrefix(string(b), "model = \"gemini-2.5-flash\"\nmodel_provider = \"gbd\"\n# mine\n[model_providers.other]\nbase_url = \"http://x/v1\"\n") ||
		!strings.Contains(string(b), "experimental_bearer_token = \""+key+"\"") {
		t.Errorf("written config.toml:\n%s", b)
	}
	if !strings.Contains(out.String(), "+model_provider = \"gbd\"") || !strings.Contains(out.String(), "wrote "+cfg+" (the old one is "+cfg+".bak-") {
		t.Errorf("--write printed:\n%s", out.String())
	}
	baks, _ := filepath.Glob(cfg + ".bak-*")
	if len(baks) != 1 {
		t.Fatalf("backups: %v", baks)
	} else if bb, _ := os.ReadFile(baks[0]); string(bb) != old {
		t.Errorf("backup holds %q", bb)
	}

	bad := filepath.Join(dir, "settings.json")
	os.WriteFile(bad, []byte("{\"env\": {,}\n"), 0o600)
	errOut.Reset()
	if code := run(append([]string{"connect", "claude-code", "--write", "--yes", "--config", bad}, flags...), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "cannot parse") {
		t.Errorf("unparsable settings.json: exit %d, stderr %q", code, errOut.String())
	}
	if b, _ := os.ReadFile(bad); string(b) != "{\"env\": {,}\n" {
		t.Errorf("the unparsable file was changed: %s", b)
	}
	for _, args := range [][]string{{"connect", "curl", "--write", "--yes"}, {"connect", "nope"}, {"connect", "test", "klingon"}, {"connect", "codex", "--yes"}} {
		errOut.Reset()
		if code := run(append(args, flags...), &out, &errOut); code == 0 || errOut.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q; want an error", args, code, errOut.String())
		}
	}
	// Without a running proxy the test request says so.
	out.Reset()
	if code := run(append([]string{"connect", "test", "openai"}, flags...), &out, &errOut); code != 1 || !strings.Contains(out.String(), "not running") {
		t.Errorf("connect test without an instance: exit %d, %q", code, out.String())
	}
}

// TestConnectPrompt: on a terminal, --write asks; "n" writes nothing, "y"
// writes both of gemini-cli's files (settings.json and .env beside it).
func TestConnectPrompt(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GBD_PASSPHRASE", "cli-test")
	cfg := filepath.Join(dir, "gem", "settings.json")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte(`{"theme": "GitHub", "security": {"folderTrust": {"enabled": true}}}`), 0o600)
	o := options{dataDir: filepath.Join(dir, "data"), secretStore: "file", write: true, configPath: cfg}
	answer := func(in string) (int, string) {
		var out, errOut bytes.Buffer
		code := cliCommand(context.Background(), &cli{o: o, cmd: "connect", sub: "gemini-cli", stdin: strings.NewReader(in),
			stdout: &out, stderr: &errOut, log: slog.New(slog.NewTextHandler(io.Discard, nil)), hint: newHinter("linux", o),
			terminal: func() bool { return true }})
		return code, out.String() + errOut.String()
	}
	if code, out := answer("n\n"); code != 1 || !strings.Contains(out, "[y/N]") || !strings.Contains(out, "security.auth.selectedType: (not set) → gemini-api-key") {
		t.Errorf("answer n: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "gem", ".env")); err == nil {
		t.Error("answer n wrote the .env")
	}
	if code, out := answer("y\n"); code != 0 {
		t.Fatalf("answer y: exit %d\n%s", code, out)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), `"theme": "GitHub"`) || !strings.Contains(string(b), `"folderTrust"`) || !strings.Contains(string(b), `"selectedType": "gemini-api-key"`) {
		t.Errorf("settings.json:\n%s", b)
	}
	if env, _ := os.ReadFile(filepath.Join(dir, "gem", ".env")); !strings.Contains(string(env), "GOOGLE_GEMINI_BASE_URL=http://") {
		t.Errorf(".env: %s", env)
	}
}

// TestConnectThroughInstance: with serve running, `connect` shows the
// instance's real address and key and `connect test` sends one request
// per dialect through its listener to the fake Google.
func TestConnectThroughInstance(t *testing.T) {
	fake := proxytest.New(t)
	dir := t.TempDir()
	a := serveApp(t, dir, fake)
	var out, errOut bytes.Buffer
	if code := run([]string{"connect", "test", "--data-dir", dir}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "no API keys") {
		t.Errorf("connect test without keys: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	key := testKey(t)
	if _, err := a.AddKeys(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"connect", "test", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("connect test: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, d := range app.Dialects() {
		if !strings.Contains(out.String(), d) {
			t.Errorf("connect test printed no line for %s:\n%s", d, out.String())
		}
	}
	if n := fake.CountFor(key); n != 4 {
		t.Errorf("Google saw the key %d times, want 4 (one per dialect)", n)
	}
	// --write with the instance: the settings come from it, the file is
	// written in this user's HOME.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	out.Reset()
	if code := run([]string{"connect", "claude-code", "--write", "--yes", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("connect claude-code --write: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if b, _ := os.ReadFile(filepath.Join(home, ".claude", "settings.json")); !strings.Contains(string(b), a.AccessKey()) || !strings.Contains(string(b), a.Status().GeminiBaseURL) {
		t.Errorf("~/.claude/settings.json after connect --write: %s", b)
	}
	out.Reset()
	if code := run([]string{"connect", "claude-code", "--data-dir", dir}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "ANTHROPIC_BASE_URL="+a.Status().GeminiBaseURL+"\n") || !strings.Contains(out.String(), a.AccessKey()) {
		t.Errorf("connect claude-code: exit %d\n%s", code, out.String())
	}
}
