package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestClaudeCodeCLI drives the real Claude Code (claude -p) through the
// proxy's /v1/messages with ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN,
// offline: one prompt whose first answer is a real Gemini stream (thinking,
// then a signed function call) renamed to Claude Code's Read tool, which
// Claude Code runs on a file, then the default text answer. Gemini must get
// the call back with its thought signature and the file's content as the
// function's result, and Claude Code must print the final answer.
func TestClaudeCodeCLI(t *testing.T) {
	bin := cliBinary(t, "Claude Code", "claude", "claude", "GBD_REQUIRE_CLAUDE")
	e := newEnv(t, 1)
	work := t.TempDir()
	file := filepath.Join(work, "hello.txt")
	if err := os.WriteFile(file, []byte("the secret word is pelican\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal(map[string]string{"file_path": file})
	e.fake.Script(e.keys[0], proxytest.StreamFixture(renamedCallStream(t, "Read", string(args))))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-p", "What does hello.txt say?", "--allowedTools", "Read", "--output-format", "json")
	cmd.Dir = work
	cmd.Env = []string{
		"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "TERM=dumb",
		"ANTHROPIC_BASE_URL=" + e.base, "ANTHROPIC_AUTH_TOKEN=" + e.accessKey,
		"ANTHROPIC_MODEL=gemini-2.5-pro", "ANTHROPIC_SMALL_FAST_MODEL=gemini-2.5-flash",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("claude -p took %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("claude -p: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	var out struct {
		IsError bool   `json:"is_error"`
		Result  string `json:"result"`
		NumTurn int    `json:"num_turns"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("claude -p printed %q: %v", stdout.Bytes(), err)
	}
	reqs := nodeRequests(e, "streamGenerateContent")
	if out.IsError || out.Result == "" || len(reqs) < 2 {
		t.Fatalf("claude -p = %+v after %d upstream calls\nstderr: %s", out, len(reqs), stderr.Bytes())
	}

	first := nodeDecodeUpstream(t, reqs[0])
	var tools []string
	for _, tl := range first.Tools {
		for _, d := range tl.FunctionDeclarations {
			tools = append(tools, d.Name)
		}
	}
	if first.SystemInstruction == nil || !strings.Contains(strings.Join(tools, ","), "Read") {
		t.Errorf("first upstream call: system %v, tools %v", first.SystemInstruction != nil, tools)
	}
	if mt, _ := first.GenerationConfig["maxOutputTokens"].(float64); mt < 1 || mt > 65536 {
		t.Errorf("first upstream call: maxOutputTokens %v", first.GenerationConfig["maxOutputTokens"])
	}

	want := nodeFixtureSignature(t, fxToolCallSSE)
	second := nodeDecodeUpstream(t, reqs[len(reqs)-1])
	var sig, result string
	for _, c := range second.Contents {
		for _, p := range c.Parts {
			if p.FunctionCall != nil && p.FunctionCall.Name == "Read" {
				sig = p.ThoughtSignature
			}
			if p.FunctionResponse != nil && p.FunctionResponse.Name == "Read" {
				result, _ = p.FunctionResponse.Response["output"].(string)
			}
		}
	}
	if sig != want {
		t.Errorf("replayed Read call: signature %.30q…, want %.30q…", sig, want)
	}
	if !strings.Contains(result, "pelican") {
		t.Errorf("Read result sent to Gemini = %q, want the file's content", result)
	}
	for _, r := range e.rec.results() {
		if r.Status != 200 || r.Route != "anthropic.messages" {
			t.Errorf("request %s %s: status %d", r.Route, r.Model, r.Status)
		}
	}
}
