package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
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

// apiError is the management API's error shape.
type apiError struct {
	Error string `json:"error"`
}

func writeAPIJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

func writeAPIError(w http.ResponseWriter, status int, format string, args ...any) {
	writeAPIJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

// decodeAPIBody reads a JSON body strictly: unknown fields, trailing data,
// wrong types and oversize bodies are a 400/413 with a message that names
// the problem.
func decodeAPIBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			writeAPIError(w, http.StatusRequestEntityTooLarge, "request body is larger than %d MiB", maxAPIBody>>20)
		case errors.Is(err, io.EOF):
			writeAPIError(w, http.StatusBadRequest, "request body is empty; send JSON")
		case errors.As(err, &te):
			writeAPIError(w, http.StatusBadRequest, "field %q must be %s, not %s", te.Field, te.Type.String(), te.Value)
		case errors.As(err, &se):
			writeAPIError(w, http.StatusBadRequest, "malformed JSON at byte %d: %v", se.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			writeAPIError(w, http.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			writeAPIError(w, http.StatusBadRequest, "invalid JSON: %v", err)
		}
		return false
	}
	if dec.More() {
		writeAPIError(w, http.StatusBadRequest, "unexpected data after the JSON value")
		return false
	}
	return true
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

// throttled answers 429 with Retry-After when r's client must still wait
// after failed password tries, and reports whether it did.
func (a *App) throttled(w http.ResponseWriter, r *http.Request) bool {
	d := a.throttle.wait(r)
	if d <= 0 {
		return false
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	writeAPIError(w, http.StatusTooManyRequests, "too many wrong passwords from this address; try again in %d s", secs)
	return true
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

// authed wraps an API handler with the admin check.
func (a *App) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
			tok := strings.TrimSpace(auth[7:])
			if a.isControlToken(tok) {
				h(w, r)
				return
			}
			if a.throttled(w, r) {
				return
			}
			if a.checkPassword(r, tok) {
				h(w, r)
				return
			}
			writeAPIError(w, http.StatusUnauthorized, "invalid admin token")
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || !a.sessions.valid(c.Value) {
			writeAPIError(w, http.StatusUnauthorized, "log in first (or send Authorization: Bearer <admin password>)")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
			writeAPIError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		h(w, r)
	}
}

func (a *App) apiLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeAPIError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	if a.throttled(w, r) {
		return
	}
	var in struct {
		Password string `json:"password"`
	}
	if !decodeAPIBody(w, r, &in) {
		return
	}
	if !a.checkPassword(r, in.Password) {
		writeAPIError(w, http.StatusUnauthorized, "wrong password")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: a.sessions.create(), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second),
	})
	writeAPIJSON(w, http.StatusOK, map[string]bool{"loggedIn": true})
}

func (a *App) apiLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.sessions.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	writeAPIJSON(w, http.StatusOK, map[string]bool{"loggedIn": false})
}

func (a *App) apiSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(sessionCookie)
	writeAPIJSON(w, http.StatusOK, map[string]bool{"loggedIn": err == nil && a.sessions.valid(c.Value)})
}

func (a *App) apiStatus(w http.ResponseWriter, r *http.Request) {
	writeAPIJSON(w, http.StatusOK, a.Status())
}

// adminHandler is the management API and the web UI.
func (a *App) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", a.apiLogin)
	mux.HandleFunc("POST /api/logout", a.apiLogout)
	mux.HandleFunc("GET /api/session", a.apiSession)
	mux.HandleFunc("GET "+loginLinkPath+"{token}", a.apiLoginOnce)
	mux.HandleFunc("GET /api/status", a.authed(a.apiStatus))
	a.apiRoutes(mux)
	a.secretStoreRoutes(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "no such API route: %s %s", r.Method, r.URL.Path)
	})
	mux.Handle("/", a.uiHandler())
	return securityHeaders(mux)
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
