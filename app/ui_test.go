package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// uiDist is the built web UI (frontend/dist), made by `npm run build` in frontend/.
const uiDist = "../frontend/dist"

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

// uiLog collects the app's log from many goroutines.
type uiLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newUILog() *uiLog { return &uiLog{} }

func (l *uiLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *uiLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// uiResult is what build/e2e/ui.mjs prints.
type uiResult struct {
	Error             string            `json:"error"`
	Step              string            `json:"step"`
	Screenshots       []string          `json:"screenshots"`
	Leaks             []string          `json:"leaks"`
	PageErrors        []string          `json:"pageErrors"`
	LoginError        string            `json:"loginError"`
	StatusAddr        string            `json:"statusAddr"`
	Added             int               `json:"added"`
	Existing          int               `json:"existing"`
	Malformed         int               `json:"malformed"`
	MalformedRows     int               `json:"malformedRows"`
	MalformedText     string            `json:"malformedText"`
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
	RevealMatches     bool              `json:"revealMatches"`
	ExportWarning     string            `json:"exportWarning"`
	ExportLines       int               `json:"exportLines"`
	ExportAllKnown    bool              `json:"exportAllKnown"`
	OpenAIURL         string            `json:"openaiURL"`
	GeminiURL         string            `json:"geminiURL"`
	AccessKeyHidden   bool              `json:"accessKeyHidden"`
	AccessKeyShown    bool              `json:"accessKeyShown"`
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
	PassthroughChip   bool              `json:"passthroughChip"`
	HeaderPassChecked bool              `json:"headerPassthroughChecked"`
	ZhTabs            []string          `json:"zhTabs"`
	ZhSettingsTitle   string            `json:"zhSettingsTitle"`
	ZhStatus          string            `json:"zhStatus"`
	BgDark            string            `json:"bgDark"`
	ZhAfterReload     string            `json:"zhAfterReload"`
	LabelShown        string            `json:"labelShown"`
	DisabledShown     bool              `json:"disabledShown"`
	EnabledAgain      bool              `json:"enabledAgain"`
	PausedShown       bool              `json:"pausedShown"`
	SecretsBanner     string            `json:"secretsBanner"`
	StartError        string            `json:"startError"`
	FixPortShown      bool              `json:"fixPortShown"`
	ProgressText      string            `json:"progressText"`
	CanceledSummary   string            `json:"canceledSummary"`
}

// TestUIInChromium drives the web UI — the same app as the desktop window — in a real
// Chromium against a running App whose upstream is the fake Gemini server: login, bulk add,
// check, prune and undo, search, reveal, export, connect, statistics, settings, language.
func TestUIInChromium(t *testing.T) {
	chromium := e2etest.Chromium(t)
	e2etest.Node(t)
	if _, err := os.Stat(filepath.Join(uiDist, "index.html")); err != nil {
		t.Fatalf("frontend/dist/index.html is missing: build the UI first (cd frontend && npm ci && npm run build; build/test.sh does this before go test)")
	}
	if idx, _ := os.ReadFile(filepath.Join(uiDist, "index.html")); !bytes.Contains(idx, []byte("assets/")) {
		t.Fatalf("frontend/dist/index.html is not a Vite build (no assets/): run npm run build in frontend/")
	}

	fake := proxytest.New(t)
	logs := newUILog()
	ctx := context.Background()
	a, err := New(ctx, Options{
		DataDir: t.TempDir(), SecretStore: "file", Passphrase: "pw", Addr: "127.0.0.1:0",
		Assets: os.DirFS(uiDist),
		Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := a.Settings()
	s.Upstream = fake.URL()
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	base := "http://" + a.server.Addr()

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	keys := uiKeys(rnd, 8)
	seed, fresh := keys[:2], keys[2:]
	invalid, expired, limited := fresh[3], fresh[4], fresh[5]
	// Every key but `invalid` is known to the fake; `expired` answers its first request
	// (the check) as expired; `limited` is rate-limited, which is not dead.
	var valid []string
	for _, k := range keys {
		if k != invalid {
			valid = append(valid, k)
		}
	}
	fake.SetValidKeys(valid...)
	// Two answers each: the UI checks twice (the second check is canceled part way).
	fake.Script(expired, proxytest.ExpiredKey(), proxytest.ExpiredKey())
	fake.Script(limited, proxytest.RateLimited("30s"), proxytest.RateLimited("30s"))

	// Two keys are stored before the UI opens, and carry some traffic for the statistics.
	if _, err := a.Keys().AddBulk(ctx, strings.Join(seed, "\n")); err != nil {
		t.Fatal(err)
	}
	fake.Script(seed[0], proxytest.RateLimited("1s"))
	const calls = 4
	for i := range calls {
		body := `{"contents":[{"parts":[{"text":"hi"}]}]}`
		req, _ := http.NewRequest(http.MethodPost, base+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(body))
		req.Header.Set("x-goog-api-key", a.AccessKey())
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d through the proxy: status %d", i, res.StatusCode)
		}
	}
	// Wait for the recorder's batch to land (the UI reads the store).
	deadline := time.Now().Add(30 * time.Second)
	for {
		tot, err := a.store.Totals(ctx, time.Now().Add(-time.Hour), store.ByModel)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, x := range tot {
			n += x.Requests
		}
		if n >= calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statistics show %d requests after %d calls", n, calls)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// From now on the upstream answers slowly, so that a check shows progress and can be
	// canceled.
	fake.SetLatency(300 * time.Millisecond)

	// The pasted text: a comment, an existing key, KEY= and quoted forms, a repeat, and two
	// malformed tokens.
	paste := strings.Join([]string{
		"# keys from my notes",
		seed[0],
		"GEMINI_API_KEY=" + fresh[0],
		`"` + fresh[1] + `", ` + fresh[2],
		fresh[0],
		invalid + " " + expired,
		limited,
		"AIzaSyTooShort123",
		fresh[2][:20] + "!" + fresh[2][21:],
	}, "\n")
	ext := apikey.Extract(paste)
	wantAdded := len(ext.Keys) - 1 // seed[0] is present already
	if wantAdded != len(fresh) || len(ext.Malformed) == 0 {
		t.Fatalf("test setup: Extract(paste) found %d keys and %d malformed, want %d keys and some malformed", len(ext.Keys), len(ext.Malformed), len(fresh)+1)
	}
	deadIDs := []string{apikey.ID(invalid), apikey.ID(expired)}
	reveal := fresh[1]
	const uiLabel = "work laptop 工作"
	rawJSON, _ := json.Marshal(keys)
	deadJSON, _ := json.Marshal(deadIDs)

	shots := os.Getenv("GBD_UI_SHOTS")
	if shots == "" {
		if shots, err = os.MkdirTemp("", "gbd-ui-shots-"); err != nil {
			t.Fatal(err)
		}
	}
	out := e2etest.RunNode(t, "ui.mjs", map[string]string{
		"BASE_URL":       base,
		"ADMIN_PASSWORD": a.AdminPassword(),
		"ACCESS_KEY":     a.AccessKey(),
		"PASTE":          paste,
		"RAW_KEYS":       string(rawJSON),
		"TOTAL":          fmt.Sprint(len(keys)),
		"DEAD_IDS":       string(deadJSON),
		"REVEAL_ID":      apikey.ID(reveal),
		"REVEAL_KEY":     reveal,
		"LABEL":          uiLabel,
		"SHOT_DIR":       shots,
		"GBD_CHROMIUM":   chromium,
	})
	var r uiResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ui.mjs printed %q: %v", out, err)
	}
	t.Logf("screenshots: %s", strings.Join(r.Screenshots, " "))
	if r.Error != "" {
		t.Fatalf("ui.mjs failed at step %s: %s", r.Step, r.Error)
	}

	// Nothing leaked, nothing broke.
	if len(r.Leaks) > 0 {
		t.Errorf("raw keys reached the page or an API answer: %v", r.Leaks)
	}
	if len(r.PageErrors) > 0 {
		t.Errorf("page errors: %v", r.PageErrors)
	}
	for _, k := range keys {
		if strings.Contains(logs.String(), k) {
			t.Errorf("a raw key %s reached the log", apikey.Mask(k))
		}
		if strings.Contains(string(out), k) {
			t.Errorf("a raw key %s is in the script's output", apikey.Mask(k))
		}
	}

	// Login, add.
	if r.LoginError == "" {
		t.Errorf("wrong password: no error shown")
	}
	if !strings.Contains(r.StatusAddr, a.server.Addr()) {
		t.Errorf("header status = %q, want the address %s", r.StatusAddr, a.server.Addr())
	}
	if r.Added != wantAdded || r.Existing != 1 || r.Malformed != len(ext.Malformed) || r.MalformedRows != len(ext.Malformed) {
		t.Errorf("add counts = added %d, existing %d, malformed %d (%d rows), want %d, 1, %d",
			r.Added, r.Existing, r.Malformed, r.MalformedRows, wantAdded, len(ext.Malformed))
	}
	for _, m := range ext.Malformed {
		if !strings.Contains(r.MalformedText, m.Text) {
			t.Errorf("malformed table %q lacks the masked token %q", r.MalformedText, m.Text)
		}
	}
	if r.TextareaAfterAdd != "" {
		t.Errorf("the paste box still holds %d characters after adding", len(r.TextareaAfterAdd))
	}
	if r.RowsAfterAdd != len(keys) {
		t.Errorf("rows after add = %d, want %d", r.RowsAfterAdd, len(keys))
	}
	var wantPreviews []string
	for _, k := range keys {
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
	for _, k := range keys {
		wantStatus[apikey.ID(k)] = "active"
	}
	wantStatus[apikey.ID(invalid)] = "invalid"
	wantStatus[apikey.ID(expired)] = "expired"
	if !reflect.DeepEqual(r.Statuses, wantStatus) {
		t.Errorf("statuses after the check = %v, want %v", r.Statuses, wantStatus)
	}
	if fake.CountFor(invalid) == 0 || fake.CountFor(limited) == 0 {
		t.Errorf("the check did not reach the fake upstream for every key")
	}

	// Prune and undo.
	if r.RowsAfterPrune != len(keys)-2 || !r.DeadGone {
		t.Errorf("after prune: %d rows (dead gone: %v), want %d", r.RowsAfterPrune, r.DeadGone, len(keys)-2)
	}
	if r.RowsAfterUndo != len(keys) || !r.DeadBack {
		t.Errorf("after undo: %d rows (dead back: %v), want %d", r.RowsAfterUndo, r.DeadBack, len(keys))
	}

	// Search, reveal, export.
	if r.SearchRows != 1 || r.SearchHit != apikey.ID(reveal) {
		t.Errorf("search by the last characters: %d rows, first %s, want 1 row %s", r.SearchRows, r.SearchHit, apikey.ID(reveal))
	}
	if !r.RevealMatches {
		t.Errorf("the revealed key is not the key of the row")
	}
	if !strings.Contains(r.ExportWarning, "plain text") {
		t.Errorf("export dialog = %q, want a plain-text warning", r.ExportWarning)
	}
	if r.ExportLines != len(keys) || !r.ExportAllKnown {
		t.Errorf("export: %d lines (all known keys: %v), want %d", r.ExportLines, r.ExportAllKnown, len(keys))
	}

	// Label, disable and enable, pause and resume.
	if r.LabelShown != uiLabel || !r.DisabledShown || !r.EnabledAgain || !r.PausedShown {
		t.Errorf("label shown %q (want %q), disabled %v, enabled again %v, paused shown %v", r.LabelShown, uiLabel, r.DisabledShown, r.EnabledAgain, r.PausedShown)
	}
	if k, err := a.Keys().Get(ctx, apikey.ID(reveal)); err != nil || k.Label != uiLabel || k.Status != "active" {
		t.Errorf("stored key = label %q, status %q, %v; want %q, active", k.Label, k.Status, err, uiLabel)
	}
	if a.Settings().Paused {
		t.Errorf("the proxy is still paused after resume")
	}

	// Banners.
	if !strings.Contains(r.SecretsBanner, "Keychain unavailable") || !strings.Contains(r.StartError, "in use") || !r.FixPortShown {
		t.Errorf("banners: keychain %q, start error %q, port field shown %v", r.SecretsBanner, r.StartError, r.FixPortShown)
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
	if r.StatRequests < calls || r.ByModelRows < 1 || r.ByKeyRows < 1 || r.TodayRows < 1 || r.LogRows < calls || r.ChartMarks < 1 {
		t.Errorf("stats: requests %d, by model %d rows, by key %d rows, today %d rows, log %d rows, chart %d marks; want ≥ %d requests and rows everywhere",
			r.StatRequests, r.ByModelRows, r.ByKeyRows, r.TodayRows, r.LogRows, r.ChartMarks, calls)
	}
	if r.LogRowsAfterWipe != 0 {
		t.Errorf("log rows after wipe = %d, want 0", r.LogRowsAfterWipe)
	}
	page, err := a.store.RequestLog(ctx, store.LogQuery{})
	if err != nil || page.Total != 0 {
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
	list, err := a.Keys().List(ctx, KeyQuery{Limit: 100})
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
	b := NewBindings(a)
	if err := b.RetryStart(); err != nil {
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
	if err := b.RetryStart(); err != nil {
		t.Errorf("RetryStart() while running = %v, want nil", err)
	}
}

// TestBindingsMatchAPI: the window's statistics, log and export bindings answer what the
// management API answers, in the same JSON shape.
func TestBindingsMatchAPI(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	keys := e.newKeys(3)
	if _, err := e.a.Keys().AddBulk(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
		req.Header.Set("x-goog-api-key", e.a.AccessKey())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := e.a.store.RequestLog(ctx, store.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request log has %d entries after 3 calls", p.Total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b := NewBindings(e.a)

	api := func(path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.a.AdminPassword())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, %v", path, res.StatusCode, err)
		}
		return m
	}
	roundTrip := func(v any, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(v)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m
	}
	// Times differ by the moment of the call: compare everything else.
	strip := func(m map[string]any, fields ...string) map[string]any {
		for _, f := range fields {
			delete(m, f)
		}
		return m
	}

	for _, by := range []string{"model", "key", "key_model"} {
		got := strip(roundTrip(b.Stats(by, "24h")), "since")
		want := strip(api("/api/stats?by="+by+"&since=24h"), "since")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Stats(%q) = %v, want %v (GET /api/stats)", by, got, want)
		}
	}
	if _, err := b.Stats("nonsense", "24h"); err == nil {
		t.Errorf("Stats(nonsense) = nil error, want one")
	}
	seriesOf := func(m map[string]any) (int, float64) {
		pts, _ := m["points"].([]any)
		var sum float64
		for _, p := range pts {
			sum += p.(map[string]any)["requests"].(float64)
		}
		return len(pts), sum
	}
	gn, gs := seriesOf(roundTrip(b.StatsSeries("minute", "1h")))
	wn, ws := seriesOf(api("/api/stats/series?resolution=minute&since=1h"))
	if gs != ws || gs < 3 || gn < 60 || gn > wn+1 || wn > gn+1 {
		t.Errorf("StatsSeries(minute, 1h) = %d points, %v requests; API %d points, %v requests", gn, gs, wn, ws)
	}
	gotToday := roundTrip(b.StatsToday())
	wantToday := api("/api/stats/today")
	if !reflect.DeepEqual(gotToday, wantToday) {
		t.Errorf("StatsToday() = %v, want %v", gotToday, wantToday)
	}
	gotLog := roundTrip(b.RequestLog(0, 2))
	wantLog := api("/api/log?offset=0&limit=2")
	if !reflect.DeepEqual(gotLog, wantLog) {
		t.Errorf("RequestLog(0, 2) = %v, want %v", gotLog, wantLog)
	}
	for _, k := range keys {
		for _, m := range []map[string]any{gotLog, gotToday} {
			raw, _ := json.Marshal(m)
			if strings.Contains(string(raw), k) {
				t.Errorf("a binding answer holds the raw key %s", apikey.Mask(k))
			}
		}
	}
	n, err := b.WipeLog()
	if err != nil || n < 3 {
		t.Errorf("WipeLog() = %d, %v; want ≥ 3, nil", n, err)
	}
	if p, _ := b.RequestLog(0, 0); p.Total != 0 || p.Limit != store.DefaultPageSize {
		t.Errorf("RequestLog after wipe = total %d, limit %d; want 0, %d", p.Total, p.Limit, store.DefaultPageSize)
	}

	home := t.TempDir()
	t.Setenv("HOME", home)
	os.Mkdir(filepath.Join(home, "Downloads"), 0o700)
	path, err := b.ExportKeysToFile()
	if err != nil {
		t.Fatalf("ExportKeysToFile() = %v", err)
	}
	if filepath.Dir(path) != filepath.Join(home, "Downloads") {
		t.Errorf("ExportKeysToFile() wrote %s, want a file in %s", path, filepath.Join(home, "Downloads"))
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Fields(string(data))
	sort.Strings(lines)
	want := slices.Clone(keys)
	sort.Strings(want)
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("export file holds %d keys, want the %d stored", len(lines), len(keys))
	}
}
