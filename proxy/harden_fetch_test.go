package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// imageServer serves a PNG at /cat.png (and whatever mux adds), counting
// hits.
type imageServer struct {
	*httptest.Server
	hits atomic.Int64
}

var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func newImageServer(t *testing.T, extra func(mux *http.ServeMux)) *imageServer {
	s := &imageServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/cat.png", func(w http.ResponseWriter, r *http.Request) { w.Write(tinyPNG) })
	if extra != nil {
		extra(mux)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// chatWithImages is a chat request with one image_url part per URL.
func chatWithImages(urls ...string) string {
	var parts []string
	for _, u := range urls {
		parts = append(parts, fmt.Sprintf(`{"type":"image_url","image_url":{"url":%q}}`, u))
	}
	return `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` + strings.Join(parts, ",") + `]}]}`
}

func allowHosts(h ...string) envOption {
	return func(c *Config) { c.ImageFetchAllowHosts = h }
}

// wantFetchRefused checks a 400 whose message has want and no network
// details.
func wantFetchRefused(t *testing.T, e *env, what string, resp *http.Response, body []byte, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
		t.Errorf("%s: %d %s, want 400 saying %q", what, resp.StatusCode, body, want)
	}
	for _, leak := range []string{"refused", "dial", "lookup", "no such host", "reset", "i/o timeout", "EOF"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("%s: the error shows network details (%q): %s", what, leak, body)
		}
	}
}

func TestImageFetchRefusesLocalAddresses(t *testing.T) {
	img := newImageServer(t, nil)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(img.URL, "http://"))
	e := newEnv(t, 1)
	for _, u := range []string{
		img.URL + "/cat.png",                        // loopback literal
		"http://localhost:" + port + "/cat.png",     // a name that resolves to loopback
		"http://[::1]:" + port + "/cat.png",         // IPv6 loopback
		"http://[::ffff:127.0.0.1]:" + port + "/x",  // v4-mapped
		"http://0.0.0.0:" + port + "/cat.png",       // unspecified
		"http://169.254.169.254/latest/meta-data/",  // link-local (cloud metadata)
		"http://10.0.0.1/x", "http://192.168.1.1/x", // private
		"http://100.64.0.1/x", "http://224.0.0.1/x", // CGNAT, multicast
	} {
		resp, body := e.openAI("POST", "/v1/chat/completions", chatWithImages(u))
		wantFetchRefused(t, e, u, resp, body, "not allowed")
	}
	if n := img.hits.Load(); n != 0 {
		t.Errorf("image server hits = %d, want 0", n)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream requests = %d, want 0", n)
	}
}

func TestImageFetchAllowList(t *testing.T) {
	img := newImageServer(t, nil)
	e := newEnv(t, 1, allowHosts("127.0.0.1"))
	resp, body := e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/cat.png"))
	e.wantStatus(resp, body, http.StatusOK)
	reqs := e.fake.Requests()
	if len(reqs) != 1 || !bytes.Contains(reqs[0].Body, []byte(base64.StdEncoding.EncodeToString(tinyPNG))) || !bytes.Contains(reqs[0].Body, []byte(`"image/png"`)) {
		t.Errorf("upstream did not get the fetched image as sniffed image/png inline data")
	}
	for _, bad := range [][]string{{"http://x"}, {"a b"}, {"10.0.0.0/33"}, {"host:80"}} {
		cfg := e.srv.Config()
		cfg.ImageFetchAllowHosts = bad
		if _, err := e.srv.Update(cfg); err == nil {
			t.Errorf("Update(ImageFetchAllowHosts %q) accepted", bad)
		}
	}
}

func TestImageFetchDialerChecksTheConnectedAddress(t *testing.T) {
	// The check before sending resolves the name once; the dialer checks
	// the address it actually connects to, so a name that resolves to a
	// public address first and a local one next (DNS rebinding) is still
	// refused. Here the dialer is driven directly with a local name.
	img := newImageServer(t, nil)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(img.URL, "http://"))
	fc, err := newFetchClient("direct", fetchPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	dial := fc.Transport.(*http.Transport).DialContext
	for _, addr := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		c, err := dial(context.Background(), "tcp", addr)
		if err == nil {
			c.Close()
			t.Errorf("dial %s: connected, want refused", addr)
		} else if !errors.Is(err, errNotAllowed) {
			t.Errorf("dial %s: %v, want errNotAllowed", addr, err)
		}
	}
}

func TestImageFetchThroughUpstreamProxy(t *testing.T) {
	img := newImageServer(t, nil)
	sp := newSOCKS5(t)
	// Refused before anything is sent to the proxy.
	e := newEnv(t, 1, func(c *Config) { c.UpstreamProxy = "socks5://" + sp.addr })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(img.URL, "http://"))
	for _, u := range []string{img.URL + "/cat.png", "http://localhost:" + port + "/cat.png"} {
		resp, body := e.openAI("POST", "/v1/chat/completions", chatWithImages(u))
		wantFetchRefused(t, e, "via proxy "+u, resp, body, "not allowed")
	}
	if sp.count() != 0 || img.hits.Load() != 0 {
		t.Errorf("proxy connections = %d, image hits = %d; want 0, 0", sp.count(), img.hits.Load())
	}
	// Allowed hosts go through the proxy (which itself is on loopback).
	e2 := newEnv(t, 1, allowHosts("127.0.0.1"), func(c *Config) { c.UpstreamProxy = "socks5://" + sp.addr })
	resp, body := e2.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/cat.png"))
	e2.wantStatus(resp, body, http.StatusOK)
	if sp.count() != 2 || img.hits.Load() != 1 {
		t.Errorf("proxy connections = %d, image hits = %d; want 2 (the image, then Google), 1", sp.count(), img.hits.Load())
	}
}

func TestImageFetchRedirectsAndErrors(t *testing.T) {
	img := newImageServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
			var n int
			fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/hop/"), "%d", &n)
			if n == 0 {
				http.Redirect(w, r, "/cat.png", http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		})
		mux.HandleFunc("/to-local", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.2:9/x", http.StatusFound)
		})
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
	})
	e := newEnv(t, 1, allowHosts("127.0.0.1"), func(c *Config) { c.ImageFetchTimeout = 300 * time.Millisecond })
	// Three redirects are followed; four are not.
	resp, body := e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/hop/2"))
	e.wantStatus(resp, body, http.StatusOK)
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/hop/3"))
	wantFetchRefused(t, e, "4 redirects", resp, body, "more than 3 redirects")
	// Every hop is checked.
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/to-local"))
	wantFetchRefused(t, e, "redirect to 127.0.0.2", resp, body, "not allowed")
	// Errors say the status, "timed out", or nothing about the network.
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/missing.png"))
	wantFetchRefused(t, e, "404", resp, body, "HTTP 404")
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/slow"))
	wantFetchRefused(t, e, "slow", resp, body, "timed out")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages("http://"+closed+"/x.png"))
	wantFetchRefused(t, e, "closed port", resp, body, "could not be reached")
}

func TestImageFetchPerRequestCaps(t *testing.T) {
	big := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 5_000_000) // 20 MB "JPEG"
	img := newImageServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("/big.jpg", func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "big.jpg", time.Time{}, bytes.NewReader(big))
		})
		mux.HandleFunc("/big-chunked.jpg", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			for i := 0; i < len(big); i += 1 << 20 {
				w.Write(big[i:min(i+1<<20, len(big))])
				w.(http.Flusher).Flush()
			}
		})
	})
	e := newEnv(t, 1, allowHosts("127.0.0.1"))
	// The figure: 20 parts pointing at a 20 MB file.
	urls := make([]string, 20)
	for i := range urls {
		urls[i] = img.URL + "/big.jpg"
	}
	resp, body := e.openAI("POST", "/v1/chat/completions", chatWithImages(urls[:16]...))
	wantFetchRefused(t, e, "16 × 20 MB", resp, body, "in all")
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(urls...))
	wantFetchRefused(t, e, "20 × 20 MB", resp, body, "in all")
	// A per-image cap, also without Content-Length.
	e2 := newEnv(t, 1, allowHosts("127.0.0.1"), func(c *Config) { c.ImageFetchMaxBytes = 4 << 20 })
	resp, body = e2.openAI("POST", "/v1/chat/completions", chatWithImages(img.URL+"/big-chunked.jpg"))
	wantFetchRefused(t, e2, "chunked 20 MB", resp, body, "larger than 4 MiB")
	// The count cap.
	small := make([]string, 17)
	for i := range small {
		small[i] = img.URL + "/cat.png"
	}
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(small...))
	wantFetchRefused(t, e, "17 images", resp, body, "more than 16 image URLs")
	resp, body = e.openAI("POST", "/v1/chat/completions", chatWithImages(small[:16]...))
	e.wantStatus(resp, body, http.StatusOK)
	if n := len(e.fake.Requests()) + len(e2.fake.Requests()); n != 1 {
		t.Errorf("upstream requests = %d, want 1 (only the request within the caps)", n)
	}
}

func TestPublicAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "1.1.1.1": true,
		"127.0.0.1": false, "127.255.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.0.1": false, "169.254.169.254": false, "fe80::1": false, "100.64.0.1": false,
		"100.127.255.255": false, "224.0.0.251": false, "ff02::1": false, "0.0.0.0": false, "::": false,
		"::ffff:127.0.0.1": false, "::ffff:8.8.8.8": true, "fc00::1": false, "fd12::1": false,
		"64:ff9b::7f00:1": false, "64:ff9b::808:808": true, "2002:7f00:1::": false, "2002:808:808::": true,
		"255.255.255.255": false, "240.0.0.1": false, "0.1.2.3": false,
	} {
		if got := publicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}
