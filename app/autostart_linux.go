//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// autostartFile is the XDG autostart entry.
func autostartFile() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", AppID+".desktop"), nil
}

func setAutostart(exe string, on bool) error {
	path, err := autostartFile()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`).Replace(exe) + `"`
	entry := "[Desktop Entry]\nType=Application\nName=Gemini Balance Desktop\n" +
		"Exec=" + quoted + " --hidden\nIcon=" + AppID + "\nX-GNOME-Autostart-enabled=true\nTerminal=false\n"
	return os.WriteFile(path, []byte(entry), 0o644)
}
