//go:build darwin

package app

import (
	"html"
	"os"
	"path/filepath"
)

func setAutostart(exe string, on bool) error {
	home, err := os.UserHomeDir()
	if err != nil {
		return err
	}
	path := filepath.Join(home, "Library", "LaunchAgents", "com.gemini-balance.desktop.plist")
	plist := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>Label</key><string>com.gemini-balance.desktop</string>
<key>ProgramArguments</key><array><string>` + html.EscapeString(exe) + `</string><string>--hidden</string></array>
<key>RunAtLoad</key><true/>
</dict></plist>
`
	return writeAutostartFile(path, plist, on)
}
