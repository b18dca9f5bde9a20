package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/proxy/sysproxy"
)

// proxyFunc turns the UpstreamProxy setting into an http.Transport Proxy
// function: "" (or "system") follows the OS, re-read every few seconds. The error never repeats credentials from the URL.
func proxyFunc(setting string) (func(*http.Request) (*url.URL, error), error) {
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "":
		// The OS setting: HTTP(S)_PROXY when set, else Windows' Internet
		// settings (PAC included), macOS' network settings or GNOME's.
		return sysproxy.New().Proxy, nil
	case "direct", "none":
		return nil, nil
	}
	u, err := url.Parse(strings.TrimSpace(setting))
	if err != nil {
		return nil, fmt.Errorf("upstream proxy is not a valid URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("upstream proxy scheme %q is not supported (use http, https, socks5 or socks5h)", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("upstream proxy URL has no host")
	}
	return http.ProxyURL(u), nil
}

// NewTransport returns the transport used for every upstream call: to
// Google and, for OpenAI image URLs, to the web. It honours the upstream
// proxy setting. The app uses it for key checks too, so that every byte to
// Google takes the same path.
func NewTransport(upstreamProxy string) (*http.Transport, error) {
	pf, err := proxyFunc(upstreamProxy)
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		Proxy: pf,
		DialContext: (&net.Dialer{
			Timeout:   15 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}, nil
}
