package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// rawRequest sends req as written (no client-side path cleaning) and
// returns the response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", strings.SplitN(req, "\r\n", 2)[0], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

func TestUnknownOpenAIRoutesAnsweredLocally(t *testing.T) {
	e := newEnv(t, 1)
	for _, path := range []string{"/v1/completions", "/v1/audio/speech", "/v1/assistants/x", "/v1/images/generations"} {
		resp, body := e.openAI("POST", path, `{"model":"gemini-2.5-flash"}`)
		e.wantStatus(resp, body, http.StatusNotFound)
		var got struct {
			Error struct{ Message, Type string } `json:"error"`
		}
		if err := jsonUnmarshal(body, &got); err != nil || got.Error.Message == "" || got.Error.Type == "" {
			t.Errorf("POST %s: body %s is not an OpenAI error", path, body)
		}
		// The same with a Gemini-style key: still local.
		resp, body = e.do("POST", path, `{}`)
		e.wantStatus(resp, body, http.StatusNotFound)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream saw %d requests for unknown OpenAI routes, want 0", n)
	}
	// Native /v1 resources still pass.
	resp, body := e.do("POST", "/v1/models/gemini-2.5-flash:generateContent", generateBody)
	e.wantStatus(resp, body, http.StatusOK)
	resp, body = e.do("GET", "/v1/files", "")
	if resp.StatusCode == http.StatusNotFound && strings.Contains(string(body), "unknown OpenAI route") {
		t.Errorf("GET /v1/files was answered as an unknown OpenAI route")
	}
}

func TestDotSegmentsRefused(t *testing.T) {
	e := newEnv(t, 1)
	addr := strings.TrimPrefix(e.base, "http://")
	for _, p := range []string{
		"/v1beta/models/../../api/status",
		"/v1beta/models/%2e%2e/%2E%2E/api/status",
		"/v1beta/models/gemini-2.5-flash/./x:generateContent",
		"/v1/chat/completions/..",
		"/v1beta/models/%2e%2e%2f%2e%2e%2fapi",
	} {
		req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", p, e.accessKey)
		resp, body := rawRequest(t, addr, req)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400; body %s", p, resp.StatusCode, body)
		}
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream saw %d requests with dot segments, want 0", n)
	}
}

func TestHopByHopHeadersFiltered(t *testing.T) {
	e := newEnv(t, 1)
	// Upstream → client: a header named in Connection is dropped.
	e.fake.ScriptAll(proxytest.WithHeader("Connection", "X-Hop-Down", proxytest.WithHeader("X-Hop-Down", "secret", proxytest.WithHeader("X-Kept", "yes",
		proxytest.Fixture(200, "application/json", []byte(`{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]}`))))))
	resp, body := e.doWith("POST", gen("gemini-2.5-flash"), generateBody, map[string]string{
		"x-goog-api-key": e.accessKey,
		"Connection":     "keep-alive, X-Hop-Up",
		"X-Hop-Up":       "private",
		"X-Kept-Up":      "yes",
	})
	e.wantStatus(resp, body, http.StatusOK)
	if v := resp.Header.Get("X-Hop-Down"); v != "" {
		t.Errorf("client got X-Hop-Down = %q, which upstream named in Connection", v)
	}
	if resp.Header.Get("X-Kept") != "yes" {
		t.Errorf("client lost an end-to-end header X-Kept")
	}
	reqs := e.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream requests = %d, want 1", len(reqs))
	}
	if v := reqs[0].Header.Get("X-Hop-Up"); v != "" {
		t.Errorf("upstream got X-Hop-Up = %q, which the client named in Connection", v)
	}
	if reqs[0].Header.Get("X-Kept-Up") != "yes" {
		t.Errorf("upstream lost an end-to-end header X-Kept-Up")
	}
}
