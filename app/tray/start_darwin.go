//go:build darwin

package tray

import "fyne.io/systray"

// StartBeforeRun reports whether [Tray.Start] must be called on the main goroutine before
// wails.Run (macOS). When false, call it from Wails' OnStartup.
const StartBeforeRun = true

// start registers the status item with AppKit. It must run on the main thread (the main
// goroutine, which systray locks to it) before wails.Run starts the application's run loop;
// menu changes are then performed on the main thread by that loop.
//
// Not built or tested on Linux CI: macOS builds need cgo and Apple's SDK.
func (t *Tray) start() error {
	start, end := systray.RunWithExternalLoop(t.onReady, t.onExit)
	t.mu.Lock()
	t.end = end
	t.mu.Unlock()
	start()
	return nil
}

// hostPresent reports whether the system shows tray icons: always here.
func hostPresent() bool { return true }

func (t *Tray) stop() {
	t.mu.Lock()
	end := t.end
	t.mu.Unlock()
	if end != nil {
		end()
	}
}
