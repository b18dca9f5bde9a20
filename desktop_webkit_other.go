//go:build desktop && !(linux && webkit2_41)

package main

// webPage is the window's web content where it cannot be released and
// reloaded from here: Windows (Wails v2 keeps its WebView2 controller to
// itself), macOS, WebKitGTK 4.0.
type webPage struct{}

func setupWebView()              {}
func (webPage) canRelease() bool { return false }
func (webPage) release()         {}
func (webPage) reload()          {}
func (webPage) endHelpers()      {}
