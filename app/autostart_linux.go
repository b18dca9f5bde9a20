//go:build linux || freebsd || openbsd || netbsd

package app

import (
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
	quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`).Replace(exe) + `"`
	entry := "[Desktop Entry]\nType=Application\nName=Gemini Balance Desktop\n" +
		"Exec=" + quoted + " --hidden\nIcon=" + AppID + "\nX-GNOME-Autostart-enabled=true\nTerminal=false\n"
	return writeAutostartFile(path, entry, on)
}
