package proxy

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gemini-balance/desktop/proxy/keypool"
)

func TestFileAffinity(t *testing.T) {
	e := newEnv(t, 5)
	e.pool.SetStrategy(keypool.Random)
	for round := 0; round < 3; round++ {
		resp, body := e.doWith("POST", "/upload/v1beta/files", `{"file":{"display_name":"a.txt"}}`, map[string]string{
			"x-goog-api-key":                      e.accessKey,
			"X-Goog-Upload-Protocol":              "resumable",
			"X-Goog-Upload-Command":               "start",
			"X-Goog-Upload-Header-Content-Length": "5",
			"X-Goog-Upload-Header-Content-Type":   "text/plain",
		})
		e.wantStatus(resp, body, 200)
		loc := resp.Header.Get("X-Goog-Upload-Url")
		u, err := url.Parse(loc)
		if err != nil || u.Host != strings.TrimPrefix(e.base, "http://") {
			t.Fatalf("upload URL %q does not point back at the proxy", loc)
		}
		resp, body = e.doWith("POST", u.RequestURI(), "hello", map[string]string{
			"x-goog-api-key": e.accessKey, "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0",
		})
		e.wantStatus(resp, body, 200)
		var f struct {
			File struct {
				Name string `json:"name"`
				URI  string `json:"uri"`
			} `json:"file"`
		}
		if err := jsonUnmarshal(body, &f); err != nil || !strings.HasPrefix(f.File.Name, "files/") {
			t.Fatalf("finalize answer %s: no file name", body)
		}
		for i := 0; i < 4; i++ {
			resp, body = e.do("GET", "/v1beta/"+f.File.Name, "")
			e.wantStatus(resp, body, 200)
		}
		ref := `{"contents":[{"parts":[{"fileData":{"mimeType":"text/plain","fileUri":"` + e.fake.URL() + "/v1beta/" + f.File.Name + `"}},{"text":"sum up"}]}]}`
		for i := 0; i < 4; i++ {
			resp, body = e.do("POST", gen("gemini-2.5-flash"), ref)
			e.wantStatus(resp, body, 200)
		}
		reqs := e.fake.Requests()
		owner := ""
		for _, r := range reqs[len(reqs)-10:] {
			if owner == "" {
				owner = r.Key
			}
			if r.Key != owner {
				t.Fatalf("round %d: %s %s went out with another key than the one that uploaded the file", round, r.Method, r.Path)
			}
		}
	}
}

func TestCachedContentAffinity(t *testing.T) {
	e := newEnv(t, 5)
	e.pool.SetStrategy(keypool.Random)
	resp, body := e.do("POST", "/v1beta/cachedContents", `{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"long"}]}]}`)
	e.wantStatus(resp, body, 200)
	var cc struct{ Name string }
	if err := jsonUnmarshal(body, &cc); err != nil || !strings.HasPrefix(cc.Name, "cachedContents/") {
		t.Fatalf("create answer %s", body)
	}
	owner := e.fake.Requests()[0].Key
	for i := 0; i < 6; i++ {
		resp, body = e.do("POST", gen("gemini-2.5-flash"), `{"cachedContent":"`+cc.Name+`","contents":[{"role":"user","parts":[{"text":"q"}]}]}`)
		e.wantStatus(resp, body, 200)
		resp, body = e.do("GET", "/v1beta/"+cc.Name, "")
		e.wantStatus(resp, body, 200)
	}
	for _, r := range e.fake.Requests() {
		if r.Key != owner {
			t.Fatalf("%s %s used another key than the cache's owner", r.Method, r.Path)
		}
	}
}

// tlsFront puts a TLS server in front of the fake upstream and makes the
// proxy trust it, so that egress goes through CONNECT as it does to Google.
func tlsFront(t *testing.T, e *env) string {
	t.Helper()
	target, _ := url.Parse(e.fake.URL())
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(front.Close)
	return front.URL
}

func useUpstream(t *testing.T, e *env, upstream, proxyURL string, trust *tls.Config) {
	t.Helper()
	cfg := e.srv.Config()
	cfg.Upstream = upstream
	cfg.UpstreamProxy = proxyURL
	if _, err := e.srv.Update(cfg); err != nil {
		t.Fatalf("Update: %v", err)
	}
	e.srv.transport.Load().TLSClientConfig = trust
}

func TestUpstreamHTTPProxyWithCredentials(t *testing.T) {
	e := newEnv(t, 1)
	front := tlsFront(t, e)
	cp := newConnectProxy(t, "alice", "s3cret")
	fu, _ := url.Parse(front)
	trust := &tls.Config{InsecureSkipVerify: true} // the test front's self-signed cert
	useUpstream(t, e, front, "http://alice:s3cret@"+cp.addr, trust)
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 200)
	if got := cp.targets(); len(got) != 1 || got[0] != fu.Host {
		t.Errorf("CONNECT targets = %v, want [%s]", got, fu.Host)
	}
}

func TestUpstreamHTTPProxyRejectsBadCredentials(t *testing.T) {
	e := newEnv(t, 1)
	front := tlsFront(t, e)
	cp := newConnectProxy(t, "alice", "s3cret")
	useUpstream(t, e, front, "http://alice:wrong@"+cp.addr, &tls.Config{InsecureSkipVerify: true})
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502 (%s)", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "wrong") || strings.Contains(string(body), "s3cret") {
		t.Errorf("the proxy password leaked into the error: %s", body)
	}
}

func TestUpstreamSOCKS5Proxy(t *testing.T) {
	e := newEnv(t, 1)
	front := tlsFront(t, e)
	sp := newSOCKS5(t)
	useUpstream(t, e, front, "socks5://"+sp.addr, &tls.Config{InsecureSkipVerify: true})
	resp, body := e.do("POST", gen("gemini-2.5-flash"), generateBody)
	e.wantStatus(resp, body, 200)
	if sp.count() != 1 {
		t.Errorf("SOCKS5 connections = %d, want 1", sp.count())
	}
}

// connectProxy is a minimal HTTP CONNECT proxy with basic auth.
type connectProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (p *connectProxy) targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func newConnectProxy(t *testing.T, user, pass string) *connectProxy {
	p := &connectProxy{}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Proxy-Authorization") != want {
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		p.mu.Lock()
		p.seen = append(p.seen, r.Host)
		p.mu.Unlock()
		dst, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			dst.Close()
			return
		}
		go pipe(conn, brw.Reader, dst)
	}))
	t.Cleanup(srv.Close)
	p.addr = strings.TrimPrefix(srv.URL, "http://")
	return p
}

func pipe(client net.Conn, br *bufio.Reader, dst net.Conn) {
	defer client.Close()
	defer dst.Close()
	go io.Copy(dst, br)
	io.Copy(client, dst)
}

// socks5 is a minimal SOCKS5 server (no auth, CONNECT only).
type socks5 struct {
	addr string
	mu   sync.Mutex
	n    int
}

func (s *socks5) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func newSOCKS5(t *testing.T) *socks5 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &socks5{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *socks5) serve(c net.Conn) {
	br := bufio.NewReader(c)
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 5 {
		c.Close()
		return
	}
	io.ReadFull(br, make([]byte, hdr[1]))
	c.Write([]byte{5, 0})
	req := make([]byte, 4)
	if _, err := io.ReadFull(br, req); err != nil || req[1] != 1 {
		c.Close()
		return
	}
	var host string
	switch req[3] {
	case 1:
		ip := make([]byte, 4)
		io.ReadFull(br, ip)
		host = net.IP(ip).String()
	case 3:
		l, _ := br.ReadByte()
		name := make([]byte, l)
		io.ReadFull(br, name)
		host = string(name)
	default:
		c.Close()
		return
	}
	pb := make([]byte, 2)
	io.ReadFull(br, pb)
	dst, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(pb)))))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		c.Close()
		return
	}
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	pipe(c, br, dst)
}
