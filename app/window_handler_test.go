package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
)

// windowCall sends one request through a.WindowHandler, as Wails' asset
// server does for the window's page, with the given Host and headers.
func windowCall(t *testing.T, a *App, method, path, host string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot) // "the asset handler"
	})
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.WindowHandler(next).ServeHTTP(rec, req)
	return rec
}

// TestWindowHandlerTrust: the window's page reaches the management API
// without a login, but only at the window's own origin; a page from
// elsewhere is refused, the proxy's listener never grants that trust, and
// the window-only routes refuse every other caller.
func TestWindowHandlerTrust(t *testing.T) {
	e := newAPIEnv(t)
	a := e.a

	for _, host := range []string{"wails", "wails.localhost", "WAILS.localhost"} {
		if rec := windowCall(t, a, "GET", "/api/settings", host, nil, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), a.AccessKey()) {
			t.Errorf("window GET /api/settings (Host %s) = %d %s, want 200 with the settings", host, rec.Code, rec.Body)
		}
	}
	var sess map[string]bool
	rec := windowCall(t, a, "GET", "/api/session", "wails", nil, "")
	json.Unmarshal(rec.Body.Bytes(), &sess)
	if !sess["loggedIn"] || !sess["window"] {
		t.Errorf("window GET /api/session = %s, want logged in as the window", rec.Body)
	}
	same := map[string]string{"Origin": "wails://wails", "Content-Type": "application/json"}
	if rec := windowCall(t, a, "PATCH", "/api/settings", "wails", same, `{"theme":"dark"}`); rec.Code != http.StatusOK || a.Settings().Theme != "dark" {
		t.Errorf("window PATCH from its own origin = %d %s, want 200 and saved", rec.Code, rec.Body)
	}
	if rec := windowCall(t, a, "GET", "/index.html", "wails", nil, ""); rec.Code != http.StatusTeapot {
		t.Errorf("window GET /index.html = %d, want the asset handler's answer", rec.Code)
	}

	refused := []struct {
		name, host string
		hdr        map[string]string
	}{
		{"another host", "127.0.0.1:8321", nil},
		{"a host that only starts like the window's", "wails.example.com", nil},
		{"another origin", "wails", map[string]string{"Origin": "https://evil.example"}},
		{"a null origin", "wails", map[string]string{"Origin": "null"}},
		{"a cross-site fetch", "wails.localhost", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"a same-site fetch", "wails.localhost", map[string]string{"Sec-Fetch-Site": "same-site"}},
	}
	for _, c := range refused {
		for _, m := range []string{"GET", "POST"} {
			path := "/api/settings"
			if m == "POST" {
				path = "/api/keys/export-file"
			}
			if rec := windowCall(t, a, m, path, c.host, c.hdr, ""); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), a.AccessKey()) {
				t.Errorf("%s: window %s %s = %d %s, want 403", c.name, m, path, rec.Code, rec.Body)
			}
		}
	}

	// Over the network nothing is trusted: no login is a 401, and the
	// window-only route stays closed even to the admin token.
	for _, host := range []string{"", "wails"} {
		req, _ := http.NewRequest("GET", e.base+"/api/settings", nil)
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Errorf("GET /api/settings over the network with Host %q and no login = 200", host)
		}
	}
	e.mustCall(http.StatusForbidden, "POST", "/api/keys/export-file", "")
}

// TestWindowExportToFile: the window's export writes every usable key to
// a new 0600 file in Downloads without a save dialog, and to the path the
// dialog returns with one; a canceled dialog writes nothing.
func TestWindowExportToFile(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	keys := e.newKeys(3)
	if _, err := e.a.AddKeys(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	os.Mkdir(filepath.Join(home, "Downloads"), 0o700)
	export := func() string {
		t.Helper()
		rec := windowCall(t, e.a, "POST", "/api/keys/export-file", "wails", nil, "")
		var out struct{ Path string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("POST /api/keys/export-file = %d %s", rec.Code, rec.Body)
		}
		return out.Path
	}
	checkFile := func(path string) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("export file %s: %v, %v; want mode 0600", path, fi, err)
		}
		data, _ := os.ReadFile(path)
		lines := strings.Fields(string(data))
		sort.Strings(lines)
		want := slices.Clone(keys)
		sort.Strings(want)
		if !slices.Equal(lines, want) {
			t.Errorf("export file holds %d keys, want the %d stored", len(lines), len(keys))
		}
	}

	path := export()
	if filepath.Dir(path) != filepath.Join(home, "Downloads") {
		t.Errorf("export without a dialog wrote %s, want a file in %s", path, filepath.Join(home, "Downloads"))
	}
	checkFile(path)

	chosen := filepath.Join(t.TempDir(), "mine.txt")
	os.WriteFile(chosen, []byte("old"), 0o644) // the dialog asked before replacing it
	var asked string
	e.a.SetSaveDialog(func(_ context.Context, dir, name string) (string, error) {
		asked = filepath.Join(dir, name)
		return chosen, nil
	})
	if got := export(); got != chosen {
		t.Errorf("export with a dialog wrote %s, want %s", got, chosen)
	}
	if !strings.HasPrefix(filepath.Base(asked), "gemini-api-keys-") {
		t.Errorf("the dialog proposed %q, want a gemini-api-keys-… name", asked)
	}
	checkFile(chosen)

	e.a.SetSaveDialog(func(context.Context, string, string) (string, error) { return "", nil })
	if got := export(); got != "" {
		t.Errorf("export with a canceled dialog = %q, want \"\"", got)
	}
}

// TestOperationsNotifyAndBound: every face's key operations publish the
// status (a label change included, which the window's binding once did
// not), a delete drops the keys from the prune-undo list (which the
// window's binding once skipped), and an operation without a deadline of
// its own is bounded (tray actions pass context.Background()).
func TestOperationsNotifyAndBound(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	a := e.a
	keys := e.newKeys(2)
	e.fake.SetValidKeys(keys[1])
	updates, stop := a.Subscribe()
	defer stop()
	drain := func() {
		for {
			select {
			case <-updates:
			default:
				return
			}
		}
	}
	expectNotify := func(what string) {
		t.Helper()
		select {
		case <-updates:
		case <-time.After(5 * time.Second):
			t.Errorf("%s published no status", what)
		}
	}
	if _, err := a.AddKeys(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	expectNotify("AddKeys")
	id := apikey.ID(keys[0])
	drain()
	label := "mine"
	if _, err := a.UpdateKey(ctx, id, KeyChange{Label: &label}); err != nil {
		t.Fatal(err)
	}
	expectNotify("UpdateKey(label)")

	// keys[0] is unknown to the fake: the check finds it dead, prune
	// quarantines it, and a delete of it leaves nothing to undo.
	jobID, err := a.StartCheck(nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for j := a.CheckStatus(); j.ID != jobID || j.Running(); j = a.CheckStatus() {
		if time.Now().After(deadline) {
			t.Fatalf("check still running: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := a.PruneDead(ctx)
	if err != nil || len(res.IDs) != 1 {
		t.Fatalf("PruneDead() = %+v, %v; want one key", res, err)
	}
	drain()
	if _, err := a.DeleteKeys(ctx, res.IDs); err != nil {
		t.Fatal(err)
	}
	expectNotify("DeleteKeys")
	if _, err := a.RestoreLastPrune(ctx); err != ErrNothingToRestore {
		t.Errorf("RestoreLastPrune() after deleting the pruned key = %v, want ErrNothingToRestore", err)
	}

	bctx, cancel := bounded(context.Background())
	defer cancel()
	if dl, ok := bctx.Deadline(); !ok || time.Until(dl) > opTimeout {
		t.Errorf("bounded(Background) deadline = %v, %v; want within %v", dl, ok, opTimeout)
	}
	short, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	sctx, cancel3 := bounded(short)
	defer cancel3()
	if a, _ := short.Deadline(); func() bool { b, _ := sctx.Deadline(); return !a.Equal(b) }() {
		t.Errorf("bounded kept no caller deadline")
	}
}

// TestLogRowWithoutModelSaysWhatItWas: a request that names no model (the
// model list) is logged with its method, so its row is not a blank.
func TestLogRowWithoutModelSaysWhatItWas(t *testing.T) {
	e := newAPIEnv(t)
	e.add(e.newKeys(1)...)
	for _, path := range []string{"/v1beta/models", "/v1beta/models/gemini-2.5-flash:countTokens"} {
		method, body := "GET", ""
		if strings.HasSuffix(path, "countTokens") {
			method, body = "POST", `{"contents":[{"parts":[{"text":"hi"}]}]}`
		}
		req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
		req.Header.Set("x-goog-api-key", e.a.AccessKey())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	var log struct {
		Entries []map[string]any
		Total   int
	}
	waitFor(t, "the recorder to store 2 requests", func() bool {
		e.mustCall(http.StatusOK, "GET", "/api/log", nil).json(t, &log)
		return log.Total >= 2
	})
	routes := map[string]string{}
	for _, en := range log.Entries {
		routes[fmt.Sprint(en["route"])] = fmt.Sprint(en["model"])
	}
	if m, ok := routes["native list"]; !ok || m != "" {
		t.Errorf("request log routes = %v, want the model list as \"native list\" (no model)", routes)
	}
	if m, ok := routes["native"]; !ok || m != "gemini-2.5-flash" {
		t.Errorf("request log routes = %v, want countTokens as \"native\" with its model", routes)
	}
}

// TestErrorAnswersNameTheField: a refused request says which field is at
// fault in "field" (the UI marks that field from it, not from the text):
// the settings' own checks, the proxy config's (through
// proxy.Config.Normalize, validated once), JSON type errors, unknown
// fields, query parameters and key lists.
func TestErrorAnswersNameTheField(t *testing.T) {
	e := newAPIEnv(t)
	cases := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"PATCH", "/api/settings", `{"port": 70000}`, 400, "port"},
		{"PATCH", "/api/settings", `{"theme": "pink"}`, 400, "theme"},
		{"PATCH", "/api/settings", `{"upstream": "ftp://example.com"}`, 400, "upstream"},
		{"PATCH", "/api/settings", `{"upstreamProxy": "gopher://x:1"}`, 400, "upstreamProxy"},
		{"PATCH", "/api/settings", `{"maxAttempts": 99}`, 400, "maxAttempts"},
		{"PATCH", "/api/settings", `{"port": "8321"}`, 400, "port"},
		{"PATCH", "/api/settings", `{"bogus": 1}`, 400, "bogus"},
		{"GET", "/api/keys?sort=nonsense", nil, 400, "sort"},
		{"GET", "/api/log?limit=0", nil, 400, "limit"},
		{"GET", "/api/stats?by=nonsense", nil, 400, "by"},
		{"DELETE", "/api/keys", `{"ids": ["not-an-id"]}`, 400, "ids"},
		{"POST", "/api/keys/bulk", `{"text": "no keys here"}`, 400, "text"},
	}
	for _, c := range cases {
		r := e.call(c.method, c.path, c.body)
		var ans struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		json.Unmarshal(r.body, &ans)
		if r.code != c.status || ans.Field != c.field || ans.Error == "" {
			t.Errorf("%s %s %v = %d %s, want %d with field %q", c.method, c.path, c.body, r.code, r.body, c.status, c.field)
		}
	}
	if s := e.a.Settings(); s.Port == 70000 || s.Theme == "pink" || s.MaxAttempts == 99 {
		t.Errorf("a refused setting was saved: %+v", s)
	}
}
