package sysproxy

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Source names.
const (
	SourceEnvironment = "environment"
	SourceWindows     = "windows"
	SourceMacOS       = "macos"
	SourceGNOME       = "gnome"
)

// Settings are the proxy settings in force, as read from one source.
type Settings struct {
	// Source is where they come from: "environment", "windows", "macos",
	// "gnome", or "" when nothing sets a proxy (requests go direct).
	Source string `json:"source"`
	// HTTP and HTTPS are the proxies for http:// and https:// requests, as
	// URLs ("" = direct). Passwords are kept here; Masked hides them.
	HTTP  string `json:"http,omitempty"`
	HTTPS string `json:"https,omitempty"`
	// Bypass lists the hosts that go direct, as the source writes them
	// ("<local>", "*.corp", "10.*", "169.254/16", ".example.com"…).
	Bypass []string `json:"bypass,omitempty"`
	// PAC is the URL of an auto-config script.
	PAC string `json:"pac,omitempty"`
	// Note says what could not be read or is not followed.
	Note string `json:"note,omitempty"`
}

// Masked returns s with the passwords of the proxy URLs replaced by "***".
func (s Settings) Masked() Settings {
	s.HTTP, s.HTTPS = maskURL(s.HTTP), maskURL(s.HTTPS)
	s.Bypass = append([]string(nil), s.Bypass...)
	return s
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	u.User = url.User(u.User.Username())
	// The first "@" ends the user info (one inside the name is escaped).
	return strings.Replace(u.String(), "@", ":***@", 1)
}

// Route says how a request to one URL leaves the machine.
type Route struct {
	Settings
	// Proxy is the proxy used for the URL asked about, password masked;
	// "" means direct.
	Proxy string `json:"proxy"`
}

// DefaultTTL is how long a Resolver trusts what it read from the OS.
const DefaultTTL = 5 * time.Second

// pacTTL is how long the proxy a PAC script chose for a host is kept.
const pacTTL = time.Minute

// pacTimeout bounds one PAC evaluation (the script download included).
const pacTimeout = 10 * time.Second

// Resolver answers "which proxy for this URL" from the OS settings,
// re-reading them when they are older than its TTL. The zero value is not
// usable: call New.
type Resolver struct {
	read func(context.Context) Settings
	// pac evaluates the auto-config script at script for target and
	// returns a WinINet-style proxy list ("" = DIRECT); nil where the OS
	// offers no evaluator.
	pac func(ctx context.Context, script string, target *url.URL) (string, error)
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	cur        Settings
	fn         func(*url.URL) (*url.URL, error)
	at         time.Time
	refreshing bool

	pacMu    sync.Mutex
	pacCache map[string]pacAnswer
}

type pacAnswer struct {
	proxy *url.URL
	ok    bool
	at    time.Time
}

// New returns a Resolver for this OS.
func New() *Resolver {
	return &Resolver{read: readOS, pac: evalPAC, ttl: DefaultTTL, now: time.Now}
}

// Proxy is an http.Transport Proxy function.
func (r *Resolver) Proxy(req *http.Request) (*url.URL, error) {
	return r.ProxyFor(req.Context(), req.URL)
}

// ProxyFor returns the proxy for target, or nil for a direct connection.
func (r *Resolver) ProxyFor(ctx context.Context, target *url.URL) (*url.URL, error) {
	s, fn := r.current(ctx)
	if s.PAC != "" && r.pac != nil && !isLoopback(target.Hostname()) {
		if p, ok := r.viaPAC(ctx, s.PAC, target); ok {
			return p, nil
		}
	}
	return fn(target)
}

// Describe says how a request to target would go, for the UI.
func (r *Resolver) Describe(ctx context.Context, target *url.URL) Route {
	s, _ := r.current(ctx)
	rt := Route{Settings: s.Masked()}
	p, err := r.ProxyFor(ctx, target)
	switch {
	case err != nil:
		rt.Note = strings.TrimSpace(rt.Note + " " + err.Error())
	case p != nil:
		rt.Proxy = maskURL(p.String())
	}
	return rt
}

// Settings returns the settings in force (read again when stale).
func (r *Resolver) Settings(ctx context.Context) Settings {
	s, _ := r.current(ctx)
	return s
}

// current returns the settings in force. Only the first call reads the OS
// settings while the caller waits; later, stale settings are refreshed in
// the background (one refresh at a time) and requests meanwhile use the
// previous ones, so no request waits for a registry read or for scutil or
// gsettings to run.
func (r *Resolver) current(ctx context.Context) (Settings, func(*url.URL) (*url.URL, error)) {
	r.mu.Lock()
	if r.fn != nil {
		if r.now().Sub(r.at) >= r.ttl && !r.refreshing {
			r.refreshing = true
			go r.refresh(context.Background())
		}
		s, fn := r.cur, r.fn
		r.mu.Unlock()
		return s, fn
	}
	r.mu.Unlock()
	return r.refresh(ctx)
}

// refresh reads the settings (the environment first, then the OS) and
// makes them current.
func (r *Resolver) refresh(ctx context.Context) (Settings, func(*url.URL) (*url.URL, error)) {
	var s Settings
	var fn func(*url.URL) (*url.URL, error)
	if env := httpproxy.FromEnvironment(); env.HTTPProxy != "" || env.HTTPSProxy != "" {
		s = Settings{Source: SourceEnvironment, HTTP: env.HTTPProxy, HTTPS: env.HTTPSProxy, Bypass: splitList(env.NoProxy)}
		fn = env.ProxyFunc()
	} else {
		s = r.read(ctx)
		fn = s.proxyFunc()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !sameSettings(s, r.cur) {
		r.pacMu.Lock()
		r.pacCache = nil
		r.pacMu.Unlock()
	}
	r.cur, r.fn, r.at, r.refreshing = s, fn, r.now(), false
	return s, fn
}

func sameSettings(a, b Settings) bool {
	return a.Source == b.Source && a.HTTP == b.HTTP && a.HTTPS == b.HTTPS && a.PAC == b.PAC &&
		strings.Join(a.Bypass, "\x00") == strings.Join(b.Bypass, "\x00")
}

// viaPAC asks the OS's PAC evaluator, caching the answer per scheme and
// host. ok is false when the script could not be used (then the manual
// setting applies, as on Windows).
func (r *Resolver) viaPAC(ctx context.Context, script string, target *url.URL) (*url.URL, bool) {
	key := target.Scheme + "://" + target.Host
	now := r.now()
	r.pacMu.Lock()
	if a, hit := r.pacCache[key]; hit && now.Sub(a.at) < pacTTL {
		r.pacMu.Unlock()
		return a.proxy, a.ok
	}
	r.pacMu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, pacTimeout)
	defer cancel()
	var a pacAnswer
	list, err := r.pac(ctx, script, target)
	if err == nil {
		a.proxy, err = pickProxy(list, target.Scheme)
		a.ok = err == nil
	}
	a.at = now
	r.pacMu.Lock()
	if r.pacCache == nil || len(r.pacCache) >= 256 {
		r.pacCache = map[string]pacAnswer{}
	}
	r.pacCache[key] = a
	r.pacMu.Unlock()
	return a.proxy, a.ok
}

// proxyFunc applies settings read from the OS (not the environment).
func (s Settings) proxyFunc() func(*url.URL) (*url.URL, error) {
	httpURL, errHTTP := proxyURL(s.HTTP)
	httpsURL, errHTTPS := proxyURL(s.HTTPS)
	return func(u *url.URL) (*url.URL, error) {
		host := u.Hostname()
		if isLoopback(host) || bypassed(s.Bypass, host) {
			return nil, nil
		}
		if u.Scheme == "https" || u.Scheme == "wss" {
			return httpsURL, errHTTPS
		}
		return httpURL, errHTTP
	}
}

// proxyURL parses a proxy address: a URL, or host:port meaning http://.
func proxyURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, &url.Error{Op: "parse", URL: maskURL(s), Err: errBadProxy}
	}
	return u, nil
}

type proxyError string

func (e proxyError) Error() string { return string(e) }

const errBadProxy = proxyError("not a proxy address")

// isLoopback reports whether host is localhost or a loopback address:
// never proxied (Go's ProxyFromEnvironment does the same).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bypassed reports whether host matches one of the bypass entries, read
// the way Windows, macOS and GNOME write them: "<local>" (a name without a
// dot), "*" wildcards ("*.corp", "10.*", "*internal*"), CIDR ("10.0.0.0/8",
// macOS' "169.254/16"), ".example.com" and "example.com" (the domain and its
// subdomains). A scheme or port on the entry is ignored.
func bypassed(entries []string, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "<local>" {
			if ip == nil && !strings.Contains(host, ".") {
				return true
			}
			continue
		}
		if i := strings.Index(e, "://"); i >= 0 {
			e = e[i+3:]
		}
		if strings.Contains(e, "/") {
			if ip != nil {
				if _, n, err := net.ParseCIDR(expandCIDR(e)); err == nil && n.Contains(ip) {
					return true
				}
			}
			continue
		}
		if h, _, err := net.SplitHostPort(e); err == nil {
			e = h
		}
		e = strings.Trim(e, "[]")
		switch {
		case e == "*":
			return true
		case strings.Contains(e, "*"):
			if wildcard(e, host) {
				return true
			}
		case strings.HasPrefix(e, "."):
			if strings.HasSuffix(host, e) || host == e[1:] {
				return true
			}
		case host == e || strings.HasSuffix(host, "."+e):
			return true
		}
	}
	return false
}

// expandCIDR turns macOS' short "169.254/16" into "169.254.0.0/16".
func expandCIDR(e string) string {
	addr, bits, _ := strings.Cut(e, "/")
	if strings.Contains(addr, ":") {
		return e
	}
	for strings.Count(addr, ".") < 3 {
		addr += ".0"
	}
	return addr + "/" + bits
}

// wildcard matches host against a pattern in which "*" stands for any run
// of characters.
func wildcard(pattern, host string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(host, parts[0]) {
		return false
	}
	host = host[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(host, p)
		if i < 0 {
			return false
		}
		host = host[i+len(p):]
	}
	return strings.HasSuffix(host, last)
}

// splitList splits a NO_PROXY- or ProxyOverride-style list.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
