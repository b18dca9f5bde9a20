package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// These benchmarks run everything in one process (client, proxy, fake), so
// their ns/op and allocs/op include the client and the fake: compare the
// sub-benchmarks with each other, not with zero. The command
// `go run ./build/bench` measures each server in its own process.

// benchSetup is a fake upstream with three fronts: the fake itself, a plain
// httputil.ReverseProxy (the baseline of the issues) and the proxy.
type benchSetup struct {
	fake     *proxytest.Server
	fronts   map[string]string // name → base URL
	access   string
	client   *http.Client
	keys     []string
	nativeIn []byte
	chatIn   []byte
}

func newBenchSetup(b *testing.B, streamEvents int) *benchSetup {
	b.Helper()
	s := &benchSetup{
		fake:     proxytest.New(b),
		fronts:   map[string]string{},
		access:   "gbd-" + fakeKey(b)[4:],
		nativeIn: []byte(`{"contents":[{"role":"user","parts":[{"text":"What is the capital of Wyoming?"}]}]}`),
		chatIn:   []byte(`{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"What is the capital of Wyoming?"}]}`),
	}
	s.fake.SetDefaultStream(streamEvents, 0)
	pool := keypool.New(keypool.Options{})
	for i := 0; i < 20; i++ {
		k := fakeKey(b)
		s.keys = append(s.keys, k)
		pool.Add(keypool.Key{ID: apikey.ID(k), Secret: apikey.NewSecret(k)})
	}
	srv, err := New(Config{
		Addr: "127.0.0.1:0", AccessKey: s.access, Upstream: s.fake.URL(), UpstreamProxy: "direct",
	}, pool, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		b.Fatalf("Start: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	s.fronts["proxy"] = "http://" + srv.Addr()

	target, _ := url.Parse(s.fake.URL())
	tr, err := NewTransport("direct")
	if err != nil {
		b.Fatalf("NewTransport: %v", err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set("x-goog-api-key", s.keys[rand.IntN(len(s.keys))])
		},
		Transport:     tr,
		FlushInterval: -1,
	}
	base := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Full duplex: without it the baseline cuts some streams (golang/go#40747).
		http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("Listen: %v", err)
	}
	go base.Serve(ln)
	b.Cleanup(func() { base.Close() })
	s.fronts["reverseproxy"] = "http://" + ln.Addr().String()
	s.fronts["direct"] = s.fake.URL()

	s.client = &http.Client{Transport: &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: 256, DisableCompression: true,
	}}
	b.Cleanup(s.client.CloseIdleConnections)
	return s
}

// do sends one request and reads the whole answer; it returns the number
// of SSE events seen.
func (s *benchSetup) do(b *testing.B, front, path string, body []byte, openAI bool) int {
	req, err := http.NewRequest(http.MethodPost, s.fronts[front]+path, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	cred := s.access
	if front == "direct" {
		cred = s.keys[0]
	}
	if openAI {
		req.Header.Set("Authorization", "Bearer "+cred)
	} else {
		req.Header.Set("x-goog-api-key", cred)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		b.Fatalf("POST %s via %s = %d %s, want 200", path, front, resp.StatusCode, msg)
	}
	events := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("data:")) {
			events++
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatalf("read answer via %s: %v", front, err)
	}
	return events
}

// openAIReady skips when the OpenAI routes are not wired yet.
func (s *benchSetup) openAIReady(b *testing.B) {
	req, _ := http.NewRequest(http.MethodPost, s.fronts["proxy"]+"/v1/chat/completions", bytes.NewReader(s.chatIn))
	req.Header.Set("Authorization", "Bearer "+s.access)
	resp, err := s.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotImplemented {
		b.Skip("OpenAI chat route answers 501")
	}
}

const benchGenerate = "/v1beta/models/gemini-2.5-flash:generateContent"
const benchStream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"

// BenchmarkNativeGenerate is one non-stream generateContent through a real
// listener: straight to the fake, through ReverseProxy, through the proxy.
func BenchmarkNativeGenerate(b *testing.B) {
	s := newBenchSetup(b, 20)
	for _, front := range []string{"direct", "reverseproxy", "proxy"} {
		b.Run(front, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.do(b, front, benchGenerate, s.nativeIn, false)
			}
		})
	}
}

// BenchmarkNativeGenerateParallel is BenchmarkNativeGenerate with
// concurrent clients (GOMAXPROCS × -cpu goroutines).
func BenchmarkNativeGenerateParallel(b *testing.B) {
	s := newBenchSetup(b, 20)
	for _, front := range []string{"direct", "reverseproxy", "proxy"} {
		b.Run(front, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s.do(b, front, benchGenerate, s.nativeIn, false)
				}
			})
		})
	}
}

// BenchmarkNativeStream is one 20-event SSE stream (no pause between
// events), read to its end.
func BenchmarkNativeStream(b *testing.B) {
	s := newBenchSetup(b, 20)
	for _, front := range []string{"direct", "reverseproxy", "proxy"} {
		b.Run(front, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n := s.do(b, front, benchStream, s.nativeIn, false); n != 20 {
					b.Fatalf("stream via %s: %d events, want 20", front, n)
				}
			}
		})
	}
}

// BenchmarkOpenAIChat compares the OpenAI chat route with the native route
// of the same proxy, non-stream and stream.
func BenchmarkOpenAIChat(b *testing.B) {
	s := newBenchSetup(b, 20)
	s.openAIReady(b)
	streamIn := append(bytes.TrimSuffix(bytes.Clone(s.chatIn), []byte("}")), `,"stream":true}`...)
	cases := []struct {
		name   string
		path   string
		body   []byte
		openAI bool
	}{
		{"native", benchGenerate, s.nativeIn, false},
		{"openai", "/v1/chat/completions", s.chatIn, true},
		{"native-stream", benchStream, s.nativeIn, false},
		{"openai-stream", "/v1/chat/completions", streamIn, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.do(b, "proxy", c.path, c.body, c.openAI)
			}
		})
	}
}

// BenchmarkSetUsage is the token-count extraction every answer goes
// through (a whole generateContent body; a stream's last event).
func BenchmarkSetUsage(b *testing.B) {
	bodies := map[string][]byte{
		"generateContent": proxytest.FixtureBody("native/generateContent.text.gemini-2.0-flash.json"),
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var res Result
			for b.Loop() {
				res.setUsage(body)
			}
			if res.PromptTokens == 0 {
				b.Fatalf("setUsage(%s) found no prompt tokens", name)
			}
		})
	}
}
