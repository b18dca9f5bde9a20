package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// TestWelcomeInChromium drives the first-launch walkthrough in Chromium
// against a real app with no keys: it shows by itself, the test request
// explains that there are no keys, pasted keys are added and checked with
// progress, the Base URLs and access key are shown with working copy
// buttons, the test request shows the model's answer, and the walkthrough
// comes back in Chinese on demand. Settings shows where the keys are kept.
func TestWelcomeInChromium(t *testing.T) {
	chromium := needUI(t)
	fake := proxytest.New(t)
	a, pw := startApp(t, Options{DataDir: t.TempDir(), SecretStore: StoreFile, Addr: "127.0.0.1:0", Assets: os.DirFS(uiDist)}, fake.URL(), 0)
	defer a.Close()
	e := &apiEnv{t: t, rnd: newRand()}
	keys := e.newKeys(3)
	fake.SetValidKeys(keys[0], keys[1]) // keys[2] is invalid
	shots := os.Getenv("GBD_UI_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	out := e2etest.RunNode(t, "welcome.mjs", map[string]string{
		"BASE_URL":       "http://" + a.server.Addr(),
		"ADMIN_PASSWORD": pw,
		"PASTE":          "GEMINI_API_KEY=" + keys[0] + "\n" + keys[1] + ", " + keys[2] + "\nAIzaTooShort",
		"SHOT_DIR":       shots,
		"GBD_CHROMIUM":   chromium,
	})
	var r struct {
		Error, Step                           string
		Screenshots, PageErrors               []string
		WelcomeShown, ShownAfterClose         bool
		NoKeysReason, AddText, CheckText      string
		CheckState, OpenaiURL, GeminiURL      string
		ClipboardOpenAI                       string
		ClipboardKeyLength                    int
		AccessKeyMasked                       bool
		Answer, ZhTitle, StoreKind, StoreText string
		StoreAfterMove                        string
		StoreNote                             string
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("welcome.mjs printed %q: %v", out, err)
	}
	t.Logf("screenshots: %s", strings.Join(r.Screenshots, " "))
	if r.Error != "" {
		t.Fatalf("welcome.mjs failed at step %q: %s", r.Step, r.Error)
	}
	for _, k := range keys {
		if bytes.Contains(out, []byte(k)) {
			t.Errorf("a raw key reached the page output")
		}
	}
	st := a.Status()
	checks := []struct {
		ok   bool
		what string
	}{
		{r.WelcomeShown, "the walkthrough shows on first launch"},
		{strings.Contains(r.StoreNote, "not against someone who can read your files"), "the walkthrough says how safe the generated passphrase is: " + r.StoreNote},
		{strings.Contains(r.NoKeysReason, "no keys"), "the test request without keys says so: " + r.NoKeysReason},
		{strings.Contains(r.AddText, "Added 3") && strings.Contains(r.AddText, "malformed 1"), "the add result: " + r.AddText},
		{r.CheckState == "done" && strings.Contains(r.CheckText, "2 working") && strings.Contains(r.CheckText, "1 dead"), "the check result: " + r.CheckText},
		{r.OpenaiURL == st.OpenAIBaseURL && r.GeminiURL == st.GeminiBaseURL, "the Base URLs: " + r.OpenaiURL + " " + r.GeminiURL},
		{r.ClipboardOpenAI == st.OpenAIBaseURL, "copy puts the OpenAI Base URL on the clipboard: " + r.ClipboardOpenAI},
		{r.ClipboardKeyLength == len(a.AccessKey()) && r.AccessKeyMasked, "the access key is masked and copied"},
		{r.Answer != "", "the test request shows the answer"},
		{!r.ShownAfterClose, "closed, the walkthrough stays closed"},
		{r.ZhTitle == "四步开始使用", "the walkthrough in Chinese: " + r.ZhTitle},
		{r.StoreKind == StoreFile && strings.Contains(r.StoreText, "不能防范"), "Settings shows the key storage and how safe it is: " + r.StoreText},
		{r.StoreAfterMove == PassYours && a.SecretStore().Passphrase == PassYours, "moving the keys to your passphrase from Settings: " + r.StoreAfterMove},
		{exported(a) == 3, "the 3 keys read from the new store after the move"},
		{len(r.PageErrors) == 0, "no page errors: " + strings.Join(r.PageErrors, "; ")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s", c.what)
		}
	}
}

// exported counts the keys Export reads from the secret store in use.
func exported(a *App) int {
	text, err := a.Keys().Export(context.Background())
	if err != nil {
		return -1
	}
	return len(strings.Fields(text))
}
