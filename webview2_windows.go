//go:build desktop && windows

package main

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/wailsapp/go-webview2/webviewloader"
	"golang.org/x/sys/windows"
)

// minWebView2 is the oldest runtime Wails v2.16 accepts
// (wv2installer.MinimumRuntimeVersion).
const minWebView2 = "94.0.992.31"

// webview2Missing says what is missing when the WebView2 runtime cannot
// show the window, or "". It asks the way Wails does (the Evergreen
// runtime's registration, through go-webview2's loader), so the answer is
// the one Wails would reach. GBD_TEST_NO_WEBVIEW2=1 makes it missing (tests).
func webview2Missing() string {
	if os.Getenv("GBD_TEST_NO_WEBVIEW2") == "1" {
		return "the Microsoft Edge WebView2 Runtime (GBD_TEST_NO_WEBVIEW2=1)"
	}
	v, err := webviewloader.GetAvailableCoreWebView2BrowserVersionString("")
	if err != nil {
		return fmt.Sprintf("the Microsoft Edge WebView2 Runtime (%v)", err)
	}
	if v == "" {
		return "the Microsoft Edge WebView2 Runtime"
	}
	if c, err := webviewloader.CompareBrowserVersions(v, minWebView2); err == nil && c < 0 {
		return fmt.Sprintf("a newer Microsoft Edge WebView2 Runtime (%s is installed, %s or newer is needed)", v, minWebView2)
	}
	return ""
}

// openURL opens url with the default browser.
func openURL(url string) error {
	verb, _ := windows.UTF16PtrFromString("open")
	target, err := windows.UTF16PtrFromString(url)
	if err != nil {
		return err
	}
	return windows.ShellExecute(0, verb, target, nil, nil, windows.SW_SHOWNORMAL)
}

// askYesNo shows a native message box with Yes and No and reports Yes.
func askYesNo(title, text string) bool {
	t, _ := windows.UTF16PtrFromString(title)
	m, _ := windows.UTF16PtrFromString(text)
	r, _ := windows.MessageBox(0, m, t, windows.MB_YESNO|windows.MB_ICONWARNING|windows.MB_SETFOREGROUND)
	return r == idYes
}

const idYes = 6

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procOpenClipboard    = user32.NewProc("OpenClipboard")
	procCloseClipboard   = user32.NewProc("CloseClipboard")
	procEmptyClipboard   = user32.NewProc("EmptyClipboard")
	procSetClipboardData = user32.NewProc("SetClipboardData")
	kernel32             = windows.NewLazySystemDLL("kernel32.dll")
	procGlobalAlloc      = kernel32.NewProc("GlobalAlloc")
	procGlobalFree       = kernel32.NewProc("GlobalFree")
	procGlobalLock       = kernel32.NewProc("GlobalLock")
	procGlobalUnlock     = kernel32.NewProc("GlobalUnlock")
	procRtlMoveMemory    = kernel32.NewProc("RtlMoveMemory")
)

const (
	cfUnicodeText = 13
	gmemMoveable  = 0x0002
)

// setClipboard puts text on the clipboard (the tray's copy items when
// there is no window, hence no Wails runtime).
func setClipboard(text string) error {
	u, err := windows.UTF16FromString(text)
	if err != nil {
		return err
	}
	if r, _, err := procOpenClipboard.Call(0); r == 0 {
		return fmt.Errorf("OpenClipboard: %w", err)
	}
	defer procCloseClipboard.Call()
	procEmptyClipboard.Call()
	size := uintptr(len(u) * 2)
	h, _, err := procGlobalAlloc.Call(gmemMoveable, size)
	if h == 0 {
		return fmt.Errorf("GlobalAlloc: %w", err)
	}
	p, _, err := procGlobalLock.Call(h)
	if p == 0 {
		procGlobalFree.Call(h)
		return fmt.Errorf("GlobalLock: %w", err)
	}
	procRtlMoveMemory.Call(p, uintptr(unsafe.Pointer(&u[0])), size)
	procGlobalUnlock.Call(h)
	if r, _, err := procSetClipboardData.Call(cfUnicodeText, h); r == 0 {
		procGlobalFree.Call(h)
		return fmt.Errorf("SetClipboardData: %w", err)
	}
	return nil // the clipboard owns h now
}

// browserInstanceLock takes a per-user named mutex that marks an instance
// running without a window; first is false when another instance has it.
func (d *desktop) browserInstanceLock() (release func(), first bool) {
	name, _ := windows.UTF16PtrFromString(`Local\` + instanceID + `.browser`)
	h, err := windows.CreateMutex(nil, false, name)
	if err == windows.ERROR_ALREADY_EXISTS {
		windows.CloseHandle(h)
		return nil, false
	}
	if err != nil {
		d.log.Warn("single-instance lock", "err", err)
		return func() {}, true
	}
	return func() { windows.CloseHandle(h) }, true
}
