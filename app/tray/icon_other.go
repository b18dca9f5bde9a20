//go:build !windows

package tray

import _ "embed"

// iconBytes is the tray icon; systray on Linux and macOS takes PNG data.
//
//go:embed icon.png
var iconBytes []byte
