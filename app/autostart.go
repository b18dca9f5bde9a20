package app

import (
	"fmt"
	"os"
)

// Autostart registers the app to start, with its window hidden, when the
// user logs in: an XDG autostart entry on Linux, the Run key on Windows, a
// LaunchAgent on macOS. The per-OS parts are in autostart_*.go.
type Autostart struct {
	// Exe is the program to start; default the running executable.
	Exe string
}

// Set turns start at login on or off.
func (as Autostart) Set(on bool) error {
	exe := as.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("start at login: find the program: %w", err)
		}
	}
	if err := setAutostart(exe, on); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}
