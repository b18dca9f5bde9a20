package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// fakeKey returns a random string shaped like a real Google API key.
func fakeKey(t testing.TB) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 35)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "AIza" + string(b)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder collects Results.
type recorder struct {
	mu  sync.Mutex
	got []Result
}

func (r *recorder) Record(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, res)
}

func (r *recorder) results() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.got...)
}

// env is a running proxy in front of a fake Gemini.
type env struct {
	t         *testing.T
	fake      *proxytest.Server
	pool      *keypool.Pool
	srv       *Server
	base      string // http://127.0.0.1:port
	accessKey string
	keys      []string // raw pool keys, in order
	ids       []string // their key ids
	logs      *syncBuffer
	rec       *recorder
}

type envOption func(*Config)

// newEnv starts a proxy with n pool keys in front of a fresh fake upstream,
// and checks at cleanup that no key ever reached the log.
func newEnv(t *testing.T, n int, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, fake: proxytest.New(t), logs: &syncBuffer{}, rec: &recorder{}}
	e.pool = keypool.New(keypool.Options{Strategy: keypool.RoundRobin})
	for i := 0; i < n; i++ {
		k := fakeKey(t)
		e.keys = append(e.keys, k)
		e.ids = append(e.ids, apikey.ID(k))
		e.pool.Add(keypool.Key{ID: apikey.ID(k), Secret: apikey.NewSecret(k)})
	}
	e.accessKey = "gbd-" + fakeKey(t)[4:]
	cfg := Config{
		Addr:             "127.0.0.1:0",
		AccessKey:        e.accessKey,
		Upstream:         e.fake.URL(),
		UpstreamProxy:    "direct",
		TransientBackoff: time.Millisecond,
		Strategy:         keypool.RoundRobin,
	}
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg, e.pool, e.rec, nil, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	e.srv = srv
	e.base = "http://" + srv.Addr()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		logs := e.logs.String()
		for _, k := range append(e.keys, e.accessKey) {
			if strings.Contains(logs, k) {
				t.Errorf("a key appeared in the log:\n%s", logs)
			}
		}
		for _, req := range e.fake.Requests() {
			if strings.Contains(req.RawQuery, "key=") {
				t.Errorf("upstream request %s carried a key in its URL", req.Path)
			}
			if strings.Contains(req.Header.Get("Authorization"), e.accessKey) || req.Key == e.accessKey {
				t.Errorf("the access key went upstream on %s", req.Path)
			}
		}
	})
	return e
}

// do sends a request with the access key in x-goog-api-key.
func (e *env) do(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.doWith(method, path, body, map[string]string{"x-goog-api-key": e.accessKey})
}

func (e *env) doWith(method, path, body string, headers map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

const generateBody = `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`

func gen(model string) string { return "/v1beta/models/" + model + ":generateContent" }

func (e *env) wantStatus(resp *http.Response, body []byte, want int) {
	e.t.Helper()
	if resp.StatusCode != want {
		e.t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, want, body)
	}
}

func keyIndex(e *env, raw string) string {
	for i, k := range e.keys {
		if k == raw {
			return fmt.Sprint(i)
		}
	}
	return "?"
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
