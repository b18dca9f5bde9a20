package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestLoginLink opens a one-time login link like a browser: it sets a
// session cookie and redirects to the UI; the session then works; the
// link works once; the link holds no password.
func TestLoginLink(t *testing.T) {
	e := newAPIEnv(t)
	link, err := e.a.LoginLink()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, e.base+loginLinkPath) {
		t.Fatalf("LoginLink() = %q, want a link under %s%s", link, e.base, loginLinkPath)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET link = %d (Location %q), want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("GET link set cookie %+v, want an HttpOnly, SameSite=Strict session", session)
	}
	req, _ := http.NewRequest("GET", e.base+"/api/status", nil)
	req.AddCookie(session)
	st, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	st.Body.Close()
	if st.StatusCode != http.StatusOK {
		t.Errorf("GET /api/status with the link's session = %d, want 200", st.StatusCode)
	}
	again, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusForbidden || len(again.Cookies()) != 0 {
		t.Errorf("GET link a second time = %d with cookies %v, want 403 and none", again.StatusCode, again.Cookies())
	}
	bad, _ := noFollow.Get(e.base + loginLinkPath + "0123")
	if bad != nil {
		bad.Body.Close()
		if bad.StatusCode != http.StatusForbidden {
			t.Errorf("GET a made-up link = %d, want 403", bad.StatusCode)
		}
	}
}
