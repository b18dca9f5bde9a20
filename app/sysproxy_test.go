package app

import (
	"context"
	"testing"
)

// TestStatusShowsSystemProxy checks that GET /api/status says what the
// "system proxy" setting resolved to, follows a change of the system
// setting, and is absent once an explicit proxy is set.
func TestStatusShowsSystemProxy(t *testing.T) {
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(v, "")
	}
	// A non-loopback upstream, so that the proxy applies to it.
	t.Setenv("HTTPS_PROXY", "http://user:hunter2@10.9.8.7:3128")
	e := newAPIEnv(t)
	s := e.a.Settings()
	s.Upstream = "https://generativelanguage.googleapis.com"
	if _, err := e.a.UpdateSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var st Status
	e.call("GET", "/api/status", nil).json(t, &st)
	if st.SystemProxy == nil || st.SystemProxy.Source != "environment" || st.SystemProxy.Proxy != "http://user:***@10.9.8.7:3128" {
		t.Fatalf("status.systemProxy = %+v, want the environment's proxy with the password masked", st.SystemProxy)
	}
	s.UpstreamProxy = "direct"
	if _, err := e.a.UpdateSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	st = Status{}
	e.call("GET", "/api/status", nil).json(t, &st)
	if st.SystemProxy != nil {
		t.Errorf("status.systemProxy with upstream proxy \"direct\" = %+v, want absent", st.SystemProxy)
	}
}
