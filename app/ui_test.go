package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// uiDist is the built web UI (frontend/dist), made by `npm run build` in frontend/.
const uiDist = "../frontend/dist"

// uiLabel is the label the UI tests give a key.
const uiLabel = "work laptop 工作"

// uiCalls is the number of requests sent through the proxy before the UI opens.
const uiCalls = 4

// uiKeys makes n distinct keys of the real shape.
func uiKeys(rnd *rand.Rand, n int) []string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
	out := make([]string, 0, n)
	for len(out) < n {
		b := []byte("AIza")
		for range 35 {
			b = append(b, alphabet[rnd.IntN(len(alphabet))])
		}
		if k := string(b); apikey.Valid(k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// uiEnv is a started App serving the built UI, with the fake Gemini upstream, two stored keys
// that carried some traffic, and the text the UI test pastes.
type uiEnv struct {
	a        *App
	fake     *proxytest.Server
	base     string
	logs     *lockedBuffer
	chromium string
	keys     []string // every raw key: seed + fresh
	seed     []string // stored before the UI opens
	fresh    []string // added by the paste
	invalid  string   // the fake refuses it
	expired  string   // the fake says it expired (twice)
	limited  string   // the fake rate-limits it (twice): still valid
	reveal   string   // the key the UI reveals and labels
	paste    string
	ext      apikey.Extraction
	pw       string // the admin password (the app keeps only its hash)
}

// needUI skips (or fails under GBD_REQUIRE_E2E=1) without node,
// playwright-core or Chromium, fails when the UI is not built, and returns
// Chromium's path.
func needUI(t *testing.T) string {
	t.Helper()
	chromium := e2etest.Chromium(t)
	e2etest.Node(t)
	idx, err := os.ReadFile(filepath.Join(uiDist, "index.html"))
	if err != nil {
		t.Fatalf("frontend/dist/index.html is missing: build the UI first (cd frontend && npm ci && npm run build; build/test.sh does this before go test)")
	}
	if !bytes.Contains(idx, []byte("assets/")) {
		t.Fatalf("frontend/dist/index.html is not a Vite build (no assets/): run npm run build in frontend/")
	}
	return chromium
}

// newUIEnv skips (or fails under GBD_REQUIRE_E2E=1) without node, playwright-core or Chromium,
// and fails when the UI is not built.
func newUIEnv(t *testing.T) *uiEnv {
	t.Helper()
	chromium := needUI(t)

	fake := proxytest.New(t)
	logs := &lockedBuffer{}
	ctx := context.Background()
	a, pw := startApp(t, Options{
		DataDir: t.TempDir(), SecretStore: "file", Passphrase: "pw", Addr: "127.0.0.1:0", hashLogN: testHashLogN,
		Assets: os.DirFS(uiDist),
		Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, fake.URL(), 0)
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	e := &uiEnv{a: a, fake: fake, base: "http://" + a.server.Addr(), logs: logs, chromium: chromium, pw: pw}

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	e.keys = uiKeys(rnd, 8)
	e.seed, e.fresh = e.keys[:2], e.keys[2:]
	e.invalid, e.expired, e.limited, e.reveal = e.fresh[3], e.fresh[4], e.fresh[5], e.fresh[1]
	// Every key but `invalid` is known to the fake. The UI checks twice (the second check
	// is canceled part way), so `expired` and `limited` have two scripted answers each.
	var valid []string
	for _, k := range e.keys {
		if k != e.invalid {
			valid = append(valid, k)
		}
	}
	fake.SetValidKeys(valid...)
	fake.Script(e.expired, proxytest.ExpiredKey(), proxytest.ExpiredKey())
	fake.Script(e.limited, proxytest.RateLimited("30s"), proxytest.RateLimited("30s"))

	// The seed keys carry some traffic for the statistics (one 429 among it).
	if _, err := a.Keys().AddBulk(ctx, strings.Join(e.seed, "\n")); err != nil {
		t.Fatal(err)
	}
	fake.Script(e.seed[0], proxytest.RateLimited("1s"))
	for i := range uiCalls {
		body := `{"contents":[{"parts":[{"text":"hi"}]}]}`
		if st := callProxy(t, e.base, http.MethodPost, "/v1beta/models/gemini-2.5-flash:generateContent", a.AccessKey(), body); st != http.StatusOK {
			t.Fatalf("request %d through the proxy: status %d", i, st)
		}
	}
	// Wait for the recorder's batch to land (the UI reads the store).
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := a.store.RequestLog(ctx, store.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total >= uiCalls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request log shows %d requests after %d calls", p.Total, uiCalls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// From now on the upstream answers slowly, so that a check shows progress and can be
	// canceled.
	fake.SetLatency(300 * time.Millisecond)

	// The pasted text: a comment, an existing key, KEY= and quoted forms, a repeat, and two
	// malformed tokens.
	e.paste = strings.Join([]string{
		"# keys from my notes",
		e.seed[0],
		"GEMINI_API_KEY=" + e.fresh[0],
		`"` + e.fresh[1] + `", ` + e.fresh[2],
		e.fresh[0],
		e.invalid + " " + e.expired,
		e.limited,
		"AIzaSyTooShort123",
		e.fresh[2][:20] + "!" + e.fresh[2][21:],
	}, "\n")
	e.ext = apikey.Extract(e.paste)
	if len(e.ext.Keys) != len(e.fresh)+1 || len(e.ext.Malformed) == 0 {
		t.Fatalf("test setup: Extract(paste) found %d keys and %d malformed, want %d keys and some malformed", len(e.ext.Keys), len(e.ext.Malformed), len(e.fresh)+1)
	}
	return e
}

func (e *uiEnv) deadIDs() []string { return []string{apikey.ID(e.invalid), apikey.ID(e.expired)} }

// run runs build/e2e/ui.mjs with extra environment and decodes what it printed.
func (e *uiEnv) run(t *testing.T, extra map[string]string) uiResult {
	t.Helper()
	rawJSON, _ := json.Marshal(e.keys)
	rawFile := filepath.Join(t.TempDir(), "raw-keys.json")
	if err := os.WriteFile(rawFile, rawJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	deadJSON, _ := json.Marshal(e.deadIDs())
	shots := os.Getenv("GBD_UI_SHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "gbd-ui-shots-"); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"BASE_URL":        e.base,
		"ADMIN_PASSWORD":  e.pw,
		"ACCESS_KEY":      e.a.AccessKey(),
		"PASTE":           e.paste,
		"RAW_KEYS_FILE":   rawFile,
		"TOTAL":           fmt.Sprint(len(e.keys)),
		"DEAD_IDS":        string(deadJSON),
		"REVEAL_ID":       apikey.ID(e.reveal),
		"REVEAL_KEY":      e.reveal,
		"LABEL":           uiLabel,
		"IMPORT":          "# a file of keys already stored\n" + e.seed[1] + "\n" + e.fresh[0] + "\n",
		"IMPORT_EXISTING": "2",
		"SHOT_DIR":        shots,
		"GBD_CHROMIUM":    e.chromium,
	}
	for k, v := range extra {
		env[k] = v
	}
	out := e2etest.RunNode(t, "ui.mjs", env)
	var r uiResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ui.mjs printed %q: %v", out, err)
	}
	t.Logf("screenshots: %s", strings.Join(r.Screenshots, " "))
	if r.Error != "" {
		t.Fatalf("ui.mjs failed at step %s: %s", r.Step, r.Error)
	}
	for _, k := range e.keys {
		if bytes.Contains(out, []byte(k)) {
			t.Errorf("a raw key %s is in the script's output", apikey.Mask(k))
		}
	}
	return r
}

// uiResult is what build/e2e/ui.mjs prints.
type uiResult struct {
	Error             string            `json:"error"`
	Step              string            `json:"step"`
	Screenshots       []string          `json:"screenshots"`
	Leaks             []string          `json:"leaks"`
	PageErrors        []string          `json:"pageErrors"`
	LoginError        string            `json:"loginError"`
	LoginShown        bool              `json:"loginShown"`
	StatusAddr        string            `json:"statusAddr"`
	Added             int               `json:"added"`
	Existing          int               `json:"existing"`
	Malformed         int               `json:"malformed"`
	MalformedRows     int               `json:"malformedRows"`
	MalformedText     string            `json:"malformedText"`
	ImportAdded       int               `json:"importAdded"`
	ImportExisting    int               `json:"importExisting"`
	FirstPage         string            `json:"firstPage"`
	SecondPage        string            `json:"secondPage"`
	SecondPageFirst   string            `json:"secondPageFirst"`
	AfterSearchPage   string            `json:"afterSearchPage"`
	Selected          string            `json:"selected"`
	Timings           map[string]int    `json:"timings"`
	TextareaAfterAdd  string            `json:"textareaAfterAdd"`
	RowsAfterAdd      int               `json:"rowsAfterAdd"`
	Previews          []string          `json:"previews"`
	CheckSummary      string            `json:"checkSummary"`
	Statuses          map[string]string `json:"statuses"`
	RowsAfterPrune    int               `json:"rowsAfterPrune"`
	DeadGone          bool              `json:"deadGone"`
	RowsAfterUndo     int               `json:"rowsAfterUndo"`
	DeadBack          bool              `json:"deadBack"`
	SearchRows        int               `json:"searchRows"`
	SearchHit         string            `json:"searchHit"`
	LabelShown        string            `json:"labelShown"`
	DisabledShown     bool              `json:"disabledShown"`
	EnabledAgain      bool              `json:"enabledAgain"`
	HeaderSwitchWorks bool              `json:"headerSwitchWorks"`
	PausedShown       bool              `json:"pausedShown"`
	RevealMatches     bool              `json:"revealMatches"`
	ExportWarning     string            `json:"exportWarning"`
	ExportLines       int               `json:"exportLines"`
	ExportAllKnown    bool              `json:"exportAllKnown"`
	ExportToast       string            `json:"exportToast"`
	ProgressText      string            `json:"progressText"`
	CanceledSummary   string            `json:"canceledSummary"`
	OpenAIURL         string            `json:"openaiURL"`
	GeminiURL         string            `json:"geminiURL"`
	AccessKeyHidden   bool              `json:"accessKeyHidden"`
	AccessKeyShown    bool              `json:"accessKeyShown"`
	NewAdminPassword  string            `json:"newAdminPassword"`
	WebURL            string            `json:"webURL"`
	StatRequests      int               `json:"statRequests"`
	ByModelRows       int               `json:"byModelRows"`
	ByKeyRows         int               `json:"byKeyRows"`
	TodayRows         int               `json:"todayRows"`
	LogRows           int               `json:"logRows"`
	LogRowsAfterWipe  int               `json:"logRowsAfterWipe"`
	ChartMarks        int               `json:"chartMarks"`
	PortBefore        int               `json:"portBefore"`
	PortError         string            `json:"portError"`
	PortFieldMarked   bool              `json:"portFieldMarked"`
	SettingsDone      string            `json:"settingsDone"`
	SystemProxy       string            `json:"systemProxy"`
	PassthroughChip   bool              `json:"passthroughChip"`
	HeaderPassChecked bool              `json:"headerPassthroughChecked"`
	ZhTabs            []string          `json:"zhTabs"`
	ZhSettingsTitle   string            `json:"zhSettingsTitle"`
	ZhStatus          string            `json:"zhStatus"`
	BgDark            string            `json:"bgDark"`
	SecretsBanner     string            `json:"secretsBanner"`
	StartError        string            `json:"startError"`
	FixPortShown      bool              `json:"fixPortShown"`
	ZhAfterReload     string            `json:"zhAfterReload"`
	WindowCalls       []string          `json:"windowCalls"`
	NetworkCalls      []string          `json:"networkCalls"`
}

// checkCommon asserts what both faces (browser and window) must have shown and stored.
func (e *uiEnv) checkCommon(t *testing.T, r uiResult) {
	t.Helper()
	ctx := context.Background()
	a := e.a

	if len(r.Leaks) > 0 {
		t.Errorf("raw keys reached the page or an answer: %v", r.Leaks)
	}
	if len(r.PageErrors) > 0 {
		t.Errorf("page errors: %v", r.PageErrors)
	}
	for _, k := range e.keys {
		if strings.Contains(e.logs.String(), k) {
			t.Errorf("a raw key %s reached the log", apikey.Mask(k))
		}
	}

	// Add.
	wantAdded := len(e.ext.Keys) - 1 // seed[0] is present already
	if r.Added != wantAdded || r.Existing != 1 || r.Malformed != len(e.ext.Malformed) || r.MalformedRows != len(e.ext.Malformed) {
		t.Errorf("add counts = added %d, existing %d, malformed %d (%d rows), want %d, 1, %d",
			r.Added, r.Existing, r.Malformed, r.MalformedRows, wantAdded, len(e.ext.Malformed))
	}
	for _, m := range e.ext.Malformed {
		if !strings.Contains(r.MalformedText, m.Text) {
			t.Errorf("malformed table %q lacks the masked token %q", r.MalformedText, m.Text)
		}
	}
	if r.TextareaAfterAdd != "" {
		t.Errorf("the paste box still holds %d characters after adding", len(r.TextareaAfterAdd))
	}
	if r.ImportAdded != 0 || r.ImportExisting != 2 {
		t.Errorf("import of a file with 2 stored keys: added %d, already present %d; want 0, 2", r.ImportAdded, r.ImportExisting)
	}
	if r.RowsAfterAdd != len(e.keys) {
		t.Errorf("rows after add = %d, want %d", r.RowsAfterAdd, len(e.keys))
	}
	var wantPreviews []string
	for _, k := range e.keys {
		wantPreviews = append(wantPreviews, apikey.Mask(k))
	}
	gotPreviews := slices.Clone(r.Previews)
	sort.Strings(gotPreviews)
	sort.Strings(wantPreviews)
	if !reflect.DeepEqual(gotPreviews, wantPreviews) {
		t.Errorf("table previews = %v, want %v", gotPreviews, wantPreviews)
	}

	// Check: dead keys marked, the rate-limited one still active.
	wantStatus := map[string]string{}
	for _, k := range e.keys {
		wantStatus[apikey.ID(k)] = "active"
	}
	wantStatus[apikey.ID(e.invalid)] = "invalid"
	wantStatus[apikey.ID(e.expired)] = "expired"
	if !reflect.DeepEqual(r.Statuses, wantStatus) {
		t.Errorf("statuses after the check = %v, want %v", r.Statuses, wantStatus)
	}
	if e.fake.CountFor(e.invalid) == 0 || e.fake.CountFor(e.limited) == 0 {
		t.Errorf("the check did not reach the fake upstream for every key")
	}

	// Prune and undo.
	if r.RowsAfterPrune != len(e.keys)-2 || !r.DeadGone {
		t.Errorf("after prune: %d rows (dead gone: %v), want %d", r.RowsAfterPrune, r.DeadGone, len(e.keys)-2)
	}
	if r.RowsAfterUndo != len(e.keys) || !r.DeadBack {
		t.Errorf("after undo: %d rows (dead back: %v), want %d", r.RowsAfterUndo, r.DeadBack, len(e.keys))
	}

	// Search, label, disable/enable, pause, reveal.
	if r.SearchRows != 1 || r.SearchHit != apikey.ID(e.reveal) {
		t.Errorf("search by the last characters: %d rows, first %s, want 1 row %s", r.SearchRows, r.SearchHit, apikey.ID(e.reveal))
	}
	if r.LabelShown != uiLabel || !r.DisabledShown || !r.EnabledAgain || !r.PausedShown || !r.HeaderSwitchWorks {
		t.Errorf("label shown %q (want %q), disabled %v, enabled again %v, paused shown %v, header passthrough switch %v",
			r.LabelShown, uiLabel, r.DisabledShown, r.EnabledAgain, r.PausedShown, r.HeaderSwitchWorks)
	}
	if k, err := a.Keys().Get(ctx, apikey.ID(e.reveal)); err != nil || k.Label != uiLabel || k.Status != "active" {
		t.Errorf("stored key = label %q, status %q, %v; want %q, active", k.Label, k.Status, err, uiLabel)
	}
	if a.Settings().Paused {
		t.Errorf("the proxy is still paused after resume")
	}
	if !r.RevealMatches {
		t.Errorf("the revealed key is not the key of the row")
	}
	if !strings.Contains(r.ExportWarning, "plain text") {
		t.Errorf("export dialog = %q, want a plain-text warning", r.ExportWarning)
	}

	// A slow check showed progress and was canceled.
	if !strings.Contains(r.ProgressText, "Checking keys") || !strings.Contains(r.CanceledSummary, "canceled") {
		t.Errorf("check progress %q, after cancel %q; want progress, then a canceled summary", r.ProgressText, r.CanceledSummary)
	}
	if j := a.CheckStatus(); j.State != CheckCanceled || j.Done >= j.Total {
		t.Errorf("CheckStatus() = %s, %d of %d; want canceled part way", j.State, j.Done, j.Total)
	}
	if a.Settings().CheckConcurrency != 8 {
		t.Errorf("check concurrency = %d, want 8 (restored)", a.Settings().CheckConcurrency)
	}

	// Connect.
	st := a.Status()
	if r.OpenAIURL != st.OpenAIBaseURL || r.GeminiURL != st.GeminiBaseURL {
		t.Errorf("connect URLs = %q, %q, want %q, %q", r.OpenAIURL, r.GeminiURL, st.OpenAIBaseURL, st.GeminiBaseURL)
	}
	if !r.AccessKeyHidden || !r.AccessKeyShown {
		t.Errorf("access key hidden first: %v, shown on click: %v; want both", r.AccessKeyHidden, r.AccessKeyShown)
	}

	// Statistics.
	if r.StatRequests < uiCalls || r.ByModelRows < 1 || r.ByKeyRows < 1 || r.TodayRows < 1 || r.LogRows < uiCalls || r.ChartMarks < 1 {
		t.Errorf("stats: requests %d, by model %d rows, by key %d rows, today %d rows, log %d rows, chart %d marks; want ≥ %d requests and rows everywhere",
			r.StatRequests, r.ByModelRows, r.ByKeyRows, r.TodayRows, r.LogRows, r.ChartMarks, uiCalls)
	}
	if r.LogRowsAfterWipe != 0 {
		t.Errorf("log rows after wipe = %d, want 0", r.LogRowsAfterWipe)
	}
	if page, err := a.store.RequestLog(ctx, store.LogQuery{}); err != nil || page.Total != 0 {
		t.Errorf("store request log after wipe: %d entries, %v; want 0", page.Total, err)
	}

	// Settings: the bad port was refused and not saved; passthrough was saved.
	if !strings.Contains(r.PortError, "65535") || !r.PortFieldMarked {
		t.Errorf("port 70000: error %q (field marked: %v), want the server's message naming 65535 next to the field", r.PortError, r.PortFieldMarked)
	}
	saved, err := store.GetSetting(ctx, a.store, "settings", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Port != r.PortBefore || saved.Port == 70000 {
		t.Errorf("saved port = %d, want %d (unchanged)", saved.Port, r.PortBefore)
	}
	if !saved.Passthrough || !a.Settings().Passthrough || !r.PassthroughChip || !r.HeaderPassChecked {
		t.Errorf("passthrough: saved %v, in force %v, header chip %v, header switch %v; want all true",
			saved.Passthrough, a.Settings().Passthrough, r.PassthroughChip, r.HeaderPassChecked)
	}
	if r.SettingsDone == "" {
		t.Errorf("no confirmation after saving the settings")
	}
	// The upstream proxy is empty: the screen says what the system proxy is.
	if !strings.HasPrefix(r.SystemProxy, "System proxy") {
		t.Errorf("settings screen system-proxy line = %q, want what the system proxy resolved to", r.SystemProxy)
	}

	// Language and theme.
	if !slices.Contains(r.ZhTabs, "密钥") || !slices.Contains(r.ZhTabs, "设置") || r.ZhSettingsTitle != "设置" || !strings.Contains(r.ZhStatus, "监听") {
		t.Errorf("after switching to Chinese: tabs %q, settings title %q, status %q", r.ZhTabs, r.ZhSettingsTitle, r.ZhStatus)
	}
	if saved.Language != "zh-CN" {
		t.Errorf("saved language = %q, want zh-CN", saved.Language)
	}
	if r.ZhAfterReload != "zh-CN" {
		t.Errorf("language after a reload = %q, want zh-CN", r.ZhAfterReload)
	}
	if r.BgDark == "" || r.BgDark == "rgb(244, 245, 249)" {
		t.Errorf("dark color scheme: body background %q, want the dark one", r.BgDark)
	}

	// The store agrees with what the page showed.
	list, err := a.Keys().List(ctx, vault.KeyQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range list.Keys {
		got[k.ID] = k.Status
	}
	if !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("store statuses = %v, want %v", got, wantStatus)
	}

	for _, p := range r.Screenshots {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("screenshot %s is not a PNG (%v)", p, err)
		}
	}
}

// TestUIInChromium drives the web UI in a real Chromium against a running App whose upstream
// is the fake Gemini server, through the management API behind the admin login: login (a wrong
// password first), bulk add, check, prune and undo, search, label, disable/enable, pause,
// reveal, export, a canceled check, connect, statistics and wipe, settings (a refused port,
// passthrough), language and theme, the keychain and start-error banners.
func TestUIInChromium(t *testing.T) {
	e := newUIEnv(t)
	r := e.run(t, nil)
	e.checkCommon(t, r)

	if r.LoginError == "" {
		t.Errorf("wrong password: no error shown")
	}
	if !strings.Contains(r.StatusAddr, e.a.server.Addr()) {
		t.Errorf("header status = %q, want the address %s", r.StatusAddr, e.a.server.Addr())
	}
	if r.ExportLines != len(e.keys) || !r.ExportAllKnown {
		t.Errorf("export: %d lines (all known keys: %v), want %d", r.ExportLines, r.ExportAllKnown, len(e.keys))
	}
	if !strings.Contains(r.SecretsBanner, "Keychain unavailable") || !strings.Contains(r.StartError, "in use") || !r.FixPortShown {
		t.Errorf("banners: keychain %q, start error %q, port field shown %v", r.SecretsBanner, r.StartError, r.FixPortShown)
	}
}

// TestUIManyKeysInChromium: with 10,000 keys the table pages on the server: page info, the
// next page, search by the last characters, a 500-row page and selecting it all work (the
// script reports how long each took; nothing is asserted on time).
func TestUIManyKeysInChromium(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	many := uiKeys(rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17)), 10_000-len(e.seed))
	if _, err := e.a.Keys().AddBulk(ctx, strings.Join(many, "\n")); err != nil {
		t.Fatal(err)
	}
	target := many[len(many)/2]
	e.keys = append(slices.Clone(e.seed), many...)
	r := e.run(t, map[string]string{"MODE": "many", "REVEAL_KEY": target, "REVEAL_ID": apikey.ID(target)})
	t.Logf("timings (ms): %v", r.Timings)
	if len(r.Leaks) > 0 || len(r.PageErrors) > 0 {
		t.Errorf("leaks %v, page errors %v", r.Leaks, r.PageErrors)
	}
	if r.FirstPage != "1–50 of 10,000" || r.SecondPage != "51–100 of 10,000" || r.AfterSearchPage != "1–50 of 10,000" {
		t.Errorf("page info = %q, then %q, after search %q; want 1–50, 51–100, 1–50 of 10,000", r.FirstPage, r.SecondPage, r.AfterSearchPage)
	}
	want, err := e.a.Keys().List(ctx, vault.KeyQuery{Offset: 50, Limit: 1, Status: []string{"active", "disabled", "invalid", "expired", "denied", "secret_missing"}})
	if err != nil || len(want.Keys) != 1 || r.SecondPageFirst != want.Keys[0].ID {
		t.Errorf("second page starts with %s, want the store's 51st key (%v, %v)", r.SecondPageFirst, want.Keys, err)
	}
	if r.SearchHit != apikey.ID(target) {
		t.Errorf("search by the last 8 characters found %s, want %s", r.SearchHit, apikey.ID(target))
	}
	if r.Selected != "500 selected" {
		t.Errorf("selection after selecting a 500-row page = %q, want \"500 selected\"", r.Selected)
	}
}

// serveWindow serves the built UI the way the desktop window gets it: Wails' asset server
// calls a.WindowHandler (its assetserver.Options.Middleware) with the asset handler as next. A
// loopback listener stands in for WebKit's wails:// scheme so that Chromium can load the page;
// nothing else reaches the handler. It returns the listener's address.
func serveWindow(t *testing.T, a *App) string {
	t.Helper()
	srv := httptest.NewServer(a.WindowHandler(http.FileServerFS(os.DirFS(uiDist))))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestUIWindowInChromium runs the UI as the desktop window does: the page at
// http://wails.localhost/ (WebView2's origin for the window), no login, every call through
// app.WindowHandler, the in-process way in that Wails' asset server takes. It checks the same
// screens and store state as the browser test, the window-only bits (admin password under
// Connect, export to a file), that every API call took the window's way in (none went to the
// proxy's listener) and that the app saw them there.
func TestUIWindowInChromium(t *testing.T) {
	e := newUIEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	os.Mkdir(filepath.Join(home, "Downloads"), 0o700)
	r := e.run(t, map[string]string{"MODE": "window", "WINDOW_ADDR": serveWindow(t, e.a)})
	e.checkCommon(t, r)

	if r.LoginShown {
		t.Errorf("the window showed a login screen")
	}
	if len(r.NewAdminPassword) < MinAdminPasswordLen || r.NewAdminPassword == e.pw || !e.a.admin.check(context.Background(), r.NewAdminPassword) ||
		r.WebURL != e.a.Status().GeminiBaseURL+"/" {
		t.Errorf("window Connect: new admin password %d chars (in force: %v), web address %q; want a new password in force and %q",
			len(r.NewAdminPassword), e.a.admin.check(context.Background(), r.NewAdminPassword), r.WebURL, e.a.Status().GeminiBaseURL+"/")
	}
	files, _ := filepath.Glob(filepath.Join(home, "Downloads", "gemini-api-keys-*.txt"))
	if len(files) != 1 || !strings.Contains(r.ExportToast, files[0]) {
		t.Fatalf("export: files %v, toast %q; want one file named in the toast", files, r.ExportToast)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	data, _ := os.ReadFile(files[0])
	if n := len(strings.Fields(string(data))); n != len(e.keys) {
		t.Errorf("export file holds %d keys, want %d", n, len(e.keys))
	}
	if len(r.NetworkCalls) > 0 {
		t.Errorf("the window called the proxy's listener: %v", r.NetworkCalls)
	}
	want := []string{
		"GET /api/session", "GET /api/status", "GET /api/keys", "POST /api/keys/bulk", "POST /api/keys/import",
		"POST /api/keys/check", "DELETE /api/keys/check", "POST /api/keys/prune", "POST /api/keys/restore",
		"POST /api/keys/export-file", "GET /api/settings", "PATCH /api/settings", "POST /api/settings/admin-password",
		"GET /api/stats", "GET /api/stats/series", "GET /api/stats/today", "GET /api/log", "DELETE /api/log",
	}
	for _, route := range want {
		if !slices.Contains(r.WindowCalls, route) {
			t.Errorf("the window never called %s (called: %v)", route, r.WindowCalls)
		}
	}
	if !strings.Contains(e.logs.String(), "window API request") {
		t.Errorf("the app logged no window API request")
	}
}

// TestRetryStartAfterPortInUse: a start on a taken port leaves the app up and says why; after
// the user picks another port, RetryStart serves there.
func TestRetryStartAfterPortInUse(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{DataDir: t.TempDir(), SecretStore: "file", Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	s := a.Settings()
	s.Port = taken.Addr().(*net.TCPAddr).Port
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err == nil {
		t.Fatalf("Start() on a taken port = nil, want an error")
	}
	if st := a.Status(); st.Running || st.Error == "" {
		t.Fatalf("Status() after a failed start = running %v, error %q; want not running with a reason", st.Running, st.Error)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = free.Addr().(*net.TCPAddr).Port
	free.Close()
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.RetryStart(); err != nil {
		t.Fatalf("RetryStart() = %v, want nil", err)
	}
	st := a.Status()
	if !st.Running || st.Error != "" || st.Port != s.Port {
		t.Fatalf("Status() after RetryStart = running %v, error %q, port %d; want running on %d", st.Running, st.Error, st.Port, s.Port)
	}
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/session", s.Port))
	if err != nil {
		t.Fatalf("GET /api/session on the new port: %v", err)
	}
	res.Body.Close()
	if err := a.RetryStart(); err != nil {
		t.Errorf("RetryStart() while running = %v, want nil", err)
	}
}
