package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
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

// InvalidSettingsError says which setting is wrong and why; the
// management API answers it with 400 and the field.
type InvalidSettingsError struct {
	// Field is the JSON name of the setting ("" when no one field is).
	Field string
	Err   error
}

func (e *InvalidSettingsError) Error() string { return e.Err.Error() }
func (e *InvalidSettingsError) Unwrap() error { return e.Err }

// proxyFields are the settings' JSON names of the proxy.Config fields.
var proxyFields = map[string]string{
	"Addr": "port", "AccessKey": "accessKey", "MaxAttempts": "maxAttempts",
	"Upstream": "upstream", "UpstreamProxy": "upstreamProxy", "ImageFetchAllowHosts": "imageFetchAllowHosts",
}

// Normalize validates s once, in words a user understands: the fields the
// proxy does not know here, and the proxy's own through
// proxy.Config.Normalize, whose defaults it takes over (max attempts 0 is
// the default, an upstream loses its trailing slash). An error is an
// *InvalidSettingsError naming the field.
func (s Settings) Normalize() (Settings, error) {
	_, strategyErr := keypool.ParseStrategy(s.Strategy)
	checks := []struct {
		field string
		bad   bool
		msg   string
	}{
		{"port", s.Port < 1 || s.Port > 65535, fmt.Sprintf("port %d: use a number from 1 to 65535", s.Port)},
		{"bindAddress", net.ParseIP(s.BindAddress) == nil && s.BindAddress != "localhost",
			fmt.Sprintf("bind address %q: use an IP address such as 127.0.0.1 (or 0.0.0.0 for the LAN)", s.BindAddress)},
		{"accessKey", len(s.AccessKey) < 16, "access key: use at least 16 characters"},
		{"accessKey", strings.ContainsAny(s.AccessKey, " \t\r\n"), "access key: no spaces"},
		{"adminPassword", s.AdminPassword != "" && len([]rune(s.AdminPassword)) < MinAdminPasswordLen,
			fmt.Sprintf("admin password: use at least %d characters", MinAdminPasswordLen)},
		{"strategy", strategyErr != nil, fmt.Sprintf("strategy %q: use random, round_robin or lru", s.Strategy)},
		{"maxBodyMB", s.MaxBodyMB < 1 || s.MaxBodyMB > 1024, fmt.Sprintf("max body size %d MB: use 1 to 1024", s.MaxBodyMB)},
		{"upstreamTimeoutSec", s.UpstreamTimeoutSec < 5 || s.UpstreamTimeoutSec > 3600, fmt.Sprintf("upstream timeout %d s: use 5 to 3600 seconds", s.UpstreamTimeoutSec)},
		{"streamIdleTimeoutSec", s.StreamIdleTimeoutSec < 5 || s.StreamIdleTimeoutSec > 3600, fmt.Sprintf("stream idle timeout %d s: use 5 to 3600 seconds", s.StreamIdleTimeoutSec)},
		{"checkConcurrency", s.CheckConcurrency < 1 || s.CheckConcurrency > 64, fmt.Sprintf("check concurrency %d: use 1 to 64", s.CheckConcurrency)},
		{"logRetentionDays", s.LogRetentionDays < 0, "request log retention cannot be negative"},
		{"logMaxRows", s.LogMaxRows < 0, "request log retention cannot be negative"},
		{"language", !slices.Contains([]string{"auto", "en", "zh-CN"}, s.Language), fmt.Sprintf("language %q: use auto, en or zh-CN", s.Language)},
		{"theme", !slices.Contains([]string{"auto", "light", "dark"}, s.Theme), fmt.Sprintf("theme %q: use auto, light or dark", s.Theme)},
	}
	for _, c := range checks {
		if c.bad {
			return s, &InvalidSettingsError{Field: c.field, Err: errors.New(c.msg)}
		}
	}
	for from, to := range s.Aliases {
		if strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return s, &InvalidSettingsError{Field: "aliases", Err: fmt.Errorf("model alias %q → %q: both names are needed", from, to)}
		}
	}
	cfg, err := s.proxyConfig().Normalize()
	if err != nil {
		var ce *proxy.ConfigError
		errors.As(err, &ce)
		field := ""
		if ce != nil {
			field = proxyFields[ce.Field]
		}
		return s, &InvalidSettingsError{Field: field, Err: err}
	}
	s.MaxAttempts, s.Upstream = cfg.MaxAttempts, cfg.Upstream
	return s, nil
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
