package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/proxy/keypool"
)

// DefaultPort is the port the proxy listens on unless told otherwise.
const DefaultPort = 8321

// DefaultUpstream is Google's Gemini API endpoint.
const DefaultUpstream = "https://generativelanguage.googleapis.com"

// Defaults for the limits in Config.
const (
	DefaultMaxAttempts   = 3
	DefaultMaxBodyBytes  = 32 << 20
	DefaultMaxUploadSize = 2 << 30

	DefaultUpstreamTimeout   = 5 * time.Minute
	DefaultStreamIdleTimeout = 2 * time.Minute
	DefaultMaxWaitingConns   = 4096
)

// Config is everything the proxy needs to know to serve. The zero value of a
// field means its default; Normalize fills them in and validates.
type Config struct {
	// Addr is the listen address, "127.0.0.1:8321" by default. Binding to
	// anything but loopback is an explicit choice of the user.
	Addr string
	// AccessKey is what clients must present (as ?key=, x-goog-api-key or
	// Authorization: Bearer). It is required unless Passthrough is set.
	AccessKey string
	// Passthrough sends the client's own key upstream, skipping the pool and
	// the access-key check.
	Passthrough bool
	// Paused makes the proxy answer 503 to API requests (the UI still works).
	Paused bool
	// MaxAttempts bounds the keys tried for one request (default 3).
	MaxAttempts int
	// Upstream is the base URL of the Gemini API (tests point it at a fake).
	Upstream string
	// UpstreamProxy is an http://, https://, socks5:// or socks5h:// URL
	// (credentials allowed), "" for the system proxy (sysproxy: the
	// environment, else the OS settings), or
	// "direct" for none.
	UpstreamProxy string
	// AllowedHosts are extra Host header values (names or addresses, without
	// port) accepted besides loopback, for LAN use.
	AllowedHosts []string
	// MaxBodyBytes caps request bodies (default 32 MiB); file uploads use
	// MaxUploadBytes (default 2 GiB) and are streamed, not buffered.
	MaxBodyBytes   int64
	MaxUploadBytes int64
	// Aliases maps client model names (e.g. "gpt-4o-mini") to Gemini models
	// on the OpenAI routes. Nothing is substituted unless listed here.
	Aliases map[string]string
	// ImageFetchTimeout and ImageFetchMaxBytes bound each http(s) image URL
	// that client requests ask the proxy to fetch (15 s, 20 MiB);
	// ImageFetchMaxCount and ImageFetchTotalBytes bound them per request
	// (16 images, 20 MiB in all; never more than MaxBodyBytes).
	ImageFetchTimeout    time.Duration
	ImageFetchMaxBytes   int64
	ImageFetchMaxCount   int
	ImageFetchTotalBytes int64
	// ImageFetchAllowHosts lists host names, addresses and ranges
	// (192.168.1.0/24) the image fetcher may reach although they are
	// local or private; by default it reaches public addresses only.
	ImageFetchAllowHosts []string
	// BodyReadTimeout bounds reading a request body (default 2 minutes): a
	// client that sends its body slower is cut off with 408.
	BodyReadTimeout time.Duration
	// UpstreamTimeout bounds the wait for an upstream answer to begin: its
	// headers and, for SSE streams, its first event (default 5 minutes:
	// thinking models can take minutes). An attempt that times out is
	// retried on another key.
	UpstreamTimeout time.Duration
	// StreamIdleTimeout cuts a stream whose upstream sends nothing for
	// this long after its first byte (default 2 minutes).
	StreamIdleTimeout time.Duration
	// MaxWaitingConns bounds the client connections that are not serving a
	// request (sending their headers, or idle); past it the oldest is
	// closed (default 4096). Applied when the listener starts.
	MaxWaitingConns int
	// TransientBackoff is the pause before retrying after a transient
	// upstream error (default 250ms, grows with the attempt number).
	TransientBackoff time.Duration
	// Strategy is how keys are picked.
	Strategy keypool.Strategy
}

// ConfigError is a setting Normalize refuses: Field is the name of the
// Config field at fault.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Normalize returns c with defaults filled in, or a *ConfigError that says
// which setting is wrong.
func (c Config) Normalize() (Config, error) {
	if c.Addr == "" {
		c.Addr = fmt.Sprintf("127.0.0.1:%d", DefaultPort)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, &ConfigError{"Addr", fmt.Errorf("listen address %q: %w", c.Addr, err)}
	}
	if c.AccessKey == "" && !c.Passthrough {
		return c, &ConfigError{"AccessKey", errors.New("an access key is required unless passthrough mode is on")}
	}
	orDefault(&c.MaxAttempts, DefaultMaxAttempts)
	if c.MaxAttempts > 20 {
		return c, &ConfigError{"MaxAttempts", fmt.Errorf("max attempts %d is more than 20", c.MaxAttempts)}
	}
	if err := c.normalizeUpstream(); err != nil {
		return c, err
	}
	orDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&c.MaxUploadBytes, DefaultMaxUploadSize)
	if err := c.normalizeImageFetch(); err != nil {
		return c, err
	}
	orDefault(&c.BodyReadTimeout, 2*time.Minute)
	orDefault(&c.UpstreamTimeout, DefaultUpstreamTimeout)
	orDefault(&c.StreamIdleTimeout, DefaultStreamIdleTimeout)
	orDefault(&c.MaxWaitingConns, DefaultMaxWaitingConns)
	orDefault(&c.TransientBackoff, 250*time.Millisecond)
	return c, nil
}

// orDefault sets *v to def when it is zero or negative (unset).
func orDefault[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// normalizeUpstream checks Upstream (default DefaultUpstream) and
// UpstreamProxy.
func (c *Config) normalizeUpstream() error {
	if c.Upstream == "" {
		c.Upstream = DefaultUpstream
	}
	u, err := url.Parse(c.Upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ConfigError{"Upstream", fmt.Errorf("upstream URL %q must be an absolute http(s) URL", c.Upstream)}
	}
	c.Upstream = strings.TrimRight(c.Upstream, "/")
	if _, err := proxyFunc(c.UpstreamProxy); err != nil {
		return &ConfigError{"UpstreamProxy", err}
	}
	return nil
}

// normalizeImageFetch fills in the image fetch limits, within the body
// limit (MaxBodyBytes must be set), and checks the allow list.
func (c *Config) normalizeImageFetch() error {
	orDefault(&c.ImageFetchTimeout, 15*time.Second)
	orDefault(&c.ImageFetchMaxBytes, 20<<20)
	orDefault(&c.ImageFetchMaxCount, 16)
	orDefault(&c.ImageFetchTotalBytes, 20<<20)
	// Base64 makes 4 bytes of 3: the fetched images must fit the body limit
	// once encoded.
	c.ImageFetchTotalBytes = min(c.ImageFetchTotalBytes, c.MaxBodyBytes/4*3)
	c.ImageFetchMaxBytes = min(c.ImageFetchMaxBytes, c.ImageFetchTotalBytes)
	if _, err := parseFetchAllowList(c.ImageFetchAllowHosts); err != nil {
		return &ConfigError{"ImageFetchAllowHosts", err}
	}
	return nil
}
