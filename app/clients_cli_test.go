package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
)

// The config files the Connect writer makes, used by the real tools:
// Codex CLI and Claude Code (installed by build/test.sh's CLI stages, npm
// ci in build/e2e/codex and build/e2e/claude) run one prompt against the
// proxy with nothing but the written file (no environment variables).

// realCLI returns the tool's binary, skipping (or failing, when reqEnv=1)
// when it is not installed.
func realCLI(t *testing.T, dir, name, reqEnv string) string {
	t.Helper()
	bin := filepath.Join(e2etest.Dir(t), dir, "node_modules", ".bin", name)
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv(reqEnv) == "1" {
			t.Fatalf("%s is not installed (%v) and %s=1 requires it: run npm ci in build/e2e/%s", name, err, reqEnv, dir)
		}
		t.Skipf("%s is not installed (npm ci in build/e2e/%s; %s=1 makes this a failure)", name, dir, reqEnv)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	return bin
}

// writtenConfig starts an app with one key whose client home holds the
// user's own file rel (slash-separated) with content, and writes tool's
// config there through the API. It returns the env, the home and the key.
func writtenConfig(t *testing.T, tool, rel, content string) (*apiEnv, string, string) {
	t.Helper()
	e := newAPIEnv(t)
	key := e.newKeys(1)[0]
	e.add(key)
	home := t.TempDir()
	e.a.setClientHome(home)
	path := filepath.Join(home, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(content), 0o600)
	writeThroughAPI(t, e, tool)
	return e, home, key
}

// writeThroughAPI writes tool's config into the env's client home through
// the management API (dry run, then the write with its hash).
func writeThroughAPI(t *testing.T, e *apiEnv, tool string) {
	t.Helper()
	var plan struct {
		Changes []ConfigChange `json:"changes"`
	}
	e.mustCall(http.StatusOK, "POST", "/api/clients/"+tool+"/write", map[string]bool{"dryRun": true}).json(t, &plan)
	expect := map[string]string{}
	for _, c := range plan.Changes {
		expect[c.Path] = c.BeforeHash
	}
	e.mustCall(http.StatusOK, "POST", "/api/clients/"+tool+"/write", map[string]any{"expect": expect})
}

// TestWrittenCodexConfig: a config.toml with another provider and a
// profile, merged by the writer, drives `codex exec` through /v1/responses
// with the key from the file (experimental_bearer_token).
func TestWrittenCodexConfig(t *testing.T) {
	bin := realCLI(t, "codex", "codex", "GBD_REQUIRE_CODEX")
	t.Setenv("CODEX_HOME", "")
	e, home, _ := writtenConfig(t, "codex", ".codex/config.toml", `# my settings
model = "o3"

[model_providers.my-local]
name = "My local models"
base_url = "http://127.0.0.1:1/v1"

[profiles.local]
model_provider = "my-local"
`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "exec", "--skip-git-repo-check", "-C", t.TempDir(), "Say hello.")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "NO_COLOR=1", "RUST_LOG=error"}
	cmd.Stdin = strings.NewReader("")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("codex exec with the written config: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if len(e.fake.Requests()) == 0 || strings.TrimSpace(stdout.String()) == "" {
		t.Errorf("codex exec: %d upstream requests, stdout %q\nstderr:\n%s", len(e.fake.Requests()), stdout.String(), stderr.String())
	}
}

// TestWrittenClaudeConfig: a settings.json with the user's own keys,
// merged by the writer, drives `claude -p` through /v1/messages with only
// the settings file's env (base URL, token, Gemini model names).
func TestWrittenClaudeConfig(t *testing.T) {
	bin := realCLI(t, "claude", "claude", "GBD_REQUIRE_CLAUDE")
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	e, home, _ := writtenConfig(t, "claude-code", ".claude/settings.json", `{"includeCoAuthoredBy": false, "env": {"DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1"}}`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-p", "Say hello.", "--output-format", "json")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("claude -p with the written settings: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	var out struct {
		IsError bool   `json:"is_error"`
		Result  string `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.IsError || out.Result == "" {
		t.Errorf("claude -p: %v, %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	sawModel := false
	for _, r := range e.fake.Requests() {
		if strings.Contains(r.Path, "gemini-2.5-") {
			sawModel = true
		}
	}
	if !sawModel {
		t.Errorf("Google saw no request for a Gemini model named by the settings: %v", e.fake.Requests())
	}
}

// TestWrittenGeminiCLIConfig: gemini-cli 0.61 runs one prompt against the
// proxy with only ~/.gemini/settings.json (an existing one, merged) and
// ~/.gemini/.env as the writer makes them; without selectedType it would
// exit with "Invalid auth method selected".
func TestWrittenGeminiCLIConfig(t *testing.T) {
	bin := realCLI(t, "gemini-cli", "gemini", "GBD_REQUIRE_GEMINI_CLI")
	e, home, key := writtenConfig(t, "gemini-cli", ".gemini/settings.json", `{"ui": {"theme": "GitHub"}, "privacy": {"usageStatisticsEnabled": false}}`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// gemini-cli reads ~/.gemini/.env in folders the user trusts (its
	// folder trust, on by default): trust the work folder as a user does.
	work := t.TempDir()
	trusted, _ := json.Marshal(map[string]string{work: "TRUST_FOLDER"})
	os.WriteFile(filepath.Join(home, ".gemini", "trustedFolders.json"), trusted, 0o600)
	cmd := exec.CommandContext(ctx, bin, "-p", "Say hello.", "-m", "gemini-2.5-flash")
	cmd.Dir = work
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=dumb", "NO_COLOR=1", "CI=1"}
	cmd.Stdin = strings.NewReader("")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("gemini -p with the written settings: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if e.fake.CountFor(key) == 0 || strings.TrimSpace(stdout.String()) == "" {
		t.Errorf("gemini -p: Google saw the key %d times, stdout %q\nstderr:\n%s", e.fake.CountFor(key), stdout.String(), stderr.String())
	}
}
