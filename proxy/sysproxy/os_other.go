//go:build !windows && !darwin

package sysproxy

import (
	"context"
	"net/url"
	"os/exec"
	"time"
)

// readOS reads GNOME's proxy settings when GNOME's schema is installed;
// elsewhere the environment (read by Resolver) is the system setting.
func readOS(ctx context.Context) Settings {
	path, err := exec.LookPath("gsettings")
	if err != nil {
		return Settings{}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "list-recursively", "org.gnome.system.proxy").Output()
	if err != nil {
		return Settings{} // no GNOME schema: not a GNOME desktop
	}
	s := parseGsettings(string(out))
	if s.PAC != "" {
		s.Note = "the auto-config (PAC) script is not evaluated on Linux: requests to Google go direct; enter the proxy in the app's settings"
	}
	return s
}

// evalPAC is nil: no PAC engine here.
var evalPAC func(context.Context, string, *url.URL) (string, error)
