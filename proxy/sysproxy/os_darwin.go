//go:build darwin

package sysproxy

import (
	"context"
	"net/url"
	"os/exec"
	"time"
)

// readOS reads the network settings with `scutil --proxy`.
func readOS(ctx context.Context) Settings {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/scutil", "--proxy").Output()
	if err != nil {
		return Settings{Note: "the macOS proxy settings could not be read: " + err.Error()}
	}
	s := parseScutil(string(out))
	if s.PAC != "" {
		s.Note = "the auto-config (PAC) script is not evaluated on macOS: requests to Google go direct unless an HTTP(S) proxy is set too; enter the proxy in the app's settings"
	}
	return s
}

// evalPAC is nil: macOS' PAC engine needs cgo (CFNetwork).
var evalPAC func(context.Context, string, *url.URL) (string, error)
