package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sendHeadOnly opens a connection, sends a request head that announces a
// body of 100 bytes, never sends the body, and returns the answer. It fails
// when no answer comes within 5 s (the proxy used to wait for the body).
func sendHeadOnly(t *testing.T, addr, head string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to %q without its body: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, conn, br
}

// wantClosed checks that the server closes conn.
func wantClosed(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("connection not closed after the early answer: read = %v, want EOF", err)
	}
}

func TestRejectedRequestsDoNotWaitForTheirBody(t *testing.T) {
	e := newEnv(t, 1)
	addr := strings.TrimPrefix(e.base, "http://")
	for _, tc := range []struct {
		name, head string
		status     int
	}{
		{"no key", "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n", 401},
		{"wrong key", "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer nope\r\nContent-Length: 100\r\n\r\n", 401},
		{"chunked, no key", "POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n", 401},
		{"foreign host", "POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 100\r\n\r\n", 403},
		{"dot segments", "POST /v1beta/models/../x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, conn, br := sendHeadOnly(t, addr, tc.head)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			wantClosed(t, conn, br)
		})
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream requests = %d, want 0", n)
	}
}

func TestPausedAnswerDoesNotWaitForBody(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.srv.Config()
	cfg.Paused = true
	if _, err := e.srv.Update(cfg); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(e.base, "http://")
	head := fmt.Sprintf("POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: %s\r\nContent-Length: 100\r\n\r\n", e.accessKey)
	resp, conn, br := sendHeadOnly(t, addr, head)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
	wantClosed(t, conn, br)
}

func TestHeaderSizeBounded(t *testing.T) {
	e := newEnv(t, 1)
	addr := strings.TrimPrefix(e.base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// 256 KiB of headers: well below the 1 MB that used to be accepted,
	// well above the limit.
	go func() {
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for i := 0; i < 256; i++ {
			if _, err := io.WriteString(conn, line); err != nil {
				return
			}
		}
		io.WriteString(conn, "\r\n")
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("256 KiB of headers: status = %d, want 431", resp.StatusCode)
	}
}

func TestSlowBodyCutOff(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.BodyReadTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(e.base, "http://")
	for _, path := range []string{gen("gemini-2.5-flash"), "/v1/chat/completions"} {
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"con", path, e.accessKey, e.accessKey)
		resp, conn, br := sendHeadOnly(t, addr, head)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: status = %d, want 408", path, resp.StatusCode)
		}
		wantClosed(t, conn, br)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream requests = %d, want 0", n)
	}
	// A body that arrives in time still works, and a long answer after it
	// is not cut by the body deadline.
	e.fake.SetDefaultStream(3, 200*time.Millisecond)
	resp, body := e.do("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", generateBody)
	e.wantStatus(resp, body, http.StatusOK)
	if got := strings.Count(string(body), "data: "); got != 3 {
		t.Errorf("stream after the body: %d events, want 3 (the body deadline must not cut the answer)", got)
	}
}

func TestSlowUploadCutOff(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.BodyReadTimeout = 400 * time.Millisecond })
	addr := strings.TrimPrefix(e.base, "http://")
	// A media upload announces 1000 bytes, sends 10, then stalls: every
	// read of a streamed upload must make progress within half the body
	// timeout.
	head := fmt.Sprintf("POST /upload/v1beta/files?uploadType=media HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: %s\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789", e.accessKey)
	resp, conn, br := sendHeadOnly(t, addr, head)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled upload: status = %d, want 408", resp.StatusCode)
	}
	wantClosed(t, conn, br)
}

func TestHalfOpenConnectionsBounded(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.MaxWaitingConns = 20 })
	addr := strings.TrimPrefix(e.base, "http://")
	// 100 connections that send half their headers and then nothing
	// (slowloris): only the 20 newest are kept; the rest are closed at
	// once, not after ReadHeaderTimeout.
	var conns []net.Conn
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		conns = append(conns, c)
	}
	// A client that comes now is served.
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, http.StatusOK)
	// Well before ReadHeaderTimeout (10 s), see which ones the server
	// closed: a closed one reads EOF at once, an open one times out.
	time.Sleep(500 * time.Millisecond)
	closed := 0
	for _, c := range conns { // at most 100 × 20 ms: well within the 10 s
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeoutErr(err) {
			closed++
		}
	}
	if closed < 80 {
		t.Errorf("server closed %d of 100 half-open connections, want at least 80 (limit 20)", closed)
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
