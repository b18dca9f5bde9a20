package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
	"github.com/gemini-balance/desktop/app/store"
)

// testHashLogN is the scrypt cost of admin password hashes in tests (the
// real one takes seconds under the race detector); TestPasswordHash checks
// the real one.
const testHashLogN = 10

// reset forgets every address (tests of other things send wrong passwords
// on purpose).
func (t *throttle) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.addrs)
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address src (Linux routes all of 127.0.0.0/8 to lo).
func clientFrom(t *testing.T, src string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	if c, err := d.Dial("tcp", "127.0.0.1:1"); err != nil && strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot send from %s here: %v", src, err)
	} else if c != nil {
		c.Close()
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

// TestAdminPasswordThrottle (issue 9 row 5): wrong admin passwords (Bearer
// or login) from one address make that address wait, longer after each
// failure but never more than seconds; the right password from another
// address is never refused meanwhile, and the guesser's own right password
// works again once it has waited.
func TestAdminPasswordThrottle(t *testing.T) {
	e := newAPIEnv(t)
	// The throttle's clock is the test's: it moves only when the test says,
	// so a slow (loaded, -race) machine changes nothing.
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e.a.throttle.mu.Lock()
	e.a.throttle.now = clock
	e.a.throttle.mu.Unlock()

	attacker := clientFrom(t, "127.0.0.2")
	owner := clientFrom(t, "127.0.0.1")
	bearer := func(pw string) map[string]string { return map[string]string{"Authorization": "Bearer " + pw} }
	guess := func(i int) resp {
		if i%2 == 0 {
			return e.send("GET", "/api/keys", nil, bearer("guess-"+strconv.Itoa(i)), attacker)
		}
		return e.send("POST", "/api/login", map[string]string{"password": "guess-" + strconv.Itoa(i)}, map[string]string{"Origin": e.base}, attacker)
	}
	retryAfterOf := func(r resp) int {
		t.Helper()
		n, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if n < 1 || n > int(maxThrottleDelay/time.Second) {
			t.Fatalf("Retry-After = %q, want 1..%d seconds", r.header.Get("Retry-After"), int(maxThrottleDelay/time.Second))
		}
		return n
	}

	// Each wrong guess makes the address wait longer (250 ms, 500 ms, 1 s,
	// 2 s, then 5 s at most); a guess within the wait is refused unread,
	// whether it comes as a Bearer token or a login. Meanwhile the owner,
	// from another address, is never refused.
	wantWait := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, wait := range wantWait {
		if r := guess(2 * i); r.code != http.StatusUnauthorized {
			t.Fatalf("guess %d after waiting = %d %s, want 401", i, r.code, r.body)
		}
		for j := 0; j < 2; j++ {
			r := guess(2*i + j + 1)
			if r.code != http.StatusTooManyRequests {
				t.Fatalf("guess within the wait after failure %d = %d %s, want 429", i+1, r.code, r.body)
			}
			retryAfterOf(r)
		}
		if r := e.send("GET", "/api/keys", nil, bearer(e.pw), owner); r.code != http.StatusOK {
			t.Fatalf("the owner's Bearer during the guessing = %d %s, want 200", r.code, r.body)
		}
		advance(wait - time.Millisecond)
		if r := guess(1); r.code != http.StatusTooManyRequests {
			t.Fatalf("guess 1 ms before the wait of %v ends = %d, want 429", wait, r.code)
		}
		advance(time.Millisecond)
	}
	if r := e.send("POST", "/api/login", map[string]string{"password": e.pw}, map[string]string{"Origin": e.base}, owner); r.code != http.StatusOK {
		t.Fatalf("the owner's login during the guessing = %d %s, want 200", r.code, r.body)
	}
	// The guessing address itself is locked out for seconds, not longer:
	// after the Retry-After it is told, its right password works.
	if r := guess(0); r.code != http.StatusUnauthorized {
		t.Fatalf("guess = %d, want 401", r.code)
	}
	r := e.send("GET", "/api/keys", nil, bearer(e.pw), attacker)
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("the right password within the wait = %d, want 429 (refused unread)", r.code)
	}
	advance(time.Duration(retryAfterOf(r)) * time.Second)
	if r := e.send("GET", "/api/keys", nil, bearer(e.pw), attacker); r.code != http.StatusOK {
		t.Fatalf("the right password from the guessing address after Retry-After = %d %s, want 200", r.code, r.body)
	}
}

// TestThrottleDelays: the wait doubles from 250 ms up to 5 s, a success
// resets it, addresses are apart (IPv6 by /64), and the table is bounded.
func TestThrottleDelays(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(func() time.Time { return now })
	req := func(addr string) *http.Request { return &http.Request{RemoteAddr: addr} }
	a := req("192.0.2.1:5000")
	var got []time.Duration
	for range 7 {
		got = append(got, th.failed(a))
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits after 1..7 failures = %v, want %v", got, want)
		}
	}
	if w := th.wait(req("192.0.2.1:6000")); w != 5*time.Second {
		t.Errorf("wait of the same address, other port = %v, want 5s", w)
	}
	if w := th.wait(req("192.0.2.2:5000")); w != 0 {
		t.Errorf("wait of another address = %v, want 0", w)
	}
	th.failed(req("[2001:db8::1]:1"))
	if w := th.wait(req("[2001:db8::ffff]:2")); w == 0 {
		t.Errorf("another address of the same IPv6 /64 does not wait")
	}
	if w := th.wait(req("[2001:db8:0:1::1]:2")); w != 0 {
		t.Errorf("an address of another /64 waits %v", w)
	}
	th.succeeded(a)
	if w := th.wait(a); w != 0 {
		t.Errorf("wait after a success = %v, want 0", w)
	}
	for i := range maxThrottleAddrs + 100 {
		th.failed(req(net.JoinHostPort(net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String(), "1")))
	}
	if n := len(th.addrs); n > maxThrottleAddrs {
		t.Errorf("throttle table holds %d addresses, want at most %d", n, maxThrottleAddrs)
	}
}

// TestAdminPasswordMinLength (issue 9 row 5): an admin password shorter
// than 12 characters is refused with an error that names the field.
func TestAdminPasswordMinLength(t *testing.T) {
	e := newAPIEnv(t)
	r := e.call("PATCH", "/api/settings", `{"adminPassword": "elevenchars"}`)
	var ans struct{ Error, Field string }
	json.Unmarshal(r.body, &ans)
	if r.code != http.StatusBadRequest || ans.Field != "adminPassword" || !strings.Contains(ans.Error, "admin password") || !strings.Contains(ans.Error, "12") {
		t.Fatalf("PATCH adminPassword of 11 characters = %d %s, want 400 with field adminPassword, naming the admin password and 12", r.code, r.body)
	}
	if r := e.call("GET", "/api/keys", nil); r.code != http.StatusOK {
		t.Fatalf("the old password after a refused change = %d, want 200", r.code)
	}
	e.mustCall(http.StatusOK, "PATCH", "/api/settings", `{"adminPassword": "twelve chars"}`)
	e.pw = "twelve chars"
	e.mustCall(http.StatusOK, "GET", "/api/keys", nil)
}

// fileHolds reports which of secrets occur in the database file or its WAL.
func fileHolds(t *testing.T, dir string, secrets ...string) []string {
	t.Helper()
	var found []string
	for _, name := range []string{"gemini-balance.db", "gemini-balance.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				found = append(found, name+": "+s)
			}
		}
	}
	return found
}

// TestSecretsNotInDatabase (issue 9 row 8): settings an older version
// stored with the access key, the admin password and the upstream proxy's
// password in plaintext are migrated on start: the access key and proxy
// credentials move to the secret store, the password is kept as a scrypt
// hash, and none of them is left anywhere in the database file; the
// secrets still work, after a restart too, and later changes never reach
// the file either.
func TestSecretsNotInDatabase(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		testSecretsNotInDatabase(t, Options{SecretStore: "file", Passphrase: "pw", hashLogN: testHashLogN})
	})
	t.Run("keychain", func(t *testing.T) {
		keychaintest.Real(t) // skips without a working Secret Service
		var b [6]byte
		rand.Read(b[:])
		svc := "gbd-secrets-test-" + hex.EncodeToString(b[:])
		t.Cleanup(func() {
			kc := keychain.NewOS(svc, 10*time.Second)
			for _, acc := range []string{accountAccessKey, accountProxyAuth} {
				kc.Delete(context.Background(), acc)
			}
		})
		testSecretsNotInDatabase(t, Options{SecretStore: "keychain", KeychainService: svc, hashLogN: testHashLogN})
	})
}

func testSecretsNotInDatabase(t *testing.T, opts Options) {
	ctx := context.Background()
	dir := t.TempDir()
	const (
		oldKey   = "gbd-old-access-key-0123456789abcdef"
		oldPW    = "old-plaintext-admin-pw"
		proxyPW  = "proxy-pass-5f3a9c"
		oldProxy = "http://alice:" + proxyPW + "@127.0.0.1:3128"
	)
	// The settings row as an older version wrote it.
	st, err := store.Open(filepath.Join(dir, "gemini-balance.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := DefaultSettings()
	old.AccessKey, old.AdminPassword, old.UpstreamProxy = oldKey, oldPW, oldProxy
	if err := store.PutSetting(ctx, st, "settings", old); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if found := fileHolds(t, dir, oldKey, oldPW, proxyPW); len(found) == 0 {
		t.Fatal("test setup: the old settings are not in the file")
	}

	open := func() *App {
		t.Helper()
		o := opts
		o.DataDir = dir
		a, err := New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := open()
	if found := fileHolds(t, dir, oldKey, oldPW, proxyPW); len(found) > 0 {
		t.Errorf("after the migration the database still holds %v", found)
	}
	if a.AccessKey() != oldKey || a.Settings().UpstreamProxy != oldProxy || a.Settings().AdminPassword != "" {
		t.Errorf("migrated settings: access key %v, proxy %q, password %q; want the old key and proxy, no password in memory",
			a.AccessKey() == oldKey, a.Settings().UpstreamProxy, a.Settings().AdminPassword)
	}
	if !a.admin.check(ctx, oldPW) || a.admin.check(ctx, oldPW+"x") {
		t.Error("the old admin password does not work after the migration (or a wrong one does)")
	}
	hash, _ := store.GetSetting(ctx, a.store, adminHashRow, "")
	if !strings.HasPrefix(hash, "scrypt$") {
		t.Errorf("stored admin password = %q, want a scrypt hash", hash)
	}

	// Changes: a new access key, new proxy credentials, a new password.
	const newProxyPW = "new-proxy-pass-77e1"
	s := a.Settings()
	s.AccessKey, s.UpstreamProxy, s.AdminPassword = "gbd-new-access-key-abcdef0123456789", "socks5://bob:"+newProxyPW+"@127.0.0.1:1080", "new admin password"
	if _, err := a.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	rawJSON, _, _ := a.store.Setting(ctx, "settings")
	json.Unmarshal(rawJSON, &raw)
	if raw["accessKey"] != "" || raw["adminPassword"] != "" || raw["upstreamProxy"] != "socks5://127.0.0.1:1080" {
		t.Errorf("settings row = accessKey %q, adminPassword %q, upstreamProxy %q; want both empty and the proxy without credentials",
			raw["accessKey"], raw["adminPassword"], raw["upstreamProxy"])
	}
	a.Close()
	if found := fileHolds(t, dir, s.AccessKey, newProxyPW, "new admin password"); len(found) > 0 {
		t.Errorf("after changes the database holds %v", found)
	}

	// A restart reads them back from the secret store.
	a = open()
	defer a.Close()
	if a.AccessKey() != s.AccessKey || a.Settings().UpstreamProxy != s.UpstreamProxy || !a.admin.check(ctx, "new admin password") || a.admin.check(ctx, oldPW) {
		t.Errorf("after a restart: access key %v, proxy %q, new password works %v; want the changed ones",
			a.AccessKey() == s.AccessKey, a.Settings().UpstreamProxy, a.admin.check(ctx, "new admin password"))
	}
	if k, err := a.secrets.Get(ctx, accountAccessKey); err != nil || k != s.AccessKey {
		t.Errorf("secret store %s = %v; want the access key", accountAccessKey, err)
	}
	if _, err := a.secrets.Get(ctx, accountProxyAuth); err != nil {
		t.Errorf("secret store %s: %v", accountProxyAuth, err)
	}
}

// TestPasswordHash: the real cost is scrypt N=2^15, r=8, p=1; the hash
// records its parameters, so older or cheaper hashes still verify; a
// damaged hash never verifies.
func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("a long enough password", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "scrypt$15$8$1$") {
		t.Fatalf("hashPassword() = %q, want scrypt$15$8$1$…", h)
	}
	if ok, err := verifyPassword(h, "a long enough password"); !ok || err != nil {
		t.Errorf("verifyPassword(right) = %v, %v, want true", ok, err)
	}
	cheap, _ := hashPassword("x", testHashLogN)
	for pw, want := range map[string]bool{"x": true, "y": false, "": false} {
		if ok, err := verifyPassword(cheap, pw); ok != want || err != nil {
			t.Errorf("verifyPassword(N=2^%d, %q) = %v, %v, want %v", testHashLogN, pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "scrypt$15$8$1$AAAA", "scrypt$40$8$1$" + strings.Repeat("A", 22) + "$" + strings.Repeat("A", 43), strings.Replace(h, "scrypt", "bcrypt", 1)} {
		if ok, err := verifyPassword(bad, "a long enough password"); ok || err == nil {
			t.Errorf("verifyPassword(%q) = %v, %v, want false and an error", bad, ok, err)
		}
	}
}
