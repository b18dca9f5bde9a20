// Package cmdline holds the command-line rule that the app's executable and
// its Windows console twin (build/windows/cli) must share.
package cmdline

import "strings"

// WantsConsole reports whether args run a command that prints (access-key,
// keys list, serve, --help, version, …) rather than open the window. The
// Windows build is a GUI program (-H=windowsgui: a double-click opens no
// console window), so for those commands it attaches to the console it was
// started from, and the console twin waits for it; the window mode does
// not, so that closing the console cannot end the app.
func WantsConsole(args []string) bool {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return true // a command: serve, keys, access-key, version, or an unknown one
	}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case a == "--":
			return false
		case !strings.HasPrefix(a, "-"):
			continue
		case name == "h" || name == "help" || name == "headless":
			return true
		}
	}
	return false
}
