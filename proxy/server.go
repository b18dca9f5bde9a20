package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/openai"
	"github.com/gemini-balance/desktop/proxy/responses"
)

// Recorder receives one Result per finished request. Record must not block:
// the app batches results into its database in the background.
type Recorder interface {
	Record(Result)
}

// Result describes one finished client request.
type Result struct {
	Time     time.Time
	ID       string // request id, also sent as X-Request-Id
	Route    string // "native", "openai.chat", "openai.embeddings", "openai.models", …
	Method   string // Gemini method, e.g. "generateContent"
	Model    string
	KeyID    string // the key that produced the answer ("" if none)
	Status   int    // HTTP status sent to the client (499 when the client left)
	Attempts int
	Class    gemini.Class // of the last upstream answer, or of the proxy's own answer (gemini.LocalClass)
	Reason   string       // why, when the class is a failure (never a key)
	Latency  time.Duration
	Stream   bool
	// Failures lists the (key, class) of every attempt that was retried.
	Failures []AttemptFailure
	// Token counts from usageMetadata, when the answer had them.
	PromptTokens, OutputTokens, ThoughtTokens int64
}

// AttemptFailure is one upstream attempt that did not produce the answer.
type AttemptFailure struct {
	KeyID  string
	Class  gemini.Class
	Reason string
}

// PassthroughKeyID is the KeyID of requests served with the client's own
// Gemini key in passthrough mode: that key is not in the pool and never
// stored.
const PassthroughKeyID = "passthrough"

// Server is the proxy: an http.Handler plus the listener it runs on.
type Server struct {
	pool  *keypool.Pool
	rec   Recorder
	log   *slog.Logger
	admin http.Handler

	cfg       atomic.Pointer[Config]
	transport atomic.Pointer[http.Transport]
	// fetchClient fetches image URLs of client requests (fetch.go).
	fetchClient atomic.Pointer[http.Client]
	affinity    *affinity
	// signatures restores Gemini 3 thought signatures of tool calls that
	// OpenAI clients replay without extra_content.
	signatures *openai.SignatureCache
	// responses keeps recent Responses API answers for
	// previous_response_id (bounded by count, bytes and age).
	responses *responses.Store

	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// New returns a Server for cfg. admin, when non-nil, serves the management
// API under /api/ and the web UI at every path the proxy does not own; rec
// may be nil.
func New(cfg Config, pool *keypool.Pool, rec Recorder, admin http.Handler, log *slog.Logger) (*Server, error) {
	if pool == nil {
		return nil, errors.New("proxy: nil key pool")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{pool: pool, rec: rec, log: log, admin: admin, affinity: newAffinity(100_000),
		signatures: openai.NewSignatureCache(openai.SignatureCacheOptions{MaxBytes: 16 << 20}),
		responses:  responses.NewStore(responses.StoreOptions{})}
	if _, err := s.Update(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the configuration in force.
func (s *Server) Config() Config { return *s.cfg.Load() }

// Update applies cfg to the running server. Everything but the listen
// address takes effect for the next request; restart reports whether the
// address changed, in which case Restart must be called to apply it.
func (s *Server) Update(cfg Config) (restart bool, err error) {
	cfg, err = cfg.Normalize()
	if err != nil {
		return false, err
	}
	old := s.cfg.Load()
	if old == nil || old.UpstreamProxy != cfg.UpstreamProxy {
		t, err := NewTransport(cfg.UpstreamProxy)
		if err != nil {
			return false, err
		}
		if prev := s.transport.Swap(t); prev != nil {
			prev.CloseIdleConnections()
		}
	}
	if old == nil || old.UpstreamProxy != cfg.UpstreamProxy || !slices.Equal(old.ImageFetchAllowHosts, cfg.ImageFetchAllowHosts) {
		pol, err := parseFetchAllowList(cfg.ImageFetchAllowHosts)
		if err != nil {
			return false, err
		}
		fc, err := newFetchClient(cfg.UpstreamProxy, pol)
		if err != nil {
			return false, err
		}
		if prev := s.fetchClient.Swap(fc); prev != nil {
			prev.CloseIdleConnections()
		}
	}
	s.pool.SetStrategy(cfg.Strategy)
	s.cfg.Store(&cfg)
	return old != nil && old.Addr != cfg.Addr, nil
}

// PortInUseError is returned by Listen when the address is taken.
type PortInUseError struct {
	Addr string
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port already in use: %s is taken by another program; choose another port", e.Addr)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// Listen binds the configured address. It returns *PortInUseError when the
// port is taken.
func (s *Server) Listen() (net.Listener, error) {
	addr := s.Config().Addr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &PortInUseError{Addr: addr, Err: err}
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Start binds the configured address and serves in the background until
// Shutdown. It returns once the listener is bound.
func (s *Server) Start() error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		ln.Close()
		return errors.New("proxy: already running")
	}
	s.serveLocked(ln)
	return nil
}

// Serve serves on ln in the background until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("proxy: already running")
	}
	s.serveLocked(ln)
	return nil
}

func (s *Server) serveLocked(ln net.Listener) {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         newWaitingConns(s.Config().MaxWaitingConns).connState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	s.srv, s.ln, s.done = srv, ln, done
	s.log.Info("proxy listening", "addr", ln.Addr().String())
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("proxy stopped", "err", err)
		}
	}()
}

// Addr returns the address the server listens on, or "" when stopped.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting requests, lets in-flight ones finish until ctx
// ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.ln, s.done = nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	<-done
	if t := s.transport.Load(); t != nil {
		t.CloseIdleConnections()
	}
	s.log.Info("proxy stopped")
	return err
}

// Restart moves the listener to the configured address: the new one is
// bound and serving before the old one stops, and the old one lets its
// in-flight requests finish (at most restartDrain) in the background, so
// the request that asked for the move is not waited on. On failure the old
// listener keeps serving and the error says why.
func (s *Server) Restart() error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	s.mu.Lock()
	oldSrv, oldDone := s.srv, s.done
	s.srv, s.ln, s.done = nil, nil, nil
	s.serveLocked(ln)
	s.mu.Unlock()
	if oldSrv != nil {
		go func() {
			dctx, cancel := context.WithTimeout(context.Background(), restartDrain)
			defer cancel()
			if err := oldSrv.Shutdown(dctx); err != nil {
				oldSrv.Close()
			}
			<-oldDone
		}()
	}
	return nil
}

// Limits of the listener: a client gets readHeaderTimeout to send its
// request line and headers (at most maxHeaderBytes; larger ones get 431),
// and a kept-alive connection is closed after idleTimeout without a
// request. Body reads are bounded per request (readBody, uploadBody).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
)

// restartDrain bounds how long the old listener serves in-flight requests
// after a Restart.
const restartDrain = 30 * time.Second
