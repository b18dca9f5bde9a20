package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/proxy"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// Settings are the user's choices, persisted in the store and applied to
// the running proxy. JSON names are the management API's field names.
type Settings struct {
	// Port and BindAddress make the listen address. BindAddress is
	// 127.0.0.1 unless the user explicitly opens the proxy to the LAN.
	Port        int    `json:"port"`
	BindAddress string `json:"bindAddress"`
	// AllowedHosts are Host names accepted besides loopback (LAN mode).
	AllowedHosts []string `json:"allowedHosts"`
	// AccessKey is what clients send; random on first run. It is kept in
	// the secret store; empty in a change keeps the one in force.
	AccessKey string `json:"accessKey"`
	// AdminPassword sets a new admin password (at least 12 characters)
	// for the web UI. It is write-only: the app keeps only its hash, so
	// it is always empty when read; empty in a change keeps the password.
	AdminPassword string `json:"adminPassword"`
	Passthrough   bool   `json:"passthrough"`
	Paused        bool   `json:"paused"`
	// Strategy is "random", "round_robin" or "lru".
	Strategy      string            `json:"strategy"`
	MaxAttempts   int               `json:"maxAttempts"`
	Upstream      string            `json:"upstream"`
	UpstreamProxy string            `json:"upstreamProxy"`
	Aliases       map[string]string `json:"aliases"`
	MaxBodyMB     int               `json:"maxBodyMB"`
	// UpstreamTimeoutSec bounds the wait for Google's answer to begin
	// (retried on another key); StreamIdleTimeoutSec cuts a stream that
	// stalls after its first byte.
	UpstreamTimeoutSec   int `json:"upstreamTimeoutSec"`
	StreamIdleTimeoutSec int `json:"streamIdleTimeoutSec"`
	// ImageFetchAllowHosts are local or private hosts (names, addresses,
	// ranges) the image fetcher may reach; it reaches public ones only
	// otherwise.
	ImageFetchAllowHosts []string `json:"imageFetchAllowHosts"`
	// CheckConcurrency bounds parallel key checks.
	CheckConcurrency int `json:"checkConcurrency"`
	// LogRetentionDays and LogMaxRows bound the request log.
	LogRetentionDays int `json:"logRetentionDays"`
	LogMaxRows       int `json:"logMaxRows"`
	// Language is "auto", "en" or "zh-CN"; Theme "auto", "light" or "dark".
	Language     string `json:"language"`
	Theme        string `json:"theme"`
	StartAtLogin bool   `json:"startAtLogin"`
	// WindowWidth and WindowHeight remember the window's size.
	WindowWidth  int `json:"windowWidth,omitempty"`
	WindowHeight int `json:"windowHeight,omitempty"`
}

// DefaultSettings returns the settings of a first run, with fresh random
// secrets: there is no built-in password.
func DefaultSettings() Settings {
	return Settings{
		Port:                 proxy.DefaultPort,
		BindAddress:          "127.0.0.1",
		AccessKey:            "gbd-" + randomToken(24),
		AdminPassword:        randomToken(18),
		Strategy:             "random",
		MaxAttempts:          proxy.DefaultMaxAttempts,
		Upstream:             proxy.DefaultUpstream,
		MaxBodyMB:            proxy.DefaultMaxBodyBytes >> 20,
		UpstreamTimeoutSec:   int(proxy.DefaultUpstreamTimeout / time.Second),
		StreamIdleTimeoutSec: int(proxy.DefaultStreamIdleTimeout / time.Second),
		CheckConcurrency:     8,
		LogRetentionDays:     7,
		LogMaxRows:           100_000,
		Language:             "auto",
		Theme:                "auto",
	}
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Addr is the listen address.
func (s Settings) Addr() string {
	return net.JoinHostPort(s.BindAddress, strconv.Itoa(s.Port))
}

// Validate says, in words a user understands, what is wrong.
func (s Settings) Validate() error {
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("port %d: use a number from 1 to 65535", s.Port)
	}
	if ip := net.ParseIP(s.BindAddress); ip == nil && s.BindAddress != "localhost" {
		return fmt.Errorf("bind address %q: use an IP address such as 127.0.0.1 (or 0.0.0.0 for the LAN)", s.BindAddress)
	}
	if len(s.AccessKey) < 16 {
		return fmt.Errorf("access key: use at least 16 characters")
	}
	if strings.ContainsAny(s.AccessKey, " \t\r\n") {
		return fmt.Errorf("access key: no spaces")
	}
	if s.AdminPassword != "" && len([]rune(s.AdminPassword)) < MinAdminPasswordLen {
		return fmt.Errorf("admin password: use at least %d characters", MinAdminPasswordLen)
	}
	if _, err := keypool.ParseStrategy(s.Strategy); err != nil {
		return fmt.Errorf("strategy %q: use random, round_robin or lru", s.Strategy)
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > 20 {
		return fmt.Errorf("max attempts %d: use 1 to 20", s.MaxAttempts)
	}
	if u, err := url.Parse(s.Upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("upstream URL %q: use an absolute http(s) URL", s.Upstream)
	}
	if _, err := proxy.NewTransport(s.UpstreamProxy); err != nil {
		return err
	}
	if s.MaxBodyMB < 1 || s.MaxBodyMB > 1024 {
		return fmt.Errorf("max body size %d MB: use 1 to 1024", s.MaxBodyMB)
	}
	if s.UpstreamTimeoutSec < 5 || s.UpstreamTimeoutSec > 3600 {
		return fmt.Errorf("upstream timeout %d s: use 5 to 3600 seconds", s.UpstreamTimeoutSec)
	}
	if s.StreamIdleTimeoutSec < 5 || s.StreamIdleTimeoutSec > 3600 {
		return fmt.Errorf("stream idle timeout %d s: use 5 to 3600 seconds", s.StreamIdleTimeoutSec)
	}
	if err := proxy.ValidateFetchAllowList(s.ImageFetchAllowHosts); err != nil {
		return err
	}
	if s.CheckConcurrency < 1 || s.CheckConcurrency > 64 {
		return fmt.Errorf("check concurrency %d: use 1 to 64", s.CheckConcurrency)
	}
	if s.LogRetentionDays < 0 || s.LogMaxRows < 0 {
		return fmt.Errorf("request log retention cannot be negative")
	}
	switch s.Language {
	case "auto", "en", "zh-CN":
	default:
		return fmt.Errorf("language %q: use auto, en or zh-CN", s.Language)
	}
	switch s.Theme {
	case "auto", "light", "dark":
	default:
		return fmt.Errorf("theme %q: use auto, light or dark", s.Theme)
	}
	for from, to := range s.Aliases {
		if strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return fmt.Errorf("model alias %q → %q: both names are needed", from, to)
		}
	}
	return nil
}

// proxyConfig is the proxy's view of the settings.
func (s Settings) proxyConfig() proxy.Config {
	strategy, _ := keypool.ParseStrategy(s.Strategy)
	return proxy.Config{
		Addr:                 s.Addr(),
		AccessKey:            s.AccessKey,
		Passthrough:          s.Passthrough,
		Paused:               s.Paused,
		MaxAttempts:          s.MaxAttempts,
		Upstream:             s.Upstream,
		UpstreamProxy:        s.UpstreamProxy,
		AllowedHosts:         s.AllowedHosts,
		MaxBodyBytes:         int64(s.MaxBodyMB) << 20,
		UpstreamTimeout:      time.Duration(s.UpstreamTimeoutSec) * time.Second,
		StreamIdleTimeout:    time.Duration(s.StreamIdleTimeoutSec) * time.Second,
		ImageFetchAllowHosts: s.ImageFetchAllowHosts,
		Aliases:              s.Aliases,
		Strategy:             strategy,
	}
}
