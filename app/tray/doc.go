// Package tray is the system-tray icon and menu of Gemini Balance Desktop.
//
// The menu is a pure function of a state snapshot: [Menu] turns a [State] into a list of
// [Item]s (ids, labels in zh-CN or English, enabled and checked flags), which is what the
// table tests check. A [Tray] renders that model with fyne.io/systray, follows state changes
// through a coalescing update (only the newest snapshot is drawn) and dispatches clicks to an
// [Actions] implementation supplied by the app.
//
// fyne.io/systray is process-global, so it is confined to this package and a process can
// start at most one [Tray]. Where to call [Tray.Start] depends on the OS (see [StartBeforeRun]):
//   - Linux and the BSDs: in Wails' OnStartup, and [Tray.Stop] in OnShutdown. The tray talks
//     D-Bus (StatusNotifierItem + com.canonical.dbusmenu); without a session bus Start returns
//     an error wrapping [ErrUnavailable] and the app runs without a tray.
//   - Windows: anywhere; the tray runs its own message loop on a locked OS thread.
//   - macOS: on the main goroutine before wails.Run.
//
// This package imports neither the app nor the proxy packages; the app adapts its state to
// [State] and implements [Actions].
package tray
