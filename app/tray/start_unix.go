//go:build (linux || freebsd || openbsd || netbsd) && !android

package tray

import (
	"fmt"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

// StartBeforeRun reports whether [Tray.Start] must be called on the main goroutine before
// wails.Run (macOS). When false, call it from Wails' OnStartup.
const StartBeforeRun = false

// watcherName is the D-Bus name of the tray host (KDE, GNOME's AppIndicator extension,
// Xfce, waybar, …) that shows StatusNotifierItems.
const watcherName = "org.kde.StatusNotifierWatcher"

// start exports the StatusNotifierItem and its dbusmenu on the session bus. Without a
// session bus it does nothing and returns ErrUnavailable: systray's end() would panic later.
func (t *Tray) start() error {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err == nil {
		if err = conn.Auth(nil); err == nil {
			err = conn.Hello()
		}
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return fmt.Errorf("%w: no D-Bus session bus (%v)", ErrUnavailable, err)
	}
	var hasWatcher bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&hasWatcher); err != nil || !hasWatcher {
		t.log.Info("tray: no tray host (" + watcherName + ") on the session bus yet; the icon appears when one starts")
	}
	conn.Close()

	systray.SetOnTapped(func() { t.enqueue(ItemOpen) })
	start, end := systray.RunWithExternalLoop(t.onReady, t.onExit)
	t.mu.Lock()
	t.end = end
	t.mu.Unlock()
	start()
	return nil
}

// hostPresent reports whether a tray host owns the StatusNotifierWatcher
// name on the session bus right now.
func hostPresent() bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	return err == nil && has
}

func (t *Tray) stop() {
	t.mu.Lock()
	end := t.end
	t.mu.Unlock()
	if end != nil {
		end()
	}
}
