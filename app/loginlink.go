package app

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// loginLinkTTL is how long a one-time login link works.
const loginLinkTTL = 2 * time.Minute

// maxLoginLinks bounds the links waiting to be used.
const maxLoginLinks = 16

// loginLinkPath is where one-time login links point.
const loginLinkPath = "/api/login/once/"

// LoginLink returns a URL that logs one browser into the web UI and shows
// it: for opening the UI in the default browser when there is no window
// (Windows without the WebView2 runtime). The link works once, for two
// minutes, and holds a random token, never the admin password.
func (a *App) LoginLink() (string, error) {
	a.mu.Lock()
	running := a.running
	a.mu.Unlock()
	if !running {
		return "", errors.New("the proxy is not serving, so the web UI cannot be opened")
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := hex.EncodeToString(b)
	a.sessions.addLink(token)
	return a.BaseURL() + loginLinkPath + token, nil
}

func linkKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

func (s *sessions) addLink(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.links == nil {
		s.links = map[[32]byte]time.Time{}
	}
	for k, exp := range s.links {
		if now.After(exp) || len(s.links) >= maxLoginLinks {
			delete(s.links, k)
		}
	}
	s.links[linkKey(token)] = now.Add(loginLinkTTL)
}

// useLink consumes a login link and reports whether it was valid.
func (s *sessions) useLink(token string) bool {
	k := linkKey(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.links[k]
	delete(s.links, k)
	return ok && time.Now().Before(exp)
}

// apiLoginOnce logs the browser in with a one-time link and sends it to
// the UI.
func (a *App) apiLoginOnce(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !a.sessions.useLink(r.PathValue("token")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("This login link was already used or has expired. Open the web UI and log in with the admin password.\n"))
		return
	}
	a.startSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
