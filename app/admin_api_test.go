package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// apiEnv is a started App (real SQLite file, encrypted file keychain, real
// listener) whose upstream is the fake Gemini server.
type apiEnv struct {
	t    *testing.T
	a    *App
	fake *proxytest.Server
	base string
	logs *lockedBuffer
	keys []string // every raw key the test made: none may reach a log
	rnd  *rand.Rand
	pw   string // the admin password (the app keeps only its hash)
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// apiKeyAlphabet is what follows "AIza" in a Gemini key.
const apiKeyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	return newAPIEnvAddr(t, "127.0.0.1:0")
}

// newAPIEnvAddr starts an App; addr "" keeps the address of the settings
// (so that a port change moves the listener).
func newAPIEnvAddr(t *testing.T, addr string) *apiEnv {
	t.Helper()
	fake := proxytest.New(t)
	logs := &lockedBuffer{}
	port := 0
	if addr == "" {
		port = freePort(t)
	}
	a, pw := startApp(t, Options{
		DataDir: t.TempDir(), SecretStore: "file", Passphrase: "pw", Addr: addr, hashLogN: testHashLogN,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, fake.URL(), port)
	e := &apiEnv{t: t, a: a, fake: fake, base: "http://" + a.server.Addr(), logs: logs,
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), pw: pw}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		out := logs.String()
		for _, k := range e.keys {
			if strings.Contains(out, k) {
				t.Errorf("a raw key %s reached the log", apikey.Mask(k))
			}
		}
	})
	return e
}

// startApp makes an App with opts, points it at upstream (and at port when
// not 0), sets an admin password and starts it. It returns the App, for the
// caller to close, and the admin password.
func startApp(t *testing.T, opts Options, upstream string, port int) (*App, string) {
	t.Helper()
	ctx := context.Background()
	a, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(err error) {
		t.Helper()
		a.Close()
		t.Fatal(err)
	}
	s := a.Settings()
	s.Upstream = upstream
	if port != 0 {
		s.Port = port
	}
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		fail(err)
	}
	pw, err := a.ResetAdminPassword(ctx)
	if err != nil {
		fail(err)
	}
	if err := a.Start(ctx); err != nil {
		fail(err)
	}
	return a, pw
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newKeys makes n distinct keys of the real shape.
func (e *apiEnv) newKeys(n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		b := []byte("AIza")
		for range 35 {
			b = append(b, apiKeyAlphabet[e.rnd.IntN(len(apiKeyAlphabet))])
		}
		out = append(out, string(b))
	}
	e.keys = append(e.keys, out...)
	return out
}

// resp is an answer of the API.
type resp struct {
	code   int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %q is not the JSON expected: %v", r.code, r.body, err)
	}
}

// errText returns the "error" of an error answer.
func (r resp) errText() string {
	var e struct{ Error string }
	json.Unmarshal(r.body, &e)
	return e.Error
}

// call sends a request with the admin password as Bearer token. body is
// JSON-encoded unless it is a string or []byte (sent as is).
func (e *apiEnv) call(method, path string, body any) resp {
	e.t.Helper()
	return e.send(method, path, body, map[string]string{"Authorization": "Bearer " + e.pw}, nil)
}

func (e *apiEnv) send(method, path string, body any, hdr map[string]string, client *http.Client) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// mustCall is call that fails the test unless the status is want.
func (e *apiEnv) mustCall(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.call(method, path, body)
	if r.code != want {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, r.code, r.body, want)
	}
	e.noRawKeys(r, method+" "+path)
	return r
}

// noRawKeys fails if an answer holds a raw key.
func (e *apiEnv) noRawKeys(r resp, what string) {
	e.t.Helper()
	for _, k := range e.keys {
		if bytes.Contains(r.body, []byte(k)) {
			e.t.Fatalf("%s: the answer holds the raw key %s", what, apikey.Mask(k))
		}
	}
}

// add stores keys through the seed's POST /api/keys.
func (e *apiEnv) add(keys ...string) {
	e.t.Helper()
	r := e.mustCall(http.StatusOK, "POST", "/api/keys", map[string]any{"keys": keys})
	var ans addAnswer
	r.json(e.t, &ans)
	if ans.Added+ans.Existing != len(keys) {
		e.t.Fatalf("POST /api/keys = %s, want %d keys stored", r.body, len(keys))
	}
}

// total returns how many keys are listed (all statuses but transient).
func (e *apiEnv) total() int {
	e.t.Helper()
	var l struct{ Total int }
	e.mustCall(http.StatusOK, "GET", "/api/keys", nil).json(e.t, &l)
	return l.Total
}

// waitFor polls cond until it holds (the machine is slow: no timing is
// asserted, the deadline only stops a hung test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiRoutesForAuth lists every management route with a body that would be
// accepted.
var apiRoutesForAuth = []struct{ method, path, body string }{
	{"GET", "/api/keys", ""},
	{"POST", "/api/keys", `{"keys":["AIzaSyA-1234567890abcdefghijklmnopqrstu"]}`},
	{"DELETE", "/api/keys", `{"keys":["k0123456789abcdef"]}`},
	{"GET", "/api/keys/k0123456789abcdef", ""},
	{"PATCH", "/api/keys/k0123456789abcdef", `{"label":"x"}`},
	{"POST", "/api/keys/k0123456789abcdef/reveal", ""},
	{"GET", "/api/keys/check", ""},
	{"POST", "/api/keys/check", "{}"},
	{"DELETE", "/api/keys/check", ""},
	{"POST", "/api/keys/bulk", `{"text":"x"}`},
	{"POST", "/api/keys/import", "x"},
	{"POST", "/api/keys/export", ""},
	{"POST", "/api/keys/prune", ""},
	{"POST", "/api/keys/restore", `{"all":true}`},
	{"POST", "/api/keys/purge", ""},
	{"GET", "/api/stats", ""},
	{"GET", "/api/stats/series", ""},
	{"GET", "/api/stats/today", ""},
	{"GET", "/api/log", ""},
	{"DELETE", "/api/log", ""},
	{"GET", "/api/pool", ""},
	{"GET", "/api/settings", ""},
	{"PUT", "/api/settings", "{}"},
	{"PATCH", "/api/settings", `{"theme":"dark"}`},
	{"POST", "/api/settings/access-key", ""},
	{"POST", "/api/settings/admin-password", ""},
}

func TestAdminAPIAuth(t *testing.T) {
	e := newAPIEnv(t)
	before := e.a.Settings()
	for _, rt := range apiRoutesForAuth {
		for name, hdr := range map[string]map[string]string{
			"no credentials":  nil,
			"wrong Bearer":    {"Authorization": "Bearer not-the-password"},
			"empty Bearer":    {"Authorization": "Bearer "},
			"unknown session": {"Cookie": sessionCookie + "=deadbeef", "Origin": e.base},
			"password cookie": {"Cookie": sessionCookie + "=" + e.pw, "Origin": e.base},
		} {
			e.a.throttle.reset() // TestAdminPasswordThrottle covers the throttle
			r := e.send(rt.method, rt.path, rt.body, hdr, nil)
			if r.code != http.StatusUnauthorized || r.errText() == "" {
				t.Errorf("%s %s with %s = %d %s, want 401 with an error", rt.method, rt.path, name, r.code, r.body)
			}
		}
	}
	if e.a.Settings().AccessKey != before.AccessKey || e.a.Settings().AdminPassword != before.AdminPassword {
		t.Fatal("an unauthenticated request changed the settings")
	}

	// The browser flow: login sets an HttpOnly, SameSite=Strict cookie that
	// is not the password; changes need the same origin.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	same := map[string]string{"Origin": e.base}
	e.a.throttle.reset()
	if r := e.send("POST", "/api/login", `{"password":"wrong-password"}`, same, browser); r.code != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password = %d %s, want 401", r.code, r.body)
	}
	e.a.throttle.reset()
	if r := e.send("POST", "/api/login", map[string]string{"password": e.pw}, map[string]string{"Origin": "http://evil.example"}, browser); r.code != http.StatusForbidden {
		t.Fatalf("cross-site login = %d %s, want 403", r.code, r.body)
	}
	r := e.send("POST", "/api/login", map[string]string{"password": e.pw}, same, browser)
	if r.code != http.StatusOK {
		t.Fatalf("login = %d %s, want 200", r.code, r.body)
	}
	set := r.header.Get("Set-Cookie")
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") || strings.Contains(set, e.pw) {
		t.Fatalf("login cookie = %q, want HttpOnly, SameSite=Strict, without the password", set)
	}
	if r := e.send("GET", "/api/keys", nil, nil, browser); r.code != http.StatusOK {
		t.Fatalf("GET /api/keys with the session = %d %s, want 200", r.code, r.body)
	}
	k := e.newKeys(1)
	body := map[string]any{"keys": k}
	for name, hdr := range map[string]map[string]string{
		"foreign Origin":        {"Origin": "http://evil.example"},
		"foreign Referer":       {"Referer": "http://evil.example/page"},
		"Sec-Fetch-Site":        {"Sec-Fetch-Site": "cross-site", "Origin": e.base},
		"no Origin, no Referer": nil,
	} {
		if r := e.send("POST", "/api/keys", body, hdr, browser); r.code != http.StatusForbidden {
			t.Errorf("cross-site POST /api/keys (%s) = %d %s, want 403", name, r.code, r.body)
		}
	}
	if n := e.total(); n != 0 {
		t.Fatalf("after refused cross-site adds, %d keys are stored, want 0", n)
	}
	if r := e.send("POST", "/api/keys", body, same, browser); r.code != http.StatusOK {
		t.Fatalf("same-origin POST /api/keys with the session = %d %s, want 200", r.code, r.body)
	}
	if r := e.send("POST", "/api/logout", nil, same, browser); r.code != http.StatusOK {
		t.Fatalf("logout = %d", r.code)
	}
	if r := e.send("GET", "/api/keys", nil, nil, browser); r.code != http.StatusUnauthorized {
		t.Fatalf("GET /api/keys after logout = %d, want 401", r.code)
	}
}

func TestAdminAPIMethodNotAllowed(t *testing.T) {
	e := newAPIEnv(t)
	r := e.call("PUT", "/api/keys", "{}")
	if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST, DELETE" {
		t.Fatalf("PUT /api/keys = %d Allow %q %s, want 405 Allow \"GET, POST, DELETE\"", r.code, r.header.Get("Allow"), r.body)
	}
	if r := e.call("DELETE", "/api/settings", nil); r.code != http.StatusMethodNotAllowed || !strings.Contains(r.errText(), "PATCH") {
		t.Fatalf("DELETE /api/settings = %d %s, want 405 naming PATCH", r.code, r.body)
	}
	if r := e.call("GET", "/api/nope", nil); r.code != http.StatusNotFound {
		t.Fatalf("GET /api/nope = %d, want 404", r.code)
	}
}

func TestAdminAPISeedShapes(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(3)
	r := e.mustCall(http.StatusOK, "POST", "/api/keys", map[string]any{"keys": keys})
	var added struct {
		Message string
		Added   int
		IDs     []string
	}
	r.json(t, &added)
	if added.Message == "" || added.Added != 3 || len(added.IDs) != 3 {
		t.Fatalf("POST /api/keys = %s, want a message and 3 added", r.body)
	}
	// Adding again: nothing new, still 200 (the seed's INSERT OR IGNORE).
	r = e.mustCall(http.StatusOK, "POST", "/api/keys", map[string]any{"keys": keys[:1]})
	var again addAnswer
	r.json(t, &again)
	if again.Added != 0 || again.Existing != 1 {
		t.Fatalf("POST /api/keys (again) = %s, want 0 added, 1 existing", r.body)
	}

	// GET /api/keys: the seed's fields (masked), ours, and the total.
	r = e.mustCall(http.StatusOK, "GET", "/api/keys", nil)
	var list struct {
		Keys  []map[string]any
		Total int
	}
	r.json(t, &list)
	if list.Total != 3 || len(list.Keys) != 3 {
		t.Fatalf("GET /api/keys = %s, want 3 keys", r.body)
	}
	masked := map[string]string{}
	for _, k := range keys {
		masked[apikey.ID(k)] = apikey.Mask(k)
	}
	for i, k := range list.Keys {
		if id, _ := k["id"].(string); k["api_key"] != masked[id] || k["key_group"] != "normal" || k["last_checked_at"] != nil ||
			k["failed_count"] != float64(0) || k["status"] != "active" {
			t.Errorf("GET /api/keys entry %d = %v, want the seed's fields with the masked key", i, k)
		}
	}
	// The seed's page/pageSize.
	var page struct {
		Keys          []map[string]any
		Offset, Limit int
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys?page=2&pageSize=2", nil).json(t, &page)
	if len(page.Keys) != 1 || page.Offset != 2 || page.Limit != 2 || page.Keys[0]["id"] != list.Keys[2]["id"] {
		t.Fatalf("GET /api/keys?page=2&pageSize=2 = %+v, want the third key", page)
	}

	// DELETE /api/keys: raw keys (the seed) and ids (ours), unknown ones
	// counted.
	unknown := e.newKeys(1)[0]
	r = e.mustCall(http.StatusOK, "DELETE", "/api/keys", map[string]any{"keys": []string{keys[0], apikey.ID(keys[1]), unknown}})
	var del struct {
		Message           string
		Deleted, NotFound int
	}
	r.json(t, &del)
	if del.Message == "" || del.Deleted != 2 || del.NotFound != 1 {
		t.Fatalf("DELETE /api/keys = %s, want 2 deleted, 1 not found", r.body)
	}
	if n := e.total(); n != 1 {
		t.Fatalf("after DELETE, %d keys listed, want 1", n)
	}
	if c := e.a.pool.Counts(); c.Total != 1 {
		t.Fatalf("pool after DELETE = %+v, want 1 key", c)
	}
}

func TestAdminAPIBadInput(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(2)
	e.add(keys[0])
	id := apikey.ID(keys[0])
	hundredK := make([]string, 100_000)
	for i := range hundredK {
		hundredK[i] = keys[1]
	}
	var huge strings.Builder
	for range 60_000 {
		huge.WriteString(e.newKeys(1)[0])
		huge.WriteByte('\n')
	}
	cases := []struct {
		name, method, path string
		body               any
		want               int
		msg                string // part of the error text
	}{
		{"malformed JSON", "POST", "/api/keys", `{"keys": [`, 400, "JSON"},
		{"not JSON", "POST", "/api/keys", `keys=AIza`, 400, "JSON"},
		{"empty body", "POST", "/api/keys", "", 400, "empty"},
		{"trailing data", "POST", "/api/keys", `{"keys":["` + keys[1] + `"]} {}`, 400, "after"},
		{"wrong type", "POST", "/api/keys", `{"keys": "` + keys[1] + `"}`, 400, "keys"},
		{"wrong element type", "POST", "/api/keys", `{"keys": [1, 2]}`, 400, "keys"},
		{"unknown field", "POST", "/api/keys", `{"keys":["` + keys[1] + `"], "force": true}`, 400, "force"},
		{"missing list", "POST", "/api/keys", `{}`, 400, "required"},
		{"null list", "POST", "/api/keys", `{"keys": null}`, 400, "required"},
		{"empty list", "POST", "/api/keys", `{"keys": []}`, 400, "empty"},
		{"not a key", "POST", "/api/keys", map[string]any{"keys": []string{keys[1], "hello"}}, 400, "not usable"},
		{"masked key", "POST", "/api/keys", map[string]any{"keys": []string{apikey.Mask(keys[1])}}, 400, "not usable"},
		{"100,000 keys", "POST", "/api/keys", map[string]any{"keys": hundredK}, 400, "50000"},
		{"bulk: 60,000 keys", "POST", "/api/keys/bulk", map[string]any{"text": huge.String()}, 400, "50000"},
		{"bulk: no text", "POST", "/api/keys/bulk", `{}`, 400, "required"},
		{"bulk: blank", "POST", "/api/keys/bulk", `{"text": "  \n "}`, 400, "empty"},
		{"bulk: no key", "POST", "/api/keys/bulk", `{"text": "hello world"}`, 400, "no API key"},
		{"bulk: only broken keys", "POST", "/api/keys/bulk", map[string]any{"text": keys[1][:30]}, 400, "broken"},
		{"bulk: text not a string", "POST", "/api/keys/bulk", `{"text": ["a"]}`, 400, "text"},
		{"delete: empty", "DELETE", "/api/keys", `{"keys": []}`, 400, "empty"},
		{"delete: both lists", "DELETE", "/api/keys", map[string]any{"keys": []string{keys[0]}, "ids": []string{id}}, 400, "not both"},
		{"delete: junk entry", "DELETE", "/api/keys", map[string]any{"keys": []string{keys[0], "junk"}}, 400, "not usable"},
		{"delete: 100,000", "DELETE", "/api/keys", map[string]any{"keys": hundredK}, 400, "50000"},
		{"check: unknown id", "POST", "/api/keys/check", map[string]any{"ids": []string{id, "kffffffffffffffff"}}, 400, "not stored"},
		{"check: empty ids", "POST", "/api/keys/check", `{"ids": []}`, 400, "empty"},
		{"check: both", "POST", "/api/keys/check", map[string]any{"ids": []string{id}, "keys": []string{keys[0]}}, 400, "not both"},
		{"check: unknown field", "POST", "/api/keys/check", `{"all": true}`, 400, "all"},
		{"restore: junk", "POST", "/api/keys/restore", `{"ids": ["../etc"]}`, 400, "not usable"},
		{"restore: both", "POST", "/api/keys/restore", map[string]any{"ids": []string{id}, "all": true}, 400, "not both"},
		{"patch key: nothing", "PATCH", "/api/keys/" + id, `{}`, 400, "nothing"},
		{"patch key: wrong type", "PATCH", "/api/keys/" + id, `{"enabled": "yes"}`, 400, "enabled"},
		{"patch key: long label", "PATCH", "/api/keys/" + id, map[string]string{"label": strings.Repeat("x", 201)}, 400, "too long"},
		{"patch key: unknown", "PATCH", "/api/keys/kffffffffffffffff", `{"label": "x"}`, 404, "no such key"},
		{"reveal: unknown", "POST", "/api/keys/kffffffffffffffff/reveal", "", 404, "no such key"},
		{"reveal: body", "POST", "/api/keys/" + id + "/reveal", `{"id": 1}`, 400, "id"},
		{"export: body", "POST", "/api/keys/export", `{"all": true}`, 400, "all"},
		{"list: bad status", "GET", "/api/keys?status=happy", nil, 400, "status"},
		{"list: bad sort", "GET", "/api/keys?sort=secret", nil, 400, "sort"},
		{"list: bad desc", "GET", "/api/keys?desc=maybe", nil, 400, "desc"},
		{"list: limit over 1000", "GET", "/api/keys?limit=1001", nil, 400, "1000"},
		{"list: negative offset", "GET", "/api/keys?offset=-1", nil, 400, "offset"},
		{"list: page 0", "GET", "/api/keys?page=0", nil, 400, "page"},
		{"stats: bad since", "GET", "/api/stats?since=yesterday", nil, 400, "since"},
		{"stats: negative since", "GET", "/api/stats?since=-5h", nil, 400, "positive"},
		{"stats: bad by", "GET", "/api/stats?by=color", nil, 400, "by"},
		{"series: bad resolution", "GET", "/api/stats/series?resolution=second", nil, 400, "resolution"},
		{"series: too long", "GET", "/api/stats/series?resolution=minute&since=3d", nil, 400, "at most"},
		{"series: raw key", "GET", "/api/stats/series?key=" + keys[0], nil, 400, "key id"},
		{"series: until before since", "GET", "/api/stats/series?since=1h&until=2001-01-01T00:00:00Z", nil, 400, "after"},
		{"log: limit", "GET", "/api/log?limit=5000", nil, 400, "limit"},
		{"log: raw key", "GET", "/api/log?key=" + keys[0], nil, 400, "key id"},
		{"settings: not an object", "PATCH", "/api/settings", `[1]`, 400, "object"},
		{"settings: nothing", "PATCH", "/api/settings", `{}`, 400, "nothing"},
		{"settings: unknown field", "PATCH", "/api/settings", `{"colour": "red"}`, 400, "colour"},
		{"settings: wrong type", "PATCH", "/api/settings", `{"port": "8080"}`, 400, "port"},
		{"settings: invalid port", "PATCH", "/api/settings", `{"port": 70000}`, 400, "port 70000"},
		{"settings: invalid strategy", "PATCH", "/api/settings", `{"strategy": "fastest", "theme": "dark"}`, 400, "strategy"},
		{"settings: short password", "PATCH", "/api/settings", `{"adminPassword": "short"}`, 400, "admin password"},
		{"settings: upstream timeout", "PATCH", "/api/settings", `{"upstreamTimeoutSec": 1}`, 400, "upstream timeout"},
		{"settings: stream idle timeout", "PATCH", "/api/settings", `{"streamIdleTimeoutSec": 99999}`, 400, "stream idle timeout"},
		{"settings: image fetch host", "PATCH", "/api/settings", `{"imageFetchAllowHosts": ["http://nas.lan"]}`, 400, "image fetch allowed host"},
		{"settings: partial PUT", "PUT", "/api/settings", `{"port": 8080}`, 400, "missing"},
		{"settings: body on regenerate", "POST", "/api/settings/access-key", `{"length": 40}`, 400, "length"},
		{"import: JSON", "POST", "/api/keys/import", `{"text": "x"}`, 415, "bulk"},
	}
	settings := e.a.Settings()
	for _, c := range cases {
		r := e.call(c.method, c.path, c.body)
		if r.code != c.want || !strings.Contains(r.errText(), c.msg) {
			t.Errorf("%s: %s %s = %d %.300s, want %d with %q", c.name, c.method, c.path, r.code, r.body, c.want, c.msg)
		}
		e.noRawKeys(r, c.name)
	}
	// Nothing was applied.
	if n := e.total(); n != 1 {
		t.Errorf("after bad requests, %d keys are stored, want 1", n)
	}
	if k, _ := e.a.vault.Get(context.Background(), id); k.Label != "" || k.Status != "active" {
		t.Errorf("after bad requests the key is %+v, want unchanged", k)
	}
	if after := e.a.Settings(); mustJSON(t, after) != mustJSON(t, settings) {
		t.Errorf("after bad requests the settings are %+v, want unchanged %+v", after, settings)
	}
	if j := e.a.CheckStatus(); j.State != CheckIdle {
		t.Errorf("after bad check requests the check job is %+v, want idle", j)
	}
	// The body cap (16 MiB) is a 413.
	big := `{"text": "` + strings.Repeat("a", maxAPIBody) + `"}`
	if r := e.call("POST", "/api/keys/bulk", big); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /api/keys/bulk with %d bytes = %d %s, want 413", len(big), r.code, r.body)
	}
}

func TestAdminAPIListFilterSortPage(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(12)
	e.add(keys...)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = apikey.ID(k)
	}
	for i := range 4 {
		e.mustCall(http.StatusOK, "PATCH", "/api/keys/"+ids[i], map[string]any{"enabled": false, "label": fmt.Sprintf("label-%02d", i)})
	}
	var l struct {
		Keys   []vault.KeyInfo
		Total  int
		Counts map[string]int
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys?status=disabled&sort=label&desc=true", nil).json(t, &l)
	if l.Total != 4 || len(l.Keys) != 4 || l.Keys[0].Label != "label-03" || l.Keys[3].Label != "label-00" || l.Counts["disabled"] != 4 || l.Counts["active"] != 8 {
		t.Fatalf("GET ?status=disabled&sort=label&desc=true = %+v, want the 4 disabled keys, label descending, counts", l)
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys?status=active,disabled&limit=5&offset=10", nil).json(t, &l)
	if l.Total != 12 || len(l.Keys) != 2 {
		t.Fatalf("GET ?status=active,disabled&limit=5&offset=10 = %d keys of %d, want 2 of 12", len(l.Keys), l.Total)
	}
	// Search by the last characters, beyond the 4 of the preview.
	suffix := keys[7][len(keys[7])-7:]
	e.mustCall(http.StatusOK, "GET", "/api/keys?search="+suffix, nil).json(t, &l)
	if l.Total != 1 || l.Keys[0].ID != ids[7] {
		t.Fatalf("GET ?search=<last 7 characters> = %+v, want key 7", l)
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys?search=label-01", nil).json(t, &l)
	if l.Total != 1 || l.Keys[0].ID != ids[1] {
		t.Fatalf("GET ?search=label-01 = %+v, want key 1", l)
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys?status=dead", nil).json(t, &l)
	if l.Total != 0 {
		t.Fatalf("GET ?status=dead = %d keys, want 0", l.Total)
	}
	var one vault.KeyInfo
	e.mustCall(http.StatusOK, "GET", "/api/keys/"+ids[2], nil).json(t, &one)
	if one.ID != ids[2] || one.Status != "disabled" || one.Preview != apikey.Mask(keys[2]) {
		t.Fatalf("GET /api/keys/{id} = %+v, want key 2, disabled, masked", one)
	}
	// Re-enable with PATCH; the pool follows.
	e.mustCall(http.StatusOK, "PATCH", "/api/keys/"+ids[0], map[string]any{"enabled": true})
	if c := e.a.pool.Counts(); c.Active != 9 || c.Disabled != 3 {
		t.Fatalf("pool after PATCH enabled = %+v, want 9 active, 3 disabled", c)
	}
}

func TestAdminAPIBulkImportExportReveal(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(6)
	text := "# my keys\nGEMINI_API_KEY=" + keys[0] + "\n\"" + keys[1] + "\", '" + keys[2] + "'\n" + keys[0] + "\nAIzaTooShort123\n"
	r := e.mustCall(http.StatusOK, "POST", "/api/keys/bulk", map[string]string{"text": text})
	var ans struct {
		Message                     string
		Added, Existing, Duplicates int
		Malformed                   []map[string]any
		IDs                         []string
	}
	r.json(t, &ans)
	if ans.Added != 3 || ans.Duplicates != 1 || len(ans.Malformed) != 1 || ans.Malformed[0]["line"] != float64(5) || ans.Malformed[0]["reason"] == "" {
		t.Fatalf("POST /api/keys/bulk = %s, want 3 added, 1 duplicate, 1 malformed on line 5", r.body)
	}

	// Import: multipart upload and a text/plain body.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "keys.txt")
	fmt.Fprintf(fw, "%s\n%s\n", keys[2], keys[3])
	mw.Close()
	hdr := map[string]string{"Authorization": "Bearer " + e.pw, "Content-Type": mw.FormDataContentType()}
	r = e.send("POST", "/api/keys/import", buf.Bytes(), hdr, nil)
	r.json(t, &ans)
	if r.code != http.StatusOK || ans.Added != 1 || ans.Existing != 1 {
		t.Fatalf("POST /api/keys/import (multipart) = %d %s, want 1 added, 1 existing", r.code, r.body)
	}
	hdr["Content-Type"] = "text/plain; charset=utf-8"
	r = e.send("POST", "/api/keys/import", keys[4]+","+keys[5], hdr, nil)
	r.json(t, &ans)
	if r.code != http.StatusOK || ans.Added != 2 {
		t.Fatalf("POST /api/keys/import (text/plain) = %d %s, want 2 added", r.code, r.body)
	}
	if r := e.send("POST", "/api/keys/import", "AIza\x00\x01binary", hdr, nil); r.code != http.StatusBadRequest {
		t.Fatalf("POST /api/keys/import (binary) = %d %s, want 400", r.code, r.body)
	}
	mw = multipart.NewWriter(&buf)
	buf.Reset()
	mw.WriteField("note", "no file here")
	mw.Close()
	hdr["Content-Type"] = mw.FormDataContentType()
	if r := e.send("POST", "/api/keys/import", buf.Bytes(), hdr, nil); r.code != http.StatusBadRequest || !strings.Contains(r.errText(), "file") {
		t.Fatalf("POST /api/keys/import (form without a file) = %d %s, want 400", r.code, r.body)
	}

	// Export: every key, as an attachment with a warning.
	r = e.call("POST", "/api/keys/export", nil)
	if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment; filename=") || r.header.Get("X-Warning") == "" ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /api/keys/export = %d %v, want text/plain attachment with a warning", r.code, r.header)
	}
	got := strings.Fields(string(r.body))
	if len(got) != 6 {
		t.Fatalf("export has %d lines, want 6", len(got))
	}
	for _, k := range keys {
		if !strings.Contains(string(r.body), k) {
			t.Fatalf("export lacks key %s", apikey.Mask(k))
		}
	}
	if r := e.call("GET", "/api/keys/export", nil); r.code == http.StatusOK {
		t.Fatal("GET /api/keys/export answered: export must be an explicit POST")
	}

	// Reveal one key.
	var rev struct{ ID, Key, Preview string }
	r = e.call("POST", "/api/keys/"+apikey.ID(keys[3])+"/reveal", nil)
	r.json(t, &rev)
	if r.code != http.StatusOK || rev.Key != keys[3] || rev.Preview != apikey.Mask(keys[3]) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal = %d, key match %v, want the raw key, not cached", r.code, rev.Key == keys[3])
	}
}

// checkCases scripts one key per result class.
var checkCases = []struct {
	step   func() proxytest.Step
	result vault.CheckResult
	status string
}{
	{nil, vault.ResultOK, "active"},
	{proxytest.InvalidKey, vault.ResultInvalid, "invalid"},
	{proxytest.ExpiredKey, vault.ResultExpired, "expired"},
	{proxytest.Disabled, vault.ResultDenied, "denied"},
	{func() proxytest.Step { return proxytest.RateLimited("30s") }, vault.ResultRateLimited, "active"},
	{proxytest.DailyQuota, vault.ResultRateLimited, "active"},
	{proxytest.RegionRefused, vault.ResultRegion, "active"},
	{proxytest.Unavailable, vault.ResultNetwork, "active"},
	{proxytest.Internal, vault.ResultNetwork, "active"},
}

func (e *apiEnv) scriptClasses(keys []string) {
	for i, c := range checkCases {
		if c.step != nil {
			e.fake.Script(keys[i], c.step())
		}
	}
}

func TestAdminAPICheckJob(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(len(checkCases))
	e.add(keys...)
	e.scriptClasses(keys)
	updates, stop := e.a.Subscribe()
	defer stop()

	var idle checkAnswer
	e.mustCall(http.StatusOK, "GET", "/api/keys/check", nil).json(t, &idle)
	if idle.State != CheckIdle {
		t.Fatalf("GET /api/keys/check before any check = %+v, want idle", idle)
	}
	var started checkAnswer
	e.mustCall(http.StatusAccepted, "POST", "/api/keys/check", nil).json(t, &started)
	if started.ID == "" || started.State != CheckRunning {
		t.Fatalf("POST /api/keys/check = %+v, want a running job with an id", started)
	}
	var job checkAnswer
	waitFor(t, "the check to finish", func() bool {
		e.mustCall(http.StatusOK, "GET", "/api/keys/check?results=true", nil).json(t, &job)
		return job.State != CheckRunning
	})
	if job.ID != started.ID || job.State != CheckDone || job.Done != len(keys) || job.Total != len(keys) || len(job.Results) != len(keys) {
		t.Fatalf("finished job = %+v, want %s done with %d results", job.CheckJob, started.ID, len(keys))
	}
	byID := map[string]apiOutcome{}
	for _, o := range job.Results {
		byID[o.ID] = o
	}
	for i, c := range checkCases {
		o := byID[apikey.ID(keys[i])]
		if o.Result != c.result || o.Status != c.status || o.Preview != apikey.Mask(keys[i]) {
			t.Errorf("case %d: outcome %+v, want %s, status %s, masked preview", i, o, c.result, c.status)
		}
	}
	// Subscribers saw the job finish.
	waitFor(t, "a status update with the finished check", func() bool {
		select {
		case s := <-updates:
			return s.Check.ID == started.ID && s.Check.State == CheckDone
		default:
			return false
		}
	})
	if c := e.a.pool.Counts(); c.Disabled != 3 {
		t.Fatalf("pool after the check = %+v, want the 3 dead keys disabled", c)
	}

	// A selection, waiting for the answer; keys may be raw keys too.
	e.fake.Script(keys[0], proxytest.InvalidKey())
	var sel checkAnswer
	e.mustCall(http.StatusOK, "POST", "/api/keys/check", map[string]any{"ids": []string{keys[0], apikey.ID(keys[1])}, "wait": true}).json(t, &sel)
	if sel.State != CheckDone || sel.Total != 2 || len(sel.Results) != 2 || sel.ByResult[vault.ResultInvalid] != 1 || sel.ByResult[vault.ResultOK] != 1 {
		t.Fatalf("POST /api/keys/check {ids, wait} = %+v, want 2 done: 1 invalid (scripted), 1 ok (revived)", sel)
	}

	// The seed's shape: {"keys": [...]} answers [{key, valid, error}] in
	// order; a key that is not stored is reported, not checked; no key is
	// deleted.
	stranger := e.newKeys(1)[0]
	e.fake.Script(keys[2], proxytest.ExpiredKey())
	e.fake.Script(keys[4], proxytest.RateLimited("10s"))
	r := e.mustCall(http.StatusOK, "POST", "/api/keys/check", map[string]any{"keys": []string{keys[2], keys[3], stranger, keys[4]}})
	var seed []seedOutcome
	r.json(t, &seed)
	if len(seed) != 4 {
		t.Fatalf("seed check = %s, want 4 entries", r.body)
	}
	want := []struct {
		valid  bool
		result vault.CheckResult
	}{{false, vault.ResultExpired}, {true, vault.ResultOK}, {false, resultNotStored}, {true, vault.ResultRateLimited}}
	for i, w := range want {
		s := seed[i]
		if s.Valid != w.valid || s.Result != w.result || (s.Error == nil) != w.valid || !strings.Contains(s.Key, "…") {
			t.Errorf("seed check entry %d = %+v (error %v), want valid %v result %s, masked key", i, s, s.Error, w.valid, w.result)
		}
	}
	if n := e.total(); n != len(keys) {
		t.Fatalf("after the seed check %d keys are stored, want %d (checks never delete)", n, len(keys))
	}

	// One check at a time; cancel stops it.
	hang := e.newKeys(2)
	e.add(hang...)
	for _, k := range hang {
		e.fake.Script(k, proxytest.Hang())
	}
	e.mustCall(http.StatusAccepted, "POST", "/api/keys/check", map[string]any{"ids": hang}).json(t, &started)
	waitFor(t, "the hanging checks to reach the fake", func() bool { return e.fake.CountFor(hang[0]) > 0 && e.fake.CountFor(hang[1]) > 0 })
	if r := e.call("POST", "/api/keys/check", nil); r.code != http.StatusConflict || !strings.Contains(r.errText(), "already running") {
		t.Fatalf("POST /api/keys/check while one runs = %d %s, want 409", r.code, r.body)
	}
	if _, err := e.a.StartCheck(nil); err != ErrCheckRunning {
		t.Fatalf("StartCheck() while one runs = %v, want ErrCheckRunning", err)
	}
	var cancel struct {
		Canceled bool
		Check    CheckJob
	}
	e.mustCall(http.StatusOK, "DELETE", "/api/keys/check", nil).json(t, &cancel)
	if !cancel.Canceled || cancel.Check.ID != started.ID {
		t.Fatalf("DELETE /api/keys/check = %+v, want the running job canceled", cancel)
	}
	waitFor(t, "the canceled job to stop", func() bool {
		e.mustCall(http.StatusOK, "GET", "/api/keys/check", nil).json(t, &job)
		return job.State != CheckRunning
	})
	if job.State != CheckCanceled || job.FinishedAt.IsZero() {
		t.Fatalf("canceled job = %+v, want state canceled", job.CheckJob)
	}
	e.mustCall(http.StatusOK, "DELETE", "/api/keys/check", nil).json(t, &cancel)
	if cancel.Canceled {
		t.Fatal("DELETE /api/keys/check with nothing running says it canceled something")
	}
	for _, k := range hang {
		if info, _ := e.a.vault.Get(context.Background(), apikey.ID(k)); info.Status != "active" || info.LastResult != "" {
			t.Errorf("a key whose check was canceled is %+v, want untouched", info)
		}
	}
}

func TestAdminAPIPruneRestorePurge(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(len(checkCases))
	e.add(keys...)
	e.scriptClasses(keys)
	e.mustCall(http.StatusOK, "POST", "/api/keys/check", map[string]any{"wait": true})
	dead := map[string]bool{apikey.ID(keys[1]): true, apikey.ID(keys[2]): true, apikey.ID(keys[3]): true}

	var nothing struct{ Error string }
	if r := e.call("POST", "/api/keys/restore", nil); r.code != http.StatusConflict {
		t.Fatalf("restore before any prune = %d %s, want 409", r.code, r.body)
	} else {
		r.json(t, &nothing)
	}

	var pr vault.PruneResult
	e.mustCall(http.StatusOK, "POST", "/api/keys/prune", nil).json(t, &pr)
	if pr.Quarantined != 3 || len(pr.IDs) != 3 || pr.Until.IsZero() {
		t.Fatalf("prune = %+v, want the 3 dead keys quarantined", pr)
	}
	for _, id := range pr.IDs {
		if !dead[id] {
			t.Fatalf("prune took %s, which is not dead (rate-limited, region and network keys stay)", id)
		}
	}
	if c := e.a.pool.Counts(); c.Total != len(keys)-3 || c.Disabled != 0 {
		t.Fatalf("pool after prune = %+v", c)
	}
	var q struct{ Total int }
	e.mustCall(http.StatusOK, "GET", "/api/keys?status=quarantined", nil).json(t, &q)
	if q.Total != 3 {
		t.Fatalf("quarantined keys listed = %d, want 3", q.Total)
	}
	// Enabling a quarantined key is refused.
	if r := e.call("PATCH", "/api/keys/"+pr.IDs[0], `{"enabled": true}`); r.code != http.StatusConflict {
		t.Fatalf("PATCH enabled on a quarantined key = %d %s, want 409", r.code, r.body)
	}

	// Undo the last prune (no body).
	var rs struct {
		Restored int
		Keys     []vault.KeyInfo
	}
	e.mustCall(http.StatusOK, "POST", "/api/keys/restore", nil).json(t, &rs)
	if rs.Restored != 3 {
		t.Fatalf("restore (undo) = %+v, want 3", rs)
	}
	for _, k := range rs.Keys {
		if !dead[k.ID] || k.Status == "quarantined" || k.Status == "active" {
			t.Fatalf("restored key %+v, want back with its dead status", k)
		}
	}
	if c := e.a.pool.Counts(); c.Total != len(keys) || c.Disabled != 3 {
		t.Fatalf("pool after restore = %+v, want all keys, 3 disabled", c)
	}
	if r := e.call("POST", "/api/keys/restore", nil); r.code != http.StatusConflict {
		t.Fatalf("a second undo = %d %s, want 409 (nothing left to undo)", r.code, r.body)
	}

	// Restore by id, and all.
	e.mustCall(http.StatusOK, "POST", "/api/keys/prune", nil).json(t, &pr)
	e.mustCall(http.StatusOK, "POST", "/api/keys/restore", map[string]any{"ids": pr.IDs[:1]}).json(t, &rs)
	if rs.Restored != 1 || rs.Keys[0].ID != pr.IDs[0] {
		t.Fatalf("restore {ids: [1]} = %+v", rs)
	}
	e.mustCall(http.StatusOK, "POST", "/api/keys/restore", map[string]any{"all": true}).json(t, &rs)
	if rs.Restored != 2 {
		t.Fatalf("restore {all} = %+v, want the other 2", rs)
	}

	// Purge: quarantined keys go for good; active keys are never purged.
	e.mustCall(http.StatusOK, "POST", "/api/keys/prune", nil).json(t, &pr)
	var pg vault.DeleteResult
	e.mustCall(http.StatusOK, "POST", "/api/keys/purge", map[string]any{"ids": []string{apikey.ID(keys[0])}}).json(t, &pg)
	if pg.Deleted != 0 {
		t.Fatalf("purge of an active key = %+v, want nothing deleted", pg)
	}
	e.mustCall(http.StatusOK, "POST", "/api/keys/purge", nil).json(t, &pg)
	if pg.Deleted != 3 {
		t.Fatalf("purge = %+v, want 3 deleted", pg)
	}
	if n := e.total(); n != len(keys)-3 {
		t.Fatalf("after purge %d keys, want %d", n, len(keys)-3)
	}
	if r := e.call("POST", "/api/keys/restore", nil); r.code != http.StatusConflict {
		t.Fatalf("undo after purge = %d %s, want 409", r.code, r.body)
	}
	if r := e.call("POST", "/api/keys/"+pr.IDs[0]+"/reveal", nil); r.code != http.StatusNotFound {
		t.Fatalf("reveal of a purged key = %d, want 404", r.code)
	}
}

func TestAdminAPIStatsAfterTraffic(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(2)
	e.add(keys...)
	const model = "gemini-2.5-flash"
	for range 3 {
		if st := e.proxyCall("POST", "/v1beta/models/"+model+":generateContent", e.a.AccessKey(), `{"contents":[{"parts":[{"text":"hi"}]}]}`); st != http.StatusOK {
			t.Fatalf("proxied generateContent = %d, want 200", st)
		}
	}
	log := e.waitLog("the recorder to store 3 requests", 3)
	if log.Total != 3 || log.Entries[0]["model"] != model || log.Entries[0]["class"] != "ok" || log.Entries[0]["status"] != float64(200) ||
		!strings.Contains(fmt.Sprint(log.Entries[0]["preview"]), "…") {
		t.Fatalf("GET /api/log = %+v, want 3 ok requests for %s with masked keys", log, model)
	}

	var byModel struct {
		By     string
		Totals []StatsTotal
		Sum    UsageCounts
	}
	e.mustCall(http.StatusOK, "GET", "/api/stats?since=1h&by=model", nil).json(t, &byModel)
	if len(byModel.Totals) != 1 || byModel.Totals[0].Model != model || byModel.Totals[0].Requests != 3 || byModel.Totals[0].Successes != 3 ||
		byModel.Sum.Requests != 3 || byModel.Totals[0].OutputTokens == 0 {
		t.Fatalf("GET /api/stats?by=model = %+v, want 3 successful requests for %s with tokens", byModel, model)
	}
	var byKey struct{ Totals []StatsTotal }
	e.mustCall(http.StatusOK, "GET", "/api/stats?by=key", nil).json(t, &byKey)
	var n int64
	for _, tot := range byKey.Totals {
		if tot.KeyID == "" || !strings.Contains(tot.Preview, "…") {
			t.Fatalf("GET /api/stats?by=key total %+v, want a key id and masked preview", tot)
		}
		n += tot.Requests
	}
	if n != 3 {
		t.Fatalf("GET /api/stats?by=key sums to %d requests, want 3", n)
	}
	var series struct {
		Resolution string
		Points     []struct {
			Time     time.Time
			Requests int64
		}
	}
	e.mustCall(http.StatusOK, "GET", "/api/stats/series?resolution=minute&since=30m&model="+model, nil).json(t, &series)
	n = 0
	for _, p := range series.Points {
		n += p.Requests
	}
	if series.Resolution != "minute" || len(series.Points) < 30 || n != 3 {
		t.Fatalf("GET /api/stats/series = %d points, %d requests, want ≥30 points, 3 requests", len(series.Points), n)
	}
	e.mustCall(http.StatusOK, "GET", "/api/stats/series?resolution=hour&since=7d&key="+byKey.Totals[0].KeyID, nil).json(t, &series)
	if len(series.Points) < 168 {
		t.Fatalf("hourly series over 7d = %d points, want ≥168", len(series.Points))
	}
	var today struct {
		DayStart, ResetsAt time.Time
		Counts             []struct {
			KeyID, Preview, Model string
			Requests              int64
		}
	}
	e.mustCall(http.StatusOK, "GET", "/api/stats/today", nil).json(t, &today)
	n = 0
	for _, c := range today.Counts {
		n += c.Requests
		if c.Model != model || !strings.Contains(c.Preview, "…") {
			t.Fatalf("today count %+v, want model %s, masked preview", c, model)
		}
	}
	if n != 3 || !today.ResetsAt.After(today.DayStart) {
		t.Fatalf("GET /api/stats/today = %+v, want 3 requests and a reset after the day start", today)
	}
	var keyList struct{ Keys []vault.KeyInfo }
	e.mustCall(http.StatusOK, "GET", "/api/keys?sort=requests&desc=true", nil).json(t, &keyList)
	if keyList.Keys[0].Requests+keyList.Keys[1].Requests != 3 || keyList.Keys[0].LastUsedAt.IsZero() {
		t.Fatalf("key list after traffic = %+v, want the 3 requests counted per key", keyList.Keys)
	}

	// Paging and wiping the log.
	e.mustCall(http.StatusOK, "GET", "/api/log?limit=2&offset=2", nil).json(t, &log)
	if len(log.Entries) != 1 || log.Total != 3 {
		t.Fatalf("GET /api/log?limit=2&offset=2 = %d entries of %d, want 1 of 3", len(log.Entries), log.Total)
	}
	var wiped struct{ Deleted int }
	e.mustCall(http.StatusOK, "DELETE", "/api/log", nil).json(t, &wiped)
	if wiped.Deleted != 3 {
		t.Fatalf("DELETE /api/log = %+v, want 3 deleted", wiped)
	}
	e.mustCall(http.StatusOK, "GET", "/api/log", nil).json(t, &log)
	if log.Total != 0 {
		t.Fatalf("log after wipe has %d entries", log.Total)
	}
	e.mustCall(http.StatusOK, "GET", "/api/stats?since=1h&by=model", nil).json(t, &byModel)
	if byModel.Sum.Requests != 3 {
		t.Fatalf("statistics after wiping the log = %+v, want kept", byModel.Sum)
	}
}

func TestAdminAPIPool(t *testing.T) {
	e := newAPIEnv(t)
	keys := e.newKeys(3)
	e.add(keys...)
	ids := []string{apikey.ID(keys[0]), apikey.ID(keys[1]), apikey.ID(keys[2])}
	e.a.pool.Report(ids[0], "gemini-2.5-pro", keypool.Event{Kind: keypool.Cooldown, Delay: time.Hour})
	e.mustCall(http.StatusOK, "PATCH", "/api/keys/"+ids[1], `{"enabled": false}`)
	var p struct {
		Counts keypool.Counts
		Keys   []struct {
			ID, Preview, Reason string
			Disabled            bool
			Cooling             []struct {
				Model string
				Until time.Time
			}
		}
	}
	e.mustCall(http.StatusOK, "GET", "/api/pool", nil).json(t, &p)
	if p.Counts.Total != 3 || p.Counts.Cooling != 1 || p.Counts.Disabled != 1 || len(p.Keys) != 3 {
		t.Fatalf("GET /api/pool = %+v, want 3 keys, 1 cooling, 1 disabled", p)
	}
	for _, k := range p.Keys {
		if k.Preview == "" || !strings.Contains(k.Preview, "…") {
			t.Fatalf("pool key %+v, want a masked preview", k)
		}
		switch k.ID {
		case ids[0]:
			if len(k.Cooling) != 1 || k.Cooling[0].Model != "gemini-2.5-pro" || !k.Cooling[0].Until.After(time.Now()) {
				t.Fatalf("cooling key = %+v, want gemini-2.5-pro until later", k)
			}
		case ids[1]:
			if !k.Disabled || k.Reason == "" {
				t.Fatalf("disabled key = %+v, want disabled with a reason", k)
			}
		}
	}
}

func TestAdminAPISettings(t *testing.T) {
	e := newAPIEnv(t)
	var s Settings
	e.mustCall(http.StatusOK, "GET", "/api/settings", nil).json(t, &s)
	if s.AdminPassword != "" || s.AccessKey != e.a.AccessKey() || s.Upstream != e.fake.URL() {
		t.Fatalf("GET /api/settings = %+v, want the settings without the admin password", s)
	}
	var ch settingsAnswer
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", `{"maxAttempts": 7, "aliases": {"fast": "gemini-2.5-flash"}}`).json(t, &ch)
	if ch.Settings.MaxAttempts != 7 || ch.Restarted || ch.Settings.AdminPassword != "" || e.a.Settings().MaxAttempts != 7 {
		t.Fatalf("PATCH maxAttempts = %+v, want 7, no restart, password hidden", ch)
	}
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", `{"aliases": {"pro": "gemini-2.5-pro"}}`)
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", `{"upstreamTimeoutSec": 600, "streamIdleTimeoutSec": 30, "imageFetchAllowHosts": ["nas.lan", "192.168.1.0/24"]}`)
	if got := e.a.Settings(); got.UpstreamTimeoutSec != 600 || got.StreamIdleTimeoutSec != 30 || len(got.ImageFetchAllowHosts) != 2 {
		t.Fatalf("timeouts and image hosts after PATCH = %d, %d, %v", got.UpstreamTimeoutSec, got.StreamIdleTimeoutSec, got.ImageFetchAllowHosts)
	}
	if a := e.a.Settings().Aliases; len(a) != 1 || a["pro"] != "gemini-2.5-pro" {
		t.Fatalf("aliases after PATCH = %v, want replaced, not merged", a)
	}
	// PUT: the full object as GET gave it (the password left empty keeps it).
	e.mustCall(http.StatusOK, "GET", "/api/settings", nil).json(t, &s)
	s.Theme, s.Passthrough = "dark", false
	e.mustCall(http.StatusOK, "PUT", "/api/settings", s).json(t, &ch)
	if got := e.a.Settings(); got.Theme != "dark" || got.MaxAttempts != 7 || ch.AdminPasswordChanged {
		t.Fatalf("settings after PUT = %+v, want theme dark, password kept", got)
	}
	e.mustCall(http.StatusOK, "GET", "/api/session", nil) // the password still works
	if r := e.call("PUT", "/api/settings", strings.Replace(mustJSON(t, s), `"theme":"dark"`, `"theme":"purple"`, 1)); r.code != http.StatusBadRequest || !strings.Contains(r.errText(), "theme") {
		t.Fatalf("PUT with an invalid theme = %d %s, want 400 naming the theme", r.code, r.body)
	}

	// A new access key works at once; the old one stops.
	old := e.a.AccessKey()
	var ak struct{ AccessKey string }
	e.mustCall(http.StatusOK, "POST", "/api/settings/access-key", nil).json(t, &ak)
	if ak.AccessKey == old || ak.AccessKey != e.a.AccessKey() {
		t.Fatalf("regenerated access key = %q, want a new one in force", ak.AccessKey)
	}
	for key, want := range map[string]int{old: http.StatusUnauthorized, ak.AccessKey: http.StatusOK} {
		st := e.proxyCall("GET", "/v1beta/models", key, "")
		if want == http.StatusUnauthorized && st != want {
			t.Fatalf("the old access key got %d, want 401", st)
		}
		if want == http.StatusOK && st == http.StatusUnauthorized {
			t.Fatalf("the new access key got 401")
		}
	}

	// A new admin password: the browser that asked stays logged in, every
	// other session and the old password are out.
	login := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		if r := e.send("POST", "/api/login", map[string]string{"password": e.pw}, map[string]string{"Origin": e.base}, c); r.code != http.StatusOK {
			t.Fatalf("login = %d %s", r.code, r.body)
		}
		return c
	}
	mine, other := login(), login()
	oldPW := e.pw
	r := e.send("POST", "/api/settings/admin-password", nil, map[string]string{"Origin": e.base}, mine)
	var np struct{ AdminPassword string }
	r.json(t, &np)
	if r.code != http.StatusOK || np.AdminPassword == "" || np.AdminPassword == oldPW {
		t.Fatalf("POST /api/settings/admin-password = %d, want a new password", r.code)
	}
	e.pw = np.AdminPassword
	e.mustCall(http.StatusOK, "GET", "/api/keys", nil) // the new password is in force
	if r := e.send("GET", "/api/keys", nil, nil, mine); r.code != http.StatusOK {
		t.Fatalf("the caller's session after the change = %d, want still logged in", r.code)
	}
	if r := e.send("GET", "/api/keys", nil, nil, other); r.code != http.StatusUnauthorized {
		t.Fatalf("another session after the change = %d, want 401", r.code)
	}
	if r := e.send("GET", "/api/keys", nil, map[string]string{"Authorization": "Bearer " + oldPW}, nil); r.code != http.StatusUnauthorized {
		t.Fatalf("the old password after the change = %d, want 401", r.code)
	}
	e.a.throttle.reset()
	// Set by PATCH (Bearer): every session goes.
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", `{"adminPassword": "correct horse battery"}`).json(t, &ch)
	e.pw = "correct horse battery"
	if !ch.AdminPasswordChanged || ch.Settings.AdminPassword != "" {
		t.Fatalf("PATCH adminPassword = %+v", ch)
	}
	e.mustCall(http.StatusOK, "GET", "/api/keys", nil) // the new password is in force
	if r := e.send("GET", "/api/keys", nil, nil, mine); r.code != http.StatusUnauthorized {
		t.Fatalf("a session after a Bearer password change = %d, want 401", r.code)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAdminAPISettingsMoveListener(t *testing.T) {
	e := newAPIEnvAddr(t, "")
	oldBase := e.base
	// A port taken by another program: the settings are saved, the
	// listener stays, the answer says why.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	var ch settingsAnswer
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", map[string]int{"port": port}).json(t, &ch)
	if ch.Restarted || !strings.Contains(ch.RestartError, "in use") {
		t.Fatalf("PATCH port (taken) = %+v, want no restart and a port-in-use error", ch.SettingsChange)
	}
	if r := e.call("GET", "/api/status", nil); r.code != http.StatusOK {
		t.Fatalf("the old listener after a failed move = %d, want still serving", r.code)
	}
	// A free port: the listener moves, through this very request.
	port = freePort(t)
	ch = settingsAnswer{}
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", map[string]int{"port": port}).json(t, &ch)
	if !ch.Restarted || ch.RestartError != "" || ch.Settings.Port != port {
		t.Fatalf("PATCH port (free) = %+v, want restarted on %d", ch.SettingsChange, port)
	}
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, "the new listener", func() bool {
		res, err := http.Get(e.base + "/api/session")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})
	if r := e.call("GET", "/api/status", nil); r.code != http.StatusOK {
		t.Fatalf("GET /api/status on the new port = %d", r.code)
	}
	waitFor(t, "the old listener to close", func() bool {
		res, err := http.Get(oldBase + "/api/session")
		if err == nil {
			res.Body.Close()
		}
		return err != nil
	})
}

func TestAdminAPIJobPruneFromApp(t *testing.T) {
	// The tray's path: StartCheck, CheckStatus, PruneDead, RestoreLastPrune.
	e := newAPIEnv(t)
	keys := e.newKeys(3)
	e.add(keys...)
	e.fake.Script(keys[0], proxytest.InvalidKey())
	id, err := e.a.StartCheck(nil)
	if err != nil || id == "" {
		t.Fatalf("StartCheck(nil) = %q, %v", id, err)
	}
	waitFor(t, "the check", func() bool { return !e.a.CheckStatus().Running() })
	if j := e.a.CheckStatus(); j.ID != id || j.State != CheckDone || j.ByResult[vault.ResultInvalid] != 1 || j.ByResult[vault.ResultOK] != 2 {
		t.Fatalf("CheckStatus() = %+v, want done: 1 invalid, 2 ok", j)
	}
	if s := e.a.Status(); s.Check.ID != id || s.Check.State != CheckDone {
		t.Fatalf("Status().Check = %+v, want the finished job", s.Check)
	}
	ctx := context.Background()
	pr, err := e.a.PruneDead(ctx)
	if err != nil || pr.Quarantined != 1 || pr.IDs[0] != apikey.ID(keys[0]) {
		t.Fatalf("PruneDead() = %+v, %v, want the invalid key", pr, err)
	}
	back, err := e.a.RestoreLastPrune(ctx)
	if err != nil || len(back) != 1 || back[0].Status != "invalid" {
		t.Fatalf("RestoreLastPrune() = %+v, %v, want the key back as invalid", back, err)
	}
	if _, err := e.a.RestoreLastPrune(ctx); err != ErrNothingToRestore {
		t.Fatalf("RestoreLastPrune() again = %v, want ErrNothingToRestore", err)
	}
}

// FuzzAdminAPIBulkAdd sends arbitrary text to POST /api/keys/bulk: the
// answer is 200 or 400 (never a server error), always JSON of the
// documented shape, and never holds a raw key.
func FuzzAdminAPIBulkAdd(f *testing.F) {
	f.Add("AIzaSyA-1234567890abcdefghijklmnopqrstu")
	f.Add("KEY=AIzaSyA-1234567890abcdefghijklmnopqrstu\n# comment\nAIzaShort")
	f.Add(`["AIzaSyA-1234567890abcdefghijklmnopqrstu","AIzaSyB-1234567890abcdefghijklmnopqrstu"]`)
	f.Add("\x00\xff\"\\")
	f.Add("")
	ctx := context.Background()
	a, err := New(ctx, Options{DataDir: f.TempDir(), SecretStore: "file", Passphrase: "pw", hashLogN: testHashLogN})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	pw, err := a.ResetAdminPassword(ctx)
	if err != nil {
		f.Fatal(err)
	}
	h := a.adminHandler()
	f.Fuzz(func(t *testing.T, text string) {
		body, _ := json.Marshal(map[string]string{"text": text})
		req, _ := http.NewRequest("POST", "http://127.0.0.1/api/keys/bulk", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pw)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("POST /api/keys/bulk = %d %s, want 200 or 400", rec.Code, rec.Body.String())
		}
		var ans map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("answer %q is not JSON: %v", rec.Body.String(), err)
		}
		if rec.Code == http.StatusOK {
			if _, ok := ans["added"]; !ok {
				t.Fatalf("200 answer %v lacks added", ans)
			}
		} else if ans["error"] == "" {
			t.Fatalf("400 answer %v lacks an error", ans)
		}
		for _, k := range apikey.Extract(text).Keys {
			if strings.Contains(rec.Body.String(), k) {
				t.Fatalf("the answer holds the raw key %s", apikey.Mask(k))
			}
		}
	})
}
