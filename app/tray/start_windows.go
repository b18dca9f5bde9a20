//go:build windows

package tray

import (
	"runtime"

	"fyne.io/systray"
)

// StartBeforeRun reports whether [Tray.Start] must be called on the main goroutine before
// wails.Run (macOS). When false, call it from Wails' OnStartup.
const StartBeforeRun = false

// start runs systray's own Win32 message loop on a goroutine locked to its OS thread, beside
// the Wails window's loop.
func (t *Tray) start() error {
	systray.SetOnTapped(func() { t.enqueue(ItemOpen) })
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		systray.Run(t.onReady, t.onExit)
	}()
	return nil
}

// hostPresent reports whether the system shows tray icons: always here.
func hostPresent() bool { return true }

func (t *Tray) stop() {
	systray.Quit()
}
