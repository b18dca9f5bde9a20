package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The management API and the web UI, served by the proxy at every path it
// does not own. Authentication: "Authorization: Bearer <admin password>"
// for scripts, or a login (POST /api/login) that sets an HttpOnly,
// SameSite=Strict session cookie holding a random session id (never the
// password). Requests authenticated by cookie that change something must
// come from the same origin.

// sessionCookie is the name of the admin session cookie.
const sessionCookie = "gbd_session"

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// maxAPIBody caps management request bodies (a bulk add of many keys fits).
const maxAPIBody = 16 << 20

// sessions are the logged-in browsers, in memory: a restart logs out.
type sessions struct {
	mu   sync.Mutex
	byID map[string]time.Time
	// links are one-time login links (loginlink.go), by token hash.
	links map[[32]byte]time.Time
}

func newSessions() *sessions { return &sessions{byID: map[string]time.Time{}} }

func (s *sessions) create() string {
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.byID {
		if now.After(exp) {
			delete(s.byID, k)
		}
	}
	s.byID[id] = now.Add(sessionTTL)
	return id
}

func (s *sessions) valid(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.byID[id]
	return ok && time.Now().Before(exp)
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessions) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.byID)
}

// sameOrigin reports whether a cookie-authenticated request that changes
// state comes from this UI: its Origin (or, failing that, Referer) names
// the Host it was sent to, or the browser says it is same-origin.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") != ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// throttled is a 429 with Retry-After when r's client must still wait
// after failed password tries (nil when it need not).
func (a *App) throttled(w http.ResponseWriter, r *http.Request) error {
	d := a.throttle.wait(r)
	if d <= 0 {
		return nil
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	return httpError(http.StatusTooManyRequests, "too many wrong passwords from this address; try again in %d s", secs)
}

// checkPassword checks an admin password (login or Bearer token) from r's
// client and keeps the throttle's account.
func (a *App) checkPassword(r *http.Request, pw string) bool {
	if !a.admin.check(r.Context(), pw) {
		a.throttle.failed(r)
		return false
	}
	a.throttle.succeeded(r)
	return true
}

// localUserKey marks, in a request's context, a request of the desktop
// window: it came in-process through Wails' asset server (WindowHandler),
// never over the network, and is trusted as the local user.
type localUserKey struct{}

// isLocalUser reports whether r came from the desktop window.
func isLocalUser(r *http.Request) bool {
	on, _ := r.Context().Value(localUserKey{}).(bool)
	return on
}

// localOnly limits h to the desktop window (403 for everyone else).
func localOnly(h apiFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !isLocalUser(r) {
			return httpError(http.StatusForbidden, "only the desktop window may do this")
		}
		return h(w, r)
	}
}

// authed wraps an API handler with the admin check: the desktop window,
// the CLI's control token, an admin Bearer token, or a session cookie
// (same-origin for changes).
func (a *App) authed(h http.HandlerFunc) http.HandlerFunc {
	return serveAPI(func(w http.ResponseWriter, r *http.Request) error {
		if err := a.admitted(w, r); err != nil {
			return err
		}
		h(w, r)
		return nil
	})
}

// admitted is nil when r may use the management API.
func (a *App) admitted(w http.ResponseWriter, r *http.Request) error {
	if isLocalUser(r) {
		return nil
	}
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		tok := strings.TrimSpace(auth[7:])
		if a.isControlToken(tok) {
			return nil
		}
		if err := a.throttled(w, r); err != nil {
			return err
		}
		if a.checkPassword(r, tok) {
			return nil
		}
		return httpError(http.StatusUnauthorized, "invalid admin token")
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || !a.sessions.valid(c.Value) {
		return httpError(http.StatusUnauthorized, "log in first (or send Authorization: Bearer <admin password>)")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
		return httpError(http.StatusForbidden, "cross-site request refused")
	}
	return nil
}

func (a *App) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return httpError(http.StatusForbidden, "cross-site request refused")
	}
	if err := a.throttled(w, r); err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	if !a.checkPassword(r, in.Password) {
		return &HTTPError{Status: http.StatusUnauthorized, Field: "password", Err: errors.New("wrong password")}
	}
	a.startSession(w)
	return answer(w, map[string]bool{"loggedIn": true})
}

func (a *App) apiLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.sessions.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return answer(w, map[string]bool{"loggedIn": false})
}

// startSession logs the caller in: a new session in a cookie only this
// origin's requests carry.
func (a *App) startSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: a.sessions.create(), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second),
	})
}

// apiSession says whether the caller is logged in, and whether it is the
// desktop window (which needs no login and may do what only the local user
// may, such as exporting to a file).
func (a *App) apiSession(w http.ResponseWriter, r *http.Request) error {
	local := isLocalUser(r)
	c, err := r.Cookie(sessionCookie)
	return answer(w, map[string]bool{"loggedIn": local || (err == nil && a.sessions.valid(c.Value)), "window": local})
}

func (a *App) apiStatus(w http.ResponseWriter, r *http.Request) error {
	return answer(w, a.Status())
}

// adminHandler is the management API and the web UI, as the proxy serves
// them on its listener.
func (a *App) adminHandler() http.Handler {
	mux := a.apiMux()
	mux.Handle("/", a.uiHandler())
	return securityHeaders(mux)
}

// apiMux routes the management API.
func (a *App) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", serveAPI(a.apiLogin))
	mux.HandleFunc("POST /api/logout", serveAPI(a.apiLogout))
	mux.HandleFunc("GET /api/session", serveAPI(a.apiSession))
	mux.HandleFunc("GET "+loginLinkPath+"{token}", a.apiLoginOnce)
	mux.HandleFunc("GET /api/status", a.authed(serveAPI(a.apiStatus)))
	a.apiRoutes(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, httpError(http.StatusNotFound, "no such API route: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// windowHosts are the hosts Wails' asset server serves the desktop
// window's page from: wails://wails (Linux, macOS) and
// http://wails.localhost (Windows, WebView2).
var windowHosts = []string{"wails", "wails.localhost"}

// WindowHandler is the desktop window's way to the management API, for
// Wails' assetserver.Options.Middleware: requests for /api/... are served
// in-process (no network hop, no login: the window is the local user),
// everything else goes to next (Wails' asset handler, the built UI).
//
// The trust comes from the way in, not from anything a request says: this
// handler is reachable only through Wails' asset server, which only the
// window's webview talks to (the proxy's listener serves adminHandler,
// where a Host of "wails" earns nothing). A page from elsewhere that the
// webview might show is kept out anyway: the Host must be the window's and
// an Origin or Sec-Fetch-Site, when sent, must say same-origin.
func (a *App) WindowHandler(next http.Handler) http.Handler {
	api := securityHeaders(a.apiMux())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if !windowRequest(r) {
			a.log.Warn("window API request refused", "method", r.Method, "path", r.URL.Path, "host", r.Host, "origin", r.Header.Get("Origin"))
			writeAPIError(w, httpError(http.StatusForbidden, "not the desktop window's page"))
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		api.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), localUserKey{}, true)))
		a.log.Debug("window API request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

// windowRequest reports whether r is addressed to the window's own origin
// and, as far as it says, sent by a page of that origin.
func windowRequest(r *http.Request) bool {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !slices.Contains(windowHosts, host) {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// securityHeaders keeps the UI out of frames and sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// uiHandler serves the built frontend; unknown paths get index.html (the
// UI routes itself). Without a build it says how to make one.
func (a *App) uiHandler() http.Handler {
	assets := a.opts.Assets
	if assets == nil {
		return http.HandlerFunc(noUI)
	}
	if _, err := fs.Stat(assets, "index.html"); err != nil {
		return http.HandlerFunc(noUI)
	}
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/")
		if p != "" {
			if _, err := fs.Stat(assets, p); err != nil {
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/"
				files.ServeHTTP(w, r2)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}

func noUI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintln(w, "Gemini Balance Desktop: the web UI was not built into this binary (run `npm run build` in frontend/ and rebuild). The API works: see /api/status.")
}
