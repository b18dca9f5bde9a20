package tray

import (
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"fyne.io/systray"
)

// Actions is what the menu items do; the app implements it. The tray calls the methods one
// at a time from its own goroutine, so a method that takes long (checking keys) should start
// the work in the background and return. Methods may call [Tray.Update] and [Tray.Stop]:
// neither waits for the click goroutine.
type Actions interface {
	// OpenWindow shows and focuses the main window (also bound to a left click on the icon
	// where the platform reports one).
	OpenWindow()
	// CopyOpenAIBaseURL puts the OpenAI Base URL (http://HOST:PORT/v1) on the clipboard.
	CopyOpenAIBaseURL()
	// CopyGeminiBaseURL puts the Gemini Base URL (http://HOST:PORT) on the clipboard.
	CopyGeminiBaseURL()
	// CopyAccessKey puts the proxy's access key on the clipboard.
	CopyAccessKey()
	// CheckAllKeys starts a check of every key.
	CheckAllKeys()
	// PruneDeadKeys removes the dead (invalid, expired, revoked) keys.
	PruneDeadKeys()
	// SetPassthrough turns passthrough mode on or off.
	SetPassthrough(on bool)
	// SetPaused pauses or resumes the proxy.
	SetPaused(paused bool)
	// Quit ends the application.
	Quit()
}

// ErrUnavailable is wrapped by [Tray.Start] when the platform has no usable system tray
// (on Linux: no D-Bus session bus). The app should log it and go on without a tray.
var ErrUnavailable = errors.New("system tray unavailable")

// Tray is the tray icon with its menu. Create it with [New], feed it states with
// [Tray.Update], then [Tray.Start] it; [Tray.Stop] removes it. A process can start at most
// one Tray, because the underlying systray library is process-global.
type Tray struct {
	actions Actions
	log     *slog.Logger
	icon    []byte

	mu      sync.Mutex
	latest  State
	started bool
	stopped bool
	end     func() // set by the per-OS start, called by the per-OS stop

	kick   chan struct{} // capacity 1: a newer state waits to be drawn
	clicks chan ItemID   // clicked items, waiting to be dispatched
	done   chan struct{} // closed by Stop

	// Owned by the rendering goroutine (onReady, then renderLoop).
	shape []ItemID
	items map[ItemID]*systray.MenuItem
	shown map[ItemID]Item
}

// New returns a tray that dispatches clicks to actions and logs to log. Nothing is shown
// before [Tray.Start].
func New(actions Actions, log *slog.Logger) *Tray {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tray{
		actions: actions,
		log:     log,
		icon:    iconBytes,
		kick:    make(chan struct{}, 1),
		clicks:  make(chan ItemID, 16),
		done:    make(chan struct{}),
	}
}

// Update hands the tray a new state snapshot. It never blocks: when updates arrive faster
// than the menu is redrawn, only the newest state is drawn.
func (t *Tray) Update(s State) {
	t.mu.Lock()
	t.latest = s
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// Start shows the icon and menu. See the package documentation for where to call it on each
// OS. It returns an error wrapping [ErrUnavailable] when there is no tray to show, and an
// error when called twice.
func (t *Tray) Start() error {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return errors.New("tray: already started")
	}
	t.started = true
	t.mu.Unlock()
	quietLibrary(t.log)
	if err := t.start(); err != nil {
		t.mu.Lock()
		t.stopped = true // nothing to stop
		t.mu.Unlock()
		close(t.done)
		t.log.Warn("tray: not shown", "reason", err.Error())
		return fmt.Errorf("tray: %w", err)
	}
	t.log.Info("tray started")
	return nil
}

// Shown reports whether the icon is on screen, or will be: the tray was
// started and not stopped, and the desktop has a tray host (on Linux, a
// StatusNotifierWatcher on the session bus now). Without one, nothing
// can bring a hidden window back: the app must quit instead of hiding.
func (t *Tray) Shown() bool {
	t.mu.Lock()
	on := t.started && !t.stopped
	t.mu.Unlock()
	return on && hostPresent()
}

// libraryLog takes the tray library's log lines (it writes its errors with
// the standard logger, e.g. "systray error: failed to register: …" when
// there is no tray host) off the terminal: they go to the app's logger at
// debug level, so the user reads the app's own message only.
type libraryLog struct {
	log  *slog.Logger
	next io.Writer
}

func (l libraryLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.Contains(line, "systray error:") || strings.Contains(line, "Failed to read icon format") {
		l.log.Debug("tray library", "msg", line)
		return len(p), nil
	}
	return l.next.Write(p)
}

// quietLibrary routes the tray library's log through libraryLog. The
// standard logger is process-global, like the tray library itself: only
// this package touches it.
func quietLibrary(log *slog.Logger) {
	if _, done := stdlog.Writer().(libraryLog); !done {
		stdlog.SetOutput(libraryLog{log: log, next: stdlog.Writer()})
	}
}

// Stop removes the icon and ends the tray's goroutines. It is safe to call more than once,
// and without a successful Start.
func (t *Tray) Stop() {
	t.mu.Lock()
	if !t.started || t.stopped {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	t.mu.Unlock()
	close(t.done)
	defer func() {
		// systray's Linux end() dereferences its D-Bus connection, which is nil when its
		// start failed halfway; a tray must never crash the app's shutdown.
		if r := recover(); r != nil {
			t.log.Warn("tray: stop failed", "panic", fmt.Sprint(r))
		}
	}()
	t.stop()
	t.log.Info("tray stopped")
}

func (t *Tray) snapshot() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.latest
}

// onReady runs once systray is up: it draws the first menu and starts the loops.
func (t *Tray) onReady() {
	systray.SetIcon(t.icon)
	systray.SetTitle(AppName)
	t.render(t.snapshot())
	go t.renderLoop()
	go t.clickLoop()
}

func (t *Tray) onExit() {}

func (t *Tray) renderLoop() {
	for {
		select {
		case <-t.done:
			return
		case <-t.kick:
			t.render(t.snapshot())
		}
	}
}

func (t *Tray) clickLoop() {
	for {
		select {
		case <-t.done:
			return
		case id := <-t.clicks:
			t.dispatch(id)
		}
	}
}

// enqueue records a click without blocking the caller (a D-Bus or Win32 callback).
func (t *Tray) enqueue(id ItemID) {
	select {
	case t.clicks <- id:
	case <-t.done:
	default:
		t.log.Warn("tray: click dropped, too many pending", "item", string(id))
	}
}

// dispatch runs the action of item id against the current state.
func (t *Tray) dispatch(id ItemID) {
	s := t.snapshot()
	t.log.Debug("tray click", "item", string(id))
	switch id {
	case ItemOpen:
		t.actions.OpenWindow()
	case ItemCopyOpenAI:
		t.actions.CopyOpenAIBaseURL()
	case ItemCopyGemini:
		t.actions.CopyGeminiBaseURL()
	case ItemCopyKey:
		t.actions.CopyAccessKey()
	case ItemCheckKeys:
		t.actions.CheckAllKeys()
	case ItemPruneDead:
		t.actions.PruneDeadKeys()
	case ItemPassthrough:
		t.actions.SetPassthrough(!s.Passthrough)
	case ItemPause:
		t.actions.SetPaused(!s.Paused)
	case ItemQuit:
		t.actions.Quit()
	default:
		t.log.Warn("tray: click on unknown item", "item", string(id))
	}
}

// render draws the menu for s: it updates the items in place, or rebuilds the whole menu
// when the set or order of items changed.
func (t *Tray) render(s State) {
	menu := Menu(s)
	shape := make([]ItemID, len(menu))
	for i, it := range menu {
		shape[i] = it.ID
	}
	if t.items == nil || !slices.Equal(shape, t.shape) {
		t.rebuild(menu, shape)
	} else {
		for _, it := range menu {
			if !it.Separator() {
				t.updateItem(it)
			}
		}
	}
	systray.SetTooltip(Tooltip(s))
}

func (t *Tray) rebuild(menu []Item, shape []ItemID) {
	if t.items != nil {
		systray.ResetMenu()
	}
	t.items = make(map[ItemID]*systray.MenuItem, len(menu))
	t.shown = make(map[ItemID]Item, len(menu))
	t.shape = shape
	for _, it := range menu {
		if it.Separator() {
			systray.AddSeparator()
			continue
		}
		var mi *systray.MenuItem
		if it.Checkable {
			mi = systray.AddMenuItemCheckbox(it.Label, "", it.Checked)
		} else {
			mi = systray.AddMenuItem(it.Label, "")
		}
		if !it.Enabled {
			mi.Disable()
		}
		t.items[it.ID] = mi
		t.shown[it.ID] = it
		go t.forward(it.ID, mi.ClickedCh)
	}
}

func (t *Tray) updateItem(it Item) {
	mi, old := t.items[it.ID], t.shown[it.ID]
	if it.Label != old.Label {
		mi.SetTitle(it.Label)
	}
	if it.Enabled != old.Enabled {
		if it.Enabled {
			mi.Enable()
		} else {
			mi.Disable()
		}
	}
	if it.Checked != old.Checked {
		if it.Checked {
			mi.Check()
		} else {
			mi.Uncheck()
		}
	}
	t.shown[it.ID] = it
}

// forward turns one item's click channel into dispatches; it ends when the item is removed
// (systray closes the channel) or the tray stops.
func (t *Tray) forward(id ItemID, clicked <-chan struct{}) {
	for {
		select {
		case <-t.done:
			return
		case _, ok := <-clicked:
			if !ok {
				return
			}
			select {
			case t.clicks <- id:
			case <-t.done:
				return
			}
		}
	}
}
