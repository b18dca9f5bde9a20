package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestConnectScreenInChromium drives the Connect screen in Chromium
// against a real app: every tool's settings show this machine's Base URL
// and access key (after "Show"; dots before), the CLIs have Write config,
// whose confirmation shows the change and whose write merges into the
// existing settings.json with a backup; the test request in each dialect
// shows the model's answer; the screen switches to Chinese.
func TestConnectScreenInChromium(t *testing.T) {
	chromium := needUI(t)
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	fake := proxytest.New(t)
	ctx := context.Background()
	home := t.TempDir()
	a, pw := startApp(t, Options{DataDir: t.TempDir(), SecretStore: StoreFile, Addr: "127.0.0.1:0", Assets: os.DirFS(uiDist), ClientHome: home}, fake.URL(), 0)
	defer a.Close()
	e := &apiEnv{t: t, rnd: newRand()}
	if _, err := a.AddKeys(ctx, e.newKeys(1)[0]); err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(settings), 0o700)
	os.WriteFile(settings, []byte(`{"theme": "dark", "env": {"MINE": "1"}}`), 0o600)

	shots := os.Getenv("GBD_UI_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	tools, _ := json.Marshal(ClientIDs())
	base := a.Status().GeminiBaseURL
	out := e2etest.RunNode(t, "connect.mjs", map[string]string{
		"BASE_URL":       base,
		"ADMIN_PASSWORD": pw,
		"ACCESS_KEY":     a.AccessKey(),
		"TOOLS":          string(tools),
		"WRITE_TOOL":     "claude-code",
		"SHOT_DIR":       shots,
		"GBD_CHROMIUM":   chromium,
	})
	var r struct {
		Error, Step             string
		Screenshots, PageErrors []string
		KeyHiddenByDefault      bool
		Tools                   map[string]struct{ URL, Key, Write bool }
		WriteDialog, WriteToast string
		Tests                   map[string]struct {
			OK           bool
			Text, Reason string
		}
		ZhTitle, ZhWrite string
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("connect.mjs printed %q: %v", out, err)
	}
	t.Logf("screenshots: %s", strings.Join(r.Screenshots, " "))
	if r.Error != "" {
		t.Fatalf("connect.mjs failed at step %q: %s", r.Step, r.Error)
	}
	if !r.KeyHiddenByDefault {
		t.Errorf("the access key shows in the settings before Show")
	}
	for _, id := range ClientIDs() {
		tool := r.Tools[id]
		setup, _ := a.Client(id)
		if !tool.URL || !tool.Key || tool.Write != (len(setup.Files) > 0) {
			t.Errorf("%s: URL shown %v, key shown %v, Write config %v", id, tool.URL, tool.Key, tool.Write)
		}
	}
	if !strings.Contains(r.WriteDialog, settings) || !strings.Contains(r.WriteDialog, "env.ANTHROPIC_BASE_URL") || !strings.Contains(r.WriteDialog, base) {
		t.Errorf("the write confirmation does not show the change: %q", r.WriteDialog)
	}
	b, _ := os.ReadFile(settings)
	var got struct {
		Theme string            `json:"theme"`
		Env   map[string]string `json:"env"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.Theme != "dark" || got.Env["MINE"] != "1" || got.Env["ANTHROPIC_BASE_URL"] != base || got.Env["ANTHROPIC_AUTH_TOKEN"] != a.AccessKey() {
		t.Errorf("settings.json after Write config: %s", b)
	}
	if baks, _ := filepath.Glob(settings + ".bak-*"); len(baks) != 1 || !strings.Contains(r.WriteToast, baks[0]) {
		t.Errorf("backups %v, toast %q", baks, r.WriteToast)
	}
	for _, d := range Dialects() {
		if res := r.Tests[d]; !res.OK || res.Text == "" {
			t.Errorf("test request %s: %+v, want the answer shown", d, res)
		}
	}
	if r.ZhTitle != "配置客户端" || r.ZhWrite != "写入配置" {
		t.Errorf("in Chinese: %q, %q", r.ZhTitle, r.ZhWrite)
	}
	if len(r.PageErrors) > 0 {
		t.Errorf("page errors: %s", strings.Join(r.PageErrors, "; "))
	}
}
