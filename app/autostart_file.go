//go:build darwin || linux

package app

import (
	"errors"
	"os"
	"path/filepath"
)

// writeAutostartFile writes content to path (making its folder) when on,
// and removes path (if it is there) when off: the XDG autostart entry and
// the LaunchAgent are such files.
func writeAutostartFile(path string, content string, on bool) error {
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
