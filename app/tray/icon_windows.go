//go:build windows

package tray

import _ "embed"

// iconBytes is the tray icon; systray on Windows wants ICO data.
//
//go:embed icon.ico
var iconBytes []byte
