package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

var testParams = ClientParams{BaseURL: "http://127.0.0.1:18321", AccessKey: "gbd-test-access-key-0123456789"}

func mustRender(t *testing.T, id string) ClientSetup {
	t.Helper()
	s, err := RenderClient(id, testParams)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRenderClients: every tool's settings carry this machine's URL and
// access key, the file snippets parse in their format, and the settings the
// issue names are there.
func TestRenderClients(t *testing.T) {
	all := RenderClients(testParams)
	if len(all) != len(ClientIDs()) {
		t.Fatalf("RenderClients = %d tools, want %d", len(all), len(ClientIDs()))
	}
	for _, s := range all {
		var text strings.Builder
		for _, f := range s.Fields {
			text.WriteString(f.Value + "\n")
		}
		for _, sn := range s.Snippets {
			text.WriteString(sn.Text + "\n")
			switch sn.Lang {
			case "json":
				var v map[string]any
				if err := json.Unmarshal([]byte(sn.Text), &v); err != nil {
					t.Errorf("%s: snippet %q is not JSON: %v", s.ID, sn.Title, err)
				}
			case "toml":
				var v map[string]any
				if _, err := toml.Decode(sn.Text, &v); err != nil {
					t.Errorf("%s: snippet %q is not TOML: %v", s.ID, sn.Title, err)
				}
			}
		}
		if !strings.Contains(text.String(), testParams.BaseURL) || !strings.Contains(text.String(), testParams.AccessKey) {
			t.Errorf("%s: settings lack the Base URL or the access key:\n%s", s.ID, text.String())
		}
		if strings.Contains(text.String(), "8321/") && !strings.Contains(text.String(), "18321") {
			t.Errorf("%s: a default URL instead of this machine's", s.ID)
		}
		if (s.Kind == ClientKindCLI) != (len(s.Files) > 0) {
			t.Errorf("%s: kind %s with %d files", s.ID, s.Kind, len(s.Files))
		}
	}
	want := map[string][]string{
		"gemini-cli":  {"security.auth.selectedType=gemini-api-key", "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:18321", "GEMINI_API_KEY=" + testParams.AccessKey},
		"claude-code": {"env.ANTHROPIC_BASE_URL=http://127.0.0.1:18321", "env.ANTHROPIC_AUTH_TOKEN=" + testParams.AccessKey, "env.ANTHROPIC_MODEL=gemini-2.5-pro", "env.ANTHROPIC_SMALL_FAST_MODEL=gemini-2.5-flash", "env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"},
		"codex":       {"model_provider=gbd", "model=gemini-2.5-flash", "model_providers.gbd.base_url=http://127.0.0.1:18321/v1", "model_providers.gbd.wire_api=responses", "model_providers.gbd.experimental_bearer_token=" + testParams.AccessKey},
	}
	for id, sets := range want {
		var got []string
		for _, f := range mustRender(t, id).Files {
			for _, s := range f.Set {
				got = append(got, s.Key+"="+s.Value)
			}
		}
		for _, w := range sets {
			if !strings.Contains(strings.Join(got, "\n")+"\n", w+"\n") {
				t.Errorf("%s sets %q, want %s among them", id, got, w)
			}
		}
	}
	if _, err := RenderClient("nope", testParams); !errors.Is(err, ErrNoSuchClient) {
		t.Errorf("RenderClient(nope) = %v, want ErrNoSuchClient", err)
	}
}

// planWrite plans tool's first file at path and writes it.
func planWrite(t *testing.T, id, path string) (ConfigChange, error) {
	t.Helper()
	c, err := PlanConfigWrite(mustRender(t, id).Files[0], path)
	if err != nil {
		return c, err
	}
	return WriteConfig(c, time.Date(2026, 12, 6, 7, 30, 0, 0, time.UTC))
}

// TestWriteJSONMerges: Claude Code's settings.json keeps the user's other
// keys (and their order and values), sets the env keys, replaces an old
// token, and leaves a backup of the old file.
func TestWriteJSONMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	old := `{
  "permissions": {"allow": ["Bash(ls:*)"], "deny": []},
  "env": {"MY_VAR": "kept", "ANTHROPIC_AUTH_TOKEN": "sk-old-token-123456"},
  "model": "opus",
  "big": 12345678901234567890
}
`
	os.WriteFile(path, []byte(old), 0o640)
	c, err := planWrite(t, "claude-code", path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("written file is not JSON: %v\n%s", err, b)
	}
	env := got["env"].(map[string]any)
	if env["MY_VAR"] != "kept" || env["ANTHROPIC_AUTH_TOKEN"] != testParams.AccessKey || env["ANTHROPIC_BASE_URL"] != testParams.BaseURL || got["model"] != "opus" {
		t.Errorf("merged file:\n%s", b)
	}
	if !strings.Contains(string(b), "12345678901234567890") || strings.Index(string(b), "permissions") > strings.Index(string(b), `"model"`) {
		t.Errorf("numbers or key order not kept:\n%s", b)
	}
	if bak, _ := os.ReadFile(path + ".bak-20261206-073000"); string(bak) != old || c.Backup != path+".bak-20261206-073000" {
		t.Errorf("backup %q = %q, want the old file", c.Backup, bak)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old file's 0640", st.Mode().Perm())
	}
	for _, s := range c.Set {
		if s.Key == "env.ANTHROPIC_AUTH_TOKEN" && (s.Before == "sk-old-token-123456" || s.Before == "") {
			t.Errorf("old token shown as %q, want it masked", s.Before)
		}
	}
	if !strings.Contains(c.Diff, "+") || !strings.Contains(c.Diff, `"ANTHROPIC_BASE_URL"`) {
		t.Errorf("diff:\n%s", c.Diff)
	}
	// A second write changes nothing and makes no second backup.
	c2, err := PlanConfigWrite(mustRender(t, "claude-code").Files[0], path)
	if err != nil || !c2.Unchanged {
		t.Errorf("second plan: unchanged=%v err=%v", c2.Unchanged, err)
	}
}

// TestWriteJSONNewFile makes the file and its folder (0600: it holds the
// access key) without a backup.
func TestWriteJSONNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".gemini", "settings.json")
	c, err := planWrite(t, "gemini-cli", path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var got struct {
		Security struct {
			Auth struct {
				SelectedType string `json:"selectedType"`
			} `json:"auth"`
		} `json:"security"`
	}
	if json.Unmarshal(b, &got) != nil || got.Security.Auth.SelectedType != "gemini-api-key" || c.Backup != "" || c.Exists {
		t.Errorf("new file %s (backup %q)", b, c.Backup)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// TestWriteTOMLKeepsTheRest: Codex's config.toml keeps other providers,
// profiles, comments and formatting byte for byte; only model,
// model_provider and the gbd table change (a user's extra key in the gbd
// table stays).
func TestWriteTOMLKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	old := `# my codex config
model = "o3"   # was o3
approval_policy = "on-request"

[model_providers.ollama]
# local models
name = "Ollama"
base_url = "http://localhost:11434/v1"

[model_providers.gbd]
name = "old"
base_url = "http://127.0.0.1:1/v1"
request_max_retries = 0

[profiles.fast]
model = "gpt-4.1-mini"
`
	os.WriteFile(path, []byte(old), 0o600)
	if _, err := planWrite(t, "codex", path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, keep := range []string{"# my codex config\n", `approval_policy = "on-request"` + "\n", "[model_providers.ollama]\n# local models\nname = \"Ollama\"\nbase_url = \"http://localhost:11434/v1\"\n\n", "request_max_retries = 0\n", "[profiles.fast]\nmodel = \"gpt-4.1-mini\"\n"} {
		if !strings.Contains(got, keep) {
			t.Errorf("lost %q:\n%s", keep, got)
		}
	}
	var cfg struct {
		Model          string                    `toml:"model"`
		ModelProvider  string                    `toml:"model_provider"`
		ModelProviders map[string]map[string]any `toml:"model_providers"`
		Profiles       map[string]map[string]any `toml:"profiles"`
	}
	if _, err := toml.Decode(got, &cfg); err != nil {
		t.Fatalf("written file does not parse: %v\n%s", err, got)
	}
	gbd := cfg.ModelProviders["gbd"]
	if cfg.Model != "gemini-2.5-flash" || cfg.ModelProvider != "gbd" || gbd["base_url"] != testParams.BaseURL+"/v1" ||
		gbd["wire_api"] != "responses" || gbd["experimental_bearer_token"] != testParams.AccessKey || gbd["name"] != "Gemini Balance Desktop" ||
		cfg.ModelProviders["ollama"]["name"] != "Ollama" || cfg.Profiles["fast"]["model"] != "gpt-4.1-mini" {
		t.Errorf("written config:\n%s", got)
	}
	// The changed lines are exactly ours: the diff names nothing else.
	c, _ := PlanConfigWrite(mustRender(t, "codex").Files[0], path)
	if !c.Unchanged {
		t.Errorf("a second write would change the file:\n%s", c.Diff)
	}
	lines := strings.Split(old, "\n")
	kept := 0
	for _, l := range lines {
		if strings.Contains(got, l) {
			kept++
		}
	}
	if !strings.Contains(got, "model = \"gemini-2.5-flash\"   # was o3\n") {
		t.Errorf("the comment after the replaced model line is lost:\n%s", got)
	}
	if kept != len(lines)-3 { // model, gbd name and base_url replaced
		t.Errorf("%d of %d old lines kept, want all but 3:\n%s", kept, len(lines), got)
	}
}

// TestWriteTOMLNew: an empty or missing config.toml gets the keys at the
// top and the table below.
func TestWriteTOMLNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if _, err := planWrite(t, "codex", path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := mustRender(t, "codex").Snippets[0].Text
	if string(b) != want || !strings.HasPrefix(want, "model = \"gemini-2.5-flash\"\nmodel_provider = \"gbd\"\n\n[model_providers.gbd]\n") {
		t.Errorf("new config.toml:\n%s\nwant the snippet:\n%s", b, want)
	}
}

// TestWriteRefusesUnparsable: a file that does not parse (JSON with a
// comment, broken TOML, a JSON array, a TOML file where the edit would
// clash) is left alone and no backup is made.
func TestWriteRefusesUnparsable(t *testing.T) {
	cases := []struct{ id, name, text string }{
		{"claude-code", "settings.json", "{\n  // my comment\n  \"env\": {}\n}\n"},
		{"claude-code", "settings.json", `["not", "an", "object"]`},
		{"claude-code", "settings.json", `{"env": "a string"}`},
		{"gemini-cli", "settings.json", `{"security": {"auth": 3}`},
		{"codex", "config.toml", "model = \"o3\"\n[model_providers.gbd\n"},
		{"codex", "config.toml", "model_providers.gbd.base_url = \"x\"\n"},
		{"codex", "config.toml", "model = \"\"\"\nmulti\n\"\"\"\n"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, []byte(c.text), 0o600)
		_, err := planWrite(t, c.id, path)
		if !errors.Is(err, ErrConfigUnparsable) {
			t.Errorf("%s with %q: err = %v, want ErrConfigUnparsable", c.id, c.text, err)
		}
		if b, _ := os.ReadFile(path); string(b) != c.text {
			t.Errorf("%s: the unparsable file was changed to %q", c.id, b)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%s: %d files in the folder, want only the original", c.id, len(ents))
		}
	}
}

// TestWriteEnvAndChangedFile: gemini-cli's .env keeps other lines and
// replaces ours; a file changed after the plan is not overwritten.
func TestWriteEnvAndChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(path, []byte("# mine\nOTHER=1\nexport GEMINI_API_KEY=old\n"), 0o600)
	f := mustRender(t, "gemini-cli").Files[1]
	c, err := PlanConfigWrite(f, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteConfig(c, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# mine\nOTHER=1\nGEMINI_API_KEY=" + testParams.AccessKey + "\nGOOGLE_GEMINI_BASE_URL=" + testParams.BaseURL + "\n"; string(b) != want {
		t.Errorf(".env = %q, want %q", b, want)
	}
	c, _ = PlanConfigWrite(f, path)
	os.WriteFile(path, []byte("OTHER=2\n"), 0o600)
	if _, err := WriteConfig(c, time.Now()); !errors.Is(err, ErrConfigChanged) {
		t.Errorf("write after a change: %v, want ErrConfigChanged", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "OTHER=2\n" {
		t.Errorf("the changed file was overwritten: %q", b)
	}
}

// TestClientsAPI: the management API serves the templates with the
// instance's URL and key, and writes a config in the app's client home
// after a dry run, refusing a stale one.
func TestClientsAPI(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	e := newAPIEnv(t)
	e.a.setClientHome(home)
	var list struct {
		Clients  []ClientSetup `json:"clients"`
		Dialects []string      `json:"dialects"`
	}
	e.mustCall(http.StatusOK, "GET", "/api/clients", nil).json(t, &list)
	if len(list.Clients) != len(clientIDs) || len(list.Dialects) != 4 {
		t.Fatalf("GET /api/clients: %d clients, %d dialects", len(list.Clients), len(list.Dialects))
	}
	var one ClientSetup
	e.mustCall(http.StatusOK, "GET", "/api/clients/claude-code", nil).json(t, &one)
	if one.Files[0].Set[0].Value != e.base || one.Files[0].Set[1].Value != e.a.AccessKey() {
		t.Errorf("claude-code settings %+v, want %s and the access key", one.Files[0].Set[:2], e.base)
	}
	if r := e.call("GET", "/api/clients/nope", nil); r.code != 404 {
		t.Errorf("unknown tool: %d", r.code)
	}
	if r := e.call("POST", "/api/clients/curl/write", map[string]bool{"dryRun": true}); r.code != 400 {
		t.Errorf("write for curl: %d, want 400", r.code)
	}
	path := filepath.Join(home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(`{"theme":"dark"}`), 0o600)
	var plan struct {
		Written bool           `json:"written"`
		Changes []ConfigChange `json:"changes"`
	}
	e.mustCall(http.StatusOK, "POST", "/api/clients/claude-code/write", map[string]bool{"dryRun": true}).json(t, &plan)
	if plan.Written || len(plan.Changes) != 1 || plan.Changes[0].Path != path || !plan.Changes[0].Exists {
		t.Fatalf("dry run: %+v", plan)
	}
	if b, _ := os.ReadFile(path); string(b) != `{"theme":"dark"}` {
		t.Fatalf("the dry run wrote: %s", b)
	}
	expect := map[string]any{"expect": map[string]string{path: plan.Changes[0].BeforeHash}}
	os.WriteFile(path, []byte(`{"theme":"light"}`), 0o600)
	if r := e.call("POST", "/api/clients/claude-code/write", expect); r.code != http.StatusConflict {
		t.Errorf("write after the file changed: %d, want 409", r.code)
	}
	os.WriteFile(path, []byte(`{"theme":"dark"}`), 0o600)
	e.mustCall(http.StatusOK, "POST", "/api/clients/claude-code/write", expect).json(t, &plan)
	b, _ := os.ReadFile(path)
	if !plan.Written || plan.Changes[0].Backup == "" || !strings.Contains(string(b), `"theme": "dark"`) || !strings.Contains(string(b), e.a.AccessKey()) {
		t.Errorf("write: %+v\n%s", plan, b)
	}
	os.WriteFile(path, []byte(`{"theme": broken`), 0o600)
	if r := e.call("POST", "/api/clients/claude-code/write", map[string]bool{"dryRun": true}); r.code != http.StatusUnprocessableEntity {
		t.Errorf("unparsable file: %d, want 422", r.code)
	}
}

// TestWriteFollowsSymlink: a config kept in a dotfiles folder and linked
// into place is written where the link points; the link stays.
func TestWriteFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "settings.json")
	os.MkdirAll(filepath.Dir(real), 0o700)
	os.WriteFile(real, []byte(`{"theme":"dark"}`), 0o600)
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	c, err := planWrite(t, "claude-code", link)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), "ANTHROPIC_BASE_URL") || !strings.Contains(string(b), `"theme": "dark"`) {
		t.Errorf("the linked file: %s", b)
	}
	if !strings.HasPrefix(c.Backup, real+".bak-") {
		t.Errorf("backup %s, want beside the linked file", c.Backup)
	}
}

// setClientHome moves the home the API writes config files in (tests).
func (a *App) setClientHome(home string) {
	a.mu.Lock()
	a.opts.ClientHome = home
	a.mu.Unlock()
}

func TestTOMLTrailingComment(t *testing.T) {
	for line, want := range map[string]string{
		`model = "o3"   # was o3`:     "   # was o3",
		`model = 'o3' # literal`:      " # literal",
		`model = "a#b"`:               "",
		`model = "a\"#b" # escaped`:   " # escaped",
		`model = o3#bare`:             "#bare",
		`  model="x"#tight`:           "#tight",
		`model = """multi # not"""`:   "",
		`"model" = "x" # quoted key`:  " # quoted key",
		`model = "unterminated # oh`:  "",
		`model = "x" trailing # junk`: "",
	} {
		if got := tomlTrailingComment(line); got != want {
			t.Errorf("tomlTrailingComment(%s) = %q, want %q", line, got, want)
		}
	}
}
