//go:build desktop

package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/wailsapp/wails/v2"
	wopts "github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/gemini-balance/desktop/app"
	"github.com/gemini-balance/desktop/app/tray"
)

// instanceID names the single-instance lock: a second launch shows the
// first instance's window and exits.
const instanceID = "gemini-balance-desktop.8d2f5c0e"

// errNoDesktop is never returned by this build; nodesktop.go defines it for
// the headless one.
var errNoDesktop error

// desktop is the window and the tray around the app. It implements the
// tray's actions by calling the same App methods as the management API
// (which bound their own time and publish the new status).
type desktop struct {
	app   *app.App
	log   *slog.Logger
	tray  *tray.Tray
	wctx  atomic.Pointer[context.Context] // Wails' context, set in startup
	quits atomic.Bool
	// sysLang is the OS UI language, read once (on macOS it runs a program).
	sysLang string
	// browser is set when there is no window (Windows without WebView2):
	// the UI opens in the default browser (desktop_browser.go).
	browser *browserShell

	// The page while the window is hidden (see hidePage and OpenWindow).
	page     webPage
	unsaved  atomic.Bool   // the page reported typed input not saved yet ("ui:unsaved")
	released atomic.Bool   // the page's web process was ended while hidden
	shown    atomic.Bool   // the window is shown
	ready    chan struct{} // "ui:ready" from a reloaded page
}

// showTimeout bounds how long a reopened window waits for its reloaded
// page before it shows anyway.
const showTimeout = 5 * time.Second

// runDesktop opens the window and the tray and blocks until the user
// quits or sig ends (SIGINT/SIGTERM): then the app quits as from the
// tray's Quit — streams in flight finish, the tray icon is removed.
func runDesktop(sig context.Context, a *app.App, hidden bool, log *slog.Logger) error {
	d := &desktop{app: a, log: log, sysLang: app.SystemLanguage(), ready: make(chan struct{}, 1)}
	d.shown.Store(!hidden)
	// Checked before wails.Run, so that Wails' own "Missing Requirements"
	// dialog (which ends the app) never shows.
	if missing := webview2Missing(); missing != "" {
		d.tray = tray.New(d, log)
		return d.runBrowser(sig, hidden, missing)
	}
	// Wails also catches SIGINT/SIGTERM, but only to close the window,
	// which hides it while a tray is shown: quit for real.
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		select {
		case <-sig.Done():
			log.Info("signal received: quitting")
			d.Quit()
		case <-ended: // quit otherwise: nothing to do
		}
	}()
	d.tray = tray.New(d, log)
	if tray.StartBeforeRun {
		if err := d.tray.Start(); err != nil {
			log.Warn("no tray icon", "err", err)
		}
	}
	setupWebView()
	w, h := a.WindowSize()
	return wails.Run(&wopts.App{
		Title:       "Gemini Balance Desktop",
		Width:       w,
		Height:      h,
		MinWidth:    720,
		MinHeight:   480,
		StartHidden: hidden,
		// Closing the window asks beforeClose, which hides it while the
		// tray can bring it back and quits otherwise.
		HideWindowOnClose: false,
		// The window reaches the management API in-process (app.WindowHandler);
		// Wails' runtime is left for events and the save dialog.
		AssetServer:   &assetserver.Options{Assets: a.UIAssets(), Middleware: a.WindowHandler},
		OnStartup:     d.startup,
		OnDomReady:    d.domReady,
		OnBeforeClose: d.beforeClose,
		OnShutdown:    d.shutdown,
		SingleInstanceLock: &wopts.SingleInstanceLock{
			UniqueId:               instanceID,
			OnSecondInstanceLaunch: func(wopts.SecondInstanceData) { d.OpenWindow() },
		},
		// No GPU compositing: the page is simple, the web process is some
		// 120 MiB lighter without it, and the app's own process then needs
		// no OpenGL at all (setupWebView; the issue 7 measurements).
		Linux: &linux.Options{ProgramName: "gemini-balance-desktop", Icon: a.Icon(), WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
}

// ctx returns Wails' context, or nil before startup.
func (d *desktop) ctx() context.Context {
	if p := d.wctx.Load(); p != nil {
		return *p
	}
	return nil
}

func (d *desktop) startup(ctx context.Context) {
	d.wctx.Store(&ctx)
	d.app.SetSaveDialog(func(_ context.Context, dir, name string) (string, error) {
		return runtime.SaveFileDialog(ctx, runtime.SaveDialogOptions{
			DefaultDirectory: dir, DefaultFilename: name, Title: "Export keys",
			Filters: []runtime.FileFilter{{DisplayName: "Text files (*.txt)", Pattern: "*.txt"}},
		})
	})
	runtime.EventsOn(ctx, "ui:unsaved", func(data ...any) {
		on := len(data) > 0 && data[0] == true
		d.unsaved.Store(on)
		d.log.Debug("the page reports unsaved input", "unsaved", on)
		if !on && !d.shown.Load() {
			// saved while hidden (e.g. a save in flight): release now
			d.hidePage()
		}
	})
	runtime.EventsOn(ctx, "ui:ready", func(...any) {
		select {
		case d.ready <- struct{}{}:
		default:
		}
	})
	d.begin(ctx)
	if d.quits.Load() {
		// A signal came before the window existed.
		runtime.Quit(ctx)
	}
}

// begin starts the proxy and the tray and feeds them status updates until
// ctx ends.
func (d *desktop) begin(ctx context.Context) {
	if err := d.app.Start(ctx); err != nil {
		// The window shows the error (e.g. a taken port) and lets the user pick another port.
		d.log.Error("proxy not started", "err", err)
	}
	if !tray.StartBeforeRun {
		if err := d.tray.Start(); err != nil {
			d.log.Warn("no tray icon", "err", err)
		}
	}
	updates, stop := d.app.Subscribe()
	go func() {
		defer stop()
		d.push(d.app.Status())
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-updates:
				d.push(s)
			}
		}
	}()
}

// push hands a status to the tray and the window. A released page gets
// none: there is no page to run them, and the reloaded one reads the
// status itself.
func (d *desktop) push(s app.Status) {
	d.tray.Update(trayState(s, d.app.Settings().Language, d.sysLang))
	if ctx := d.ctx(); ctx != nil && !d.released.Load() {
		runtime.EventsEmit(ctx, "status", s)
	}
}

// uiLang is the language setting ("", "auto" or a language) as the tray
// and the app's own messages use it: the OS language unless one is chosen.
func uiLang(setting, sysLang string) string {
	if setting == "" || setting == "auto" {
		return sysLang
	}
	return setting
}

// trayState is the tray's view of the status.
func trayState(s app.Status, lang, sysLang string) tray.State {
	return tray.State{
		Lang: uiLang(lang, sysLang), Running: s.Running, Err: s.Error, Addr: s.Addr, Port: s.Port,
		Total: s.Keys.Total, Active: s.Keys.Active, Cooling: s.Keys.Cooling, Dead: s.Keys.Disabled,
		Passthrough: s.Passthrough, Paused: s.Paused,
	}
}

// beforeClose hides the window instead of quitting while the tray icon
// can bring it back. Without a tray host (on Linux: no
// StatusNotifierWatcher, as on many desktops and every headless X
// server), closing the window quits: the app never lingers as an
// invisible process. Quit (tray, signal) always quits.
func (d *desktop) beforeClose(ctx context.Context) bool {
	w, h := runtime.WindowGetSize(ctx)
	d.app.SaveWindowSize(w, h)
	if d.quits.Load() {
		return false
	}
	if !d.tray.Shown() {
		d.log.Info("window closed and no tray icon to bring it back: quitting")
		d.quits.Store(true)
		return false
	}
	runtime.WindowHide(ctx)
	d.shown.Store(false)
	d.hidePage()
	return true
}

// domReady runs when a page finished loading: a window started hidden
// (at login) releases its page until it is opened.
func (d *desktop) domReady(context.Context) {
	if !d.shown.Load() {
		d.hidePage()
	}
}

// hidePage releases the page of the hidden window: its web process ends
// and gives back its memory (most of the app's), and nothing in the page
// runs. A page with unsaved input is kept (the user finds it as left).
func (d *desktop) hidePage() {
	if !d.page.canRelease() || d.unsaved.Load() || d.shown.Load() {
		return
	}
	if !d.released.Swap(true) {
		d.log.Debug("window hidden: page released")
		d.page.release()
		time.AfterFunc(settleDelay, d.settleHidden)
	}
}

// settleDelay is how long after its page was released the hidden window
// ends WebKit's network process, long enough for the network process to
// have stored what the page last saved (its local storage).
const settleDelay = 5 * time.Second

// settleHidden gives back what the hidden window no longer uses: WebKit's
// network process ends (a reload starts a new one), the C and Go heaps
// return their free pages (the page's requests and events were the
// garbage), and then the code pages of the window's libraries go back to
// the OS (pageOutFiles); they come back from disk when the window opens.
func (d *desktop) settleHidden() {
	if !d.released.Load() {
		return // opened again meanwhile
	}
	d.page.endHelpers()
	debug.FreeOSMemory()
	// The network process's pages are this process's alone once it is
	// gone: wait for it to exit before the page-out.
	time.AfterFunc(time.Second, func() {
		if !d.released.Load() {
			return
		}
		n, err := pageOutFiles()
		d.log.Debug("window hidden: code pages given back", "mappings_MiB", n>>20, "err", err)
	})
}

func (d *desktop) shutdown(ctx context.Context) {
	d.tray.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.app.Stop(sctx); err != nil {
		d.log.Warn("stopping the proxy", "err", err)
	}
}

// The tray's actions.

// OpenWindow shows and focuses the window.
func (d *desktop) OpenWindow() {
	if d.browser != nil {
		d.browser.open()
		return
	}
	ctx := d.ctx()
	if ctx == nil {
		return
	}
	d.shown.Store(true)
	if d.released.Swap(false) {
		// A fresh page (current state, no stale screen) shows once it
		// has its first status, or after showTimeout.
		select {
		case <-d.ready: // a stale signal
		default:
		}
		d.page.reload()
		select {
		case <-d.ready:
		case <-time.After(showTimeout):
			d.log.Warn("the reloaded page did not answer in time: showing the window anyway")
		case <-ctx.Done():
			return
		}
		d.log.Debug("window shown: page reloaded")
	}
	runtime.WindowShow(ctx)
	runtime.WindowUnminimise(ctx)
}

// CopyOpenAIBaseURL copies the OpenAI Base URL.
func (d *desktop) CopyOpenAIBaseURL() { d.copy(d.app.BaseURL() + "/v1") }

// CopyGeminiBaseURL copies the Gemini Base URL.
func (d *desktop) CopyGeminiBaseURL() { d.copy(d.app.BaseURL()) }

// CopyAccessKey copies the access key.
func (d *desktop) CopyAccessKey() { d.copy(d.app.AccessKey()) }

func (d *desktop) copy(text string) {
	if d.browser != nil {
		if err := setClipboard(text); err != nil {
			d.log.Warn("clipboard", "err", err)
		}
		return
	}
	ctx := d.ctx()
	if ctx == nil {
		return
	}
	if err := runtime.ClipboardSetText(ctx, text); err != nil {
		d.log.Warn("clipboard", "err", err)
	}
}

// CheckAllKeys starts checking every key.
func (d *desktop) CheckAllKeys() {
	if _, err := d.app.StartCheck(nil); err != nil {
		d.log.Warn("check keys", "err", err)
	}
}

// PruneDeadKeys quarantines the dead keys (undo from the window).
func (d *desktop) PruneDeadKeys() {
	if _, err := d.app.PruneDead(context.Background()); err != nil {
		d.log.Warn("prune keys", "err", err)
	}
}

// SetPassthrough turns passthrough mode on or off.
func (d *desktop) SetPassthrough(on bool) {
	if err := d.app.SetPassthrough(context.Background(), on); err != nil {
		d.log.Warn("passthrough", "err", err)
	}
}

// SetPaused pauses or resumes the proxy.
func (d *desktop) SetPaused(paused bool) {
	if err := d.app.SetPaused(context.Background(), paused); err != nil {
		d.log.Warn("pause", "err", err)
	}
}

// Quit ends the app.
func (d *desktop) Quit() {
	d.quits.Store(true)
	if d.browser != nil {
		d.browser.quit()
		return
	}
	if ctx := d.ctx(); ctx != nil {
		runtime.Quit(ctx)
	}
}
