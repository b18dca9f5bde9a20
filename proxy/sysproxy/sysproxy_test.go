package sysproxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// noEnvProxy clears the proxy variables for the test.
func noEnvProxy(t *testing.T) {
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func TestParseProxyServer(t *testing.T) {
	for _, tc := range []struct{ in, http, https string }{
		{"127.0.0.1:7890", "127.0.0.1:7890", "127.0.0.1:7890"},
		{"http=127.0.0.1:7890;https=127.0.0.1:7891", "127.0.0.1:7890", "127.0.0.1:7891"},
		{"http=proxy:80", "proxy:80", ""},
		{"https=proxy:443", "", "proxy:443"},
		{"socks=127.0.0.1:1080", "socks5://127.0.0.1:1080", "socks5://127.0.0.1:1080"},
		{"http=h:1;socks=s:2", "h:1", "socks5://s:2"},
		{"HTTP=h:1; HTTPS=hs:2", "h:1", "hs:2"},
		{"http://127.0.0.1:7890", "http://127.0.0.1:7890", "http://127.0.0.1:7890"},
		{"a:1;b:2", "a:1", "a:1"},
		{"DIRECT", "", ""},
		{"", "", ""},
	} {
		h, hs := parseProxyServer(tc.in)
		if h != tc.http || hs != tc.https {
			t.Errorf("parseProxyServer(%q) = %q, %q, want %q, %q", tc.in, h, hs, tc.http, tc.https)
		}
	}
}

func TestBypassed(t *testing.T) {
	win := splitList("localhost;127.*;10.*;172.16.*;192.168.*;*.corp.example;<local>")
	for _, tc := range []struct {
		list []string
		host string
		want bool
	}{
		{win, "intranet", true}, // <local>
		{win, "10.1.2.3", true},
		{win, "192.168.0.9", true},
		{win, "wiki.corp.example", true},
		{win, "corp.example", false},
		{win, "generativelanguage.googleapis.com", false},
		{win, "172.17.0.1", false},
		{[]string{"*.local", "169.254/16"}, "printer.local", true},
		{[]string{"*.local", "169.254/16"}, "169.254.10.1", true},
		{[]string{"*.local", "169.254/16"}, "169.255.10.1", false},
		{[]string{"127.0.0.0/8", "::1", "localhost"}, "::1", true},
		{[]string{".googleapis.com"}, "generativelanguage.googleapis.com", true},
		{[]string{"googleapis.com"}, "generativelanguage.googleapis.com", true},
		{[]string{"googleapis.com"}, "notgoogleapis.com", false},
		{[]string{"http://example.com:8080"}, "example.com", true},
		{[]string{"*internal*"}, "my-internal-host.net", true},
		{[]string{"*"}, "anything", true},
		{nil, "anything", false},
	} {
		if got := bypassed(tc.list, tc.host); got != tc.want {
			t.Errorf("bypassed(%q, %q) = %v, want %v", tc.list, tc.host, got, tc.want)
		}
	}
}

func TestFromWindows(t *testing.T) {
	s := fromWindows(true, "http=127.0.0.1:7890;https=127.0.0.1:7890", "localhost;127.*;<local>", "")
	want := Settings{Source: SourceWindows, HTTP: "127.0.0.1:7890", HTTPS: "127.0.0.1:7890", Bypass: []string{"localhost", "127.*", "<local>"}}
	if !sameSettings(s, want) {
		t.Errorf("fromWindows = %+v, want %+v", s, want)
	}
	if s := fromWindows(false, "127.0.0.1:7890", "", ""); s.Source != "" || s.HTTP != "" {
		t.Errorf("fromWindows(disabled) = %+v, want no proxy", s)
	}
	if s := fromWindows(false, "", "", "http://127.0.0.1:7890/pac"); s.Source != SourceWindows || s.PAC != "http://127.0.0.1:7890/pac" {
		t.Errorf("fromWindows(PAC only) = %+v", s)
	}
}

const scutilOut = `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
  }
  ExcludeSimpleHostnames : 1
  FTPPassive : 1
  HTTPEnable : 1
  HTTPPort : 7890
  HTTPProxy : 127.0.0.1
  HTTPSEnable : 1
  HTTPSPort : 7891
  HTTPSProxy : 127.0.0.1
  SOCKSEnable : 0
  __SCOPED__ : <dictionary> {
    en0 : <dictionary> {
      HTTPEnable : 1
      HTTPPort : 9999
      HTTPProxy : 10.0.0.1
    }
  }
}
`

func TestParseScutil(t *testing.T) {
	s := parseScutil(scutilOut)
	want := Settings{Source: SourceMacOS, HTTP: "127.0.0.1:7890", HTTPS: "127.0.0.1:7891", Bypass: []string{"*.local", "169.254/16", "<local>"}}
	if !sameSettings(s, want) {
		t.Errorf("parseScutil = %+v, want %+v", s, want)
	}
	s = parseScutil("<dictionary> {\n  HTTPEnable : 0\n  SOCKSEnable : 1\n  SOCKSPort : 1080\n  SOCKSProxy : 127.0.0.1\n  ProxyAutoConfigEnable : 1\n  ProxyAutoConfigURLString : http://127.0.0.1/pac\n}\n")
	want = Settings{Source: SourceMacOS, HTTP: "socks5://127.0.0.1:1080", HTTPS: "socks5://127.0.0.1:1080", PAC: "http://127.0.0.1/pac"}
	if !sameSettings(s, want) {
		t.Errorf("parseScutil(socks, pac) = %+v, want %+v", s, want)
	}
	if s := parseScutil("<dictionary> {\n  HTTPEnable : 0\n}\n"); s.Source != "" {
		t.Errorf("parseScutil(off) = %+v, want none", s)
	}
}

const gsettingsOut = `org.gnome.system.proxy autoconfig-url ''
org.gnome.system.proxy ignore-hosts ['localhost', '127.0.0.0/8', '::1', '*.lan']
org.gnome.system.proxy mode 'manual'
org.gnome.system.proxy use-same-proxy true
org.gnome.system.proxy.ftp host ''
org.gnome.system.proxy.ftp port 0
org.gnome.system.proxy.http authentication-password 's3cret'
org.gnome.system.proxy.http authentication-user 'me'
org.gnome.system.proxy.http enabled false
org.gnome.system.proxy.http host '127.0.0.1'
org.gnome.system.proxy.http port 7890
org.gnome.system.proxy.http use-authentication true
org.gnome.system.proxy.https host ''
org.gnome.system.proxy.https port 0
org.gnome.system.proxy.socks host '127.0.0.1'
org.gnome.system.proxy.socks port 7891
`

func TestParseGsettings(t *testing.T) {
	s := parseGsettings(gsettingsOut)
	want := Settings{Source: SourceGNOME, HTTP: "http://me:s3cret@127.0.0.1:7890", HTTPS: "http://me:s3cret@127.0.0.1:7890", Bypass: []string{"localhost", "127.0.0.0/8", "::1", "*.lan"}}
	if !sameSettings(s, want) {
		t.Errorf("parseGsettings = %+v, want %+v", s, want)
	}
	if m := s.Masked(); strings.Contains(m.HTTP, "s3cret") || m.HTTP != "http://me:***@127.0.0.1:7890" {
		t.Errorf("Masked().HTTP = %q", m.HTTP)
	}
	s = parseGsettings(strings.Replace(gsettingsOut, "'manual'", "'none'", 1))
	if s.Source != "" {
		t.Errorf("parseGsettings(mode none) = %+v, want none", s)
	}
	s = parseGsettings("org.gnome.system.proxy mode 'auto'\norg.gnome.system.proxy autoconfig-url 'http://wpad/wpad.dat'\n")
	if s.Source != SourceGNOME || s.PAC != "http://wpad/wpad.dat" || s.HTTP != "" {
		t.Errorf("parseGsettings(auto) = %+v", s)
	}
	if got := gvStrings("@as []"); len(got) != 0 {
		t.Errorf("gvStrings(@as []) = %q", got)
	}
}

// recordingProxy is a real HTTP forward proxy that counts what it
// forwards; it reaches "gemini.test" on loopback at port.
func recordingProxy(t *testing.T, port string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Hostname() == "gemini.test" {
			r.URL.Host = net.JoinHostPort("127.0.0.1", port)
		}
		resp, err := http.DefaultTransport.(*http.Transport).Clone().RoundTrip(r.Clone(context.Background()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestResolverFollowsOS sends real requests through a transport whose
// proxy follows settings that change while it runs (as when Clash turns
// the Windows system proxy on and off), and checks the environment wins.
func TestResolverFollowsOS(t *testing.T) {
	noEnvProxy(t)
	// The target must not be loopback (never proxied): a name that the dialer and the proxy map to loopback.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer target.Close()
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	prx, hits := recordingProxy(t, port)
	targetURL := "http://gemini.test:" + port + "/"

	var mu sync.Mutex
	cur := Settings{Source: SourceWindows, HTTP: strings.TrimPrefix(prx.URL, "http://")}
	now := time.Unix(0, 0)
	r := &Resolver{
		read: func(context.Context) Settings { mu.Lock(); defer mu.Unlock(); return cur },
		ttl:  DefaultTTL,
		now:  func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	}
	tr := &http.Transport{Proxy: r.Proxy, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		// Only the proxy's address is dialled while the proxy is on; "gemini.test" resolves to loopback.
		if h, p, _ := net.SplitHostPort(addr); h == "gemini.test" {
			addr = net.JoinHostPort("127.0.0.1", p)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() {
		t.Helper()
		resp, err := client.Get(targetURL)
		if err != nil {
			t.Fatalf("GET %s: %v", targetURL, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("GET %s = %d %q", targetURL, resp.StatusCode, b)
		}
	}
	get()
	if hits.Load() != 1 {
		t.Fatalf("proxy saw %d requests with the OS proxy on, want 1", hits.Load())
	}
	// The user turns the OS proxy off: after the TTL requests go direct.
	mu.Lock()
	cur = Settings{}
	now = now.Add(DefaultTTL)
	mu.Unlock()
	settle(t, r, func(s Settings) bool { return s.Source == "" })
	tr.CloseIdleConnections()
	get()
	if hits.Load() != 1 {
		t.Errorf("proxy saw %d requests after the OS proxy was turned off, want still 1", hits.Load())
	}
	if d := r.Describe(context.Background(), mustURL(t, targetURL)); d.Source != "" || d.Proxy != "" {
		t.Errorf("Describe with no proxy = %+v", d)
	}
	// Bypass list.
	mu.Lock()
	cur = Settings{Source: SourceWindows, HTTP: strings.TrimPrefix(prx.URL, "http://"), Bypass: []string{"*.test"}}
	now = now.Add(DefaultTTL)
	mu.Unlock()
	settle(t, r, func(s Settings) bool { return len(s.Bypass) == 1 })
	get()
	if hits.Load() != 1 {
		t.Errorf("proxy saw a request for a bypassed host")
	}
	// The environment wins over the OS.
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	mu.Lock()
	now = now.Add(DefaultTTL)
	mu.Unlock()
	settle(t, r, func(s Settings) bool { return s.Source == SourceEnvironment })
	d := r.Describe(context.Background(), mustURL(t, targetURL))
	if d.Source != SourceEnvironment || d.Proxy != "http://127.0.0.1:1" {
		t.Errorf("Describe with HTTP_PROXY set = %+v, want the environment's proxy", d)
	}
}

// settle waits until the resolver's settings satisfy ok (stale settings
// are refreshed in the background).
func settle(t *testing.T, r *Resolver, ok func(Settings) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(r.Settings(context.Background())) {
		if time.Now().After(deadline) {
			t.Fatalf("settings never became what the test set: %+v", r.Settings(context.Background()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoopbackNeverProxied(t *testing.T) {
	noEnvProxy(t)
	r := &Resolver{read: func(context.Context) Settings {
		return Settings{Source: SourceWindows, HTTP: "127.0.0.1:7890", HTTPS: "127.0.0.1:7890"}
	}, ttl: DefaultTTL, now: time.Now}
	for _, u := range []string{"http://127.0.0.1:8321/", "https://localhost/", "http://[::1]:1/"} {
		if p, err := r.ProxyFor(context.Background(), mustURL(t, u)); p != nil || err != nil {
			t.Errorf("ProxyFor(%s) = %v, %v, want direct", u, p, err)
		}
	}
	p, err := r.ProxyFor(context.Background(), mustURL(t, "https://generativelanguage.googleapis.com/v1beta/models"))
	if err != nil || p == nil || p.String() != "http://127.0.0.1:7890" {
		t.Errorf("ProxyFor(google) = %v, %v, want http://127.0.0.1:7890", p, err)
	}
}

// TestPACAnswerCached checks that a PAC evaluator's answers are used per
// host, cached, and that a failing script falls back to the manual proxy.
func TestPACAnswerCached(t *testing.T) {
	noEnvProxy(t)
	var calls atomic.Int32
	fail := false
	r := &Resolver{
		read: func(context.Context) Settings {
			return Settings{Source: SourceWindows, HTTP: "manual:1", HTTPS: "manual:1", PAC: "http://127.0.0.1:9/proxy.pac"}
		},
		pac: func(_ context.Context, script string, target *url.URL) (string, error) {
			calls.Add(1)
			if fail {
				return "", io.ErrUnexpectedEOF
			}
			if target.Hostname() == "direct.example" {
				return "", nil
			}
			return "pac-proxy:3128", nil
		},
		ttl: DefaultTTL, now: time.Now,
	}
	ctx := context.Background()
	for range 3 {
		if p, _ := r.ProxyFor(ctx, mustURL(t, "https://generativelanguage.googleapis.com/x")); p == nil || p.Host != "pac-proxy:3128" {
			t.Fatalf("ProxyFor via PAC = %v, want pac-proxy:3128", p)
		}
	}
	if p, _ := r.ProxyFor(ctx, mustURL(t, "https://direct.example/")); p != nil {
		t.Errorf("ProxyFor(DIRECT by PAC) = %v, want direct", p)
	}
	if calls.Load() != 2 {
		t.Errorf("PAC evaluated %d times for 2 hosts, want 2 (cached)", calls.Load())
	}
	fail = true
	if p, _ := r.ProxyFor(ctx, mustURL(t, "https://other.example/")); p == nil || p.Host != "manual:1" {
		t.Errorf("ProxyFor with a failing PAC = %v, want the manual proxy", p)
	}
}

// TestGNOMESettings reads GNOME's proxy settings with the real gsettings
// (keyfile backend in a temporary config dir).
func TestGNOMESettings(t *testing.T) {
	gs, err := exec.LookPath("gsettings")
	if err != nil {
		t.Skip("gsettings is not installed")
	}
	noEnvProxy(t)
	dir := t.TempDir()
	t.Setenv("GSETTINGS_BACKEND", "keyfile")
	t.Setenv("XDG_CONFIG_HOME", dir)
	set := func(schema, key, val string) {
		t.Helper()
		if out, err := exec.Command(gs, "set", schema, key, val).CombinedOutput(); err != nil {
			t.Skipf("gsettings set %s %s: %v: %s", schema, key, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join("/usr/share/glib-2.0/schemas", "org.gnome.system.proxy.gschema.xml")); err != nil {
		t.Skip("GNOME's proxy schema is not installed")
	}
	set("org.gnome.system.proxy", "mode", "manual")
	set("org.gnome.system.proxy.http", "host", "127.0.0.1")
	set("org.gnome.system.proxy.http", "port", "7890")
	set("org.gnome.system.proxy", "ignore-hosts", "['localhost', '*.lan']")
	s := New().Settings(context.Background())
	if s.Source != SourceGNOME || s.HTTP != "http://127.0.0.1:7890" || s.HTTPS != "http://127.0.0.1:7890" || !slices.Contains(s.Bypass, "*.lan") {
		t.Errorf("GNOME settings = %+v, want the manual proxy 127.0.0.1:7890", s)
	}
	set("org.gnome.system.proxy", "mode", "none")
	r := New()
	if s := r.Settings(context.Background()); s.Source != "" {
		t.Errorf("GNOME mode none = %+v, want no proxy", s)
	}
}

// TestSlowOSReadDoesNotBlock checks that once settings are known, a slow
// OS read (scutil, gsettings) runs in the background: requests keep
// getting the previous answer instead of waiting.
func TestSlowOSReadDoesNotBlock(t *testing.T) {
	noEnvProxy(t)
	release := make(chan struct{})
	var reads atomic.Int32
	var mu sync.Mutex
	now := time.Unix(0, 0)
	r := &Resolver{
		read: func(context.Context) Settings {
			if reads.Add(1) > 1 {
				<-release // the second read hangs until the test lets it go
			}
			return Settings{Source: SourceGNOME, HTTP: "http://127.0.0.1:7890", HTTPS: "http://127.0.0.1:7890"}
		},
		ttl: DefaultTTL,
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	}
	target := mustURL(t, "https://generativelanguage.googleapis.com/")
	if p, _ := r.ProxyFor(context.Background(), target); p == nil {
		t.Fatal("first ProxyFor = direct, want the proxy")
	}
	mu.Lock()
	now = now.Add(DefaultTTL)
	mu.Unlock()
	done := make(chan *url.URL)
	go func() {
		for range 3 {
			p, _ := r.ProxyFor(context.Background(), target)
			done <- p
		}
	}()
	for range 3 {
		select {
		case p := <-done:
			if p == nil {
				t.Errorf("ProxyFor during a slow refresh = direct, want the previous proxy")
			}
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatal("ProxyFor waited for the slow OS read")
		}
	}
	close(release)
	waitReads := time.Now().Add(10 * time.Second)
	for reads.Load() != 2 && time.Now().Before(waitReads) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("OS read %d times, want 2 (one background refresh at a time)", n)
	}
}
