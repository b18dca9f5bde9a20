package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/private"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/sysproxy"
)

// AppID names the app: the keychain service and the config folder.
const AppID = "gemini-balance-desktop"

// Options configure New. Zero values mean the defaults.
type Options struct {
	// DataDir holds the database (and the file secret store); default the
	// user config dir + AppID.
	DataDir string
	Log     *slog.Logger
	// SecretStore is "keychain" or "file"; empty means the recorded
	// choice, or on first run the keychain when it answers and else the
	// file store with a generated passphrase (secretstore.go).
	SecretStore string
	// Passphrase is the user's passphrase of the file secret store; empty
	// means a generated one kept beside the store.
	Passphrase string
	// Addr overrides the saved listen address for this run only.
	Addr string
	// Assets is the built web UI, served at / behind the admin login.
	Assets fs.FS
	// Version is shown in the UI.
	Version string
	// Icon is the app icon (PNG) for the window.
	Icon []byte
	// Autostart registers the app to start at login (the settings'
	// StartAtLogin); its zero value uses the running executable.
	Autostart Autostart
	// KeychainService is the OS keychain's service name (default AppID;
	// tests use their own).
	KeychainService string
	// fileLogN, set by tests, lowers the scrypt cost of file stores this
	// app creates (0: the real cost).
	fileLogN int
	// Interactive says a user sits at this session and can answer a
	// keychain's unlock prompt (the window): on a first run a keychain that
	// does not answer in time is then kept (it waits for the prompt)
	// instead of replaced by the file store.
	Interactive bool
	// keychainDown, set by tests, makes the OS keychain count as
	// unreachable (go-keyring keeps one D-Bus connection per process, so a
	// test cannot take the bus away); keychainHangs makes it count as not
	// answering in time.
	keychainDown, keychainHangs bool
	// hashLogN, set by tests, lowers the scrypt cost (log2 N) of new
	// admin password hashes (0: the real cost, ~32 MiB and 0.1 s a hash,
	// several seconds under the race detector).
	hashLogN int
	// KeychainTimeout bounds every keychain call (default 10s).
	KeychainTimeout time.Duration
	// ClientHome is the home folder the Connect screen writes client
	// config files in (default the user's home; tests use their own).
	ClientHome string
}

// App is the running application.
type App struct {
	opts    Options
	log     *slog.Logger
	store   *store.Store
	secrets keychain.Store
	// secretsProblem says why keys cannot be read, in the user's words
	// ("" when the secret store works).
	secretsProblem string
	pool           *keypool.Pool
	vault          *vault.Vault
	stats          *Recorder
	server         *proxy.Server
	hub            *hub
	sessions       *sessions
	// admin checks the admin password against its hash; throttle slows
	// down wrong passwords per client address.
	admin    *adminAuth
	throttle *throttle
	// accessKeyProblem says why the access key could not be read ("" when
	// it could).
	accessKeyProblem string
	// sysProxy shows what the "system proxy" setting resolves to.
	sysProxy *sysproxy.Resolver
	// storeInfo describes the secret store in use (secretstore.go).
	storeInfo SecretStoreInfo
	// leftover is a store a move left behind, still to be emptied.
	leftover *storeChoice
	// moveMu serialises moves between secret stores.
	moveMu sync.Mutex
	// controlToken authorises command-line tools of this data dir
	// (control.go).
	controlToken string
	// testHook, set by crash tests, is called at the steps of a move.
	testHook func(point string)
	checks   checkRunner // the key-check job and prune undo (jobs.go)
	dialog   saveDialog  // the desktop's save-file dialog (ops.go)

	// settingsMu serialises settings changes, read-modify-write included.
	settingsMu sync.Mutex

	mu       sync.Mutex
	settings Settings
	running  bool
	startErr string
	stopBG   context.CancelFunc
	bg       sync.WaitGroup
}

// New opens the data directory, the store and the secret store, loads the
// settings (making random secrets on first run) and builds the proxy. It
// does not listen yet: Start does.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.KeychainService == "" {
		opts.KeychainService = AppID
	}
	if opts.KeychainTimeout <= 0 {
		opts.KeychainTimeout = 10 * time.Second
	}
	if opts.DataDir == "" {
		dir, err := DefaultDataDir()
		if err != nil {
			return nil, err
		}
		opts.DataDir = dir
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	// The database and a file secret store live here: the current user
	// only (on Windows by ACL, which also covers what is inside).
	if err := private.Dir(opts.DataDir); err != nil {
		opts.Log.Warn("the data directory may be readable by other users", "dir", opts.DataDir, "err", err)
	}
	a := &App{opts: opts, log: opts.Log, hub: newHub(), sessions: newSessions(), admin: newAdminAuth(), throttle: newThrottle(nil), sysProxy: sysproxy.New(), controlToken: randomToken(32)}
	st, err := store.Open(filepath.Join(opts.DataDir, "gemini-balance.db"), opts.Log)
	if err != nil {
		return nil, err
	}
	a.store = st
	if err := a.openSecrets(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.loadSettings(ctx); err != nil {
		st.Close()
		return nil, err
	}
	strategy, _ := keypool.ParseStrategy(a.settings.Strategy)
	a.pool = keypool.New(keypool.Options{Strategy: strategy})
	a.vault = vault.NewVault(st, a.secrets, a.pool, a.checkOptions, opts.Log)
	a.stats = NewRecorder(st, a.vault, opts.Log)
	a.stats.OnFlush = a.notify
	cfg := a.settings.proxyConfig()
	if opts.Addr != "" {
		cfg.Addr = opts.Addr
	}
	a.server, err = proxy.New(cfg, a.pool, a.stats, a.adminHandler(), opts.Log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// checkOptions are the key-check settings in force.
func (a *App) checkOptions() vault.CheckOptions {
	s := a.Settings()
	t, err := proxy.NewTransport(s.UpstreamProxy)
	var client *http.Client
	if err == nil {
		client = &http.Client{Transport: t}
	}
	return vault.CheckOptions{Client: client, Upstream: s.Upstream, Concurrency: s.CheckConcurrency}
}

// Start loads the keys into the pool and starts serving. A taken port is a
// *proxy.PortInUseError; the app stays usable so the user can pick
// another port.
func (a *App) Start(ctx context.Context) error {
	var rep vault.ReconcileReport
	unlock, err := LockDataDir(ctx, a.opts.DataDir)
	if err == nil {
		rep, err = a.vault.Reconcile(ctx)
		unlock()
	}
	if err != nil {
		a.log.Error("loading keys failed", "err", err)
	}
	bgctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	if err == nil && rep.KeychainError != "" && a.secretsProblem == "" {
		a.secretsProblem = "Keys could not be read from the secret store: " + rep.KeychainError
	}
	a.stopBG = cancel
	a.mu.Unlock()
	a.finishLeftover(ctx)
	a.bg.Add(2)
	go func() { defer a.bg.Done(); a.stats.Run(bgctx) }()
	go func() { defer a.bg.Done(); a.maintain(bgctx) }()
	return a.listen()
}

// listen starts serving at the configured address and records the
// outcome for Status: the error (e.g. a taken port) is shown to the user.
func (a *App) listen() error {
	err := a.server.Start()
	a.mu.Lock()
	a.running, a.startErr = err == nil, ""
	if err != nil {
		a.startErr = err.Error()
	}
	a.mu.Unlock()
	if err == nil {
		a.writeControl()
	}
	a.notify()
	return err
}

// maintain runs periodic housekeeping: statistics retention and purging of
// expired quarantined keys.
func (a *App) maintain(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		s := a.Settings()
		r := store.DefaultRetention()
		if s.LogRetentionDays > 0 {
			r.LogAge = time.Duration(s.LogRetentionDays) * 24 * time.Hour
		}
		if s.LogMaxRows > 0 {
			r.LogRows = s.LogMaxRows
		}
		if _, err := a.store.Compact(ctx, time.Now(), r); err != nil && ctx.Err() == nil {
			a.log.Warn("statistics compaction failed", "err", err)
		}
		if _, err := a.vault.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purging expired quarantined keys failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop stops serving (in-flight requests finish until ctx ends) and flushes
// the statistics.
func (a *App) Stop(ctx context.Context) error {
	a.removeControl()
	err := a.server.Shutdown(ctx)
	a.stopChecks()
	a.mu.Lock()
	a.running = false
	stop := a.stopBG
	a.stopBG = nil
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
	a.bg.Wait()
	a.notify()
	return err
}

// Close releases the store. Call Stop first when the app was started.
func (a *App) Close() error {
	a.mu.Lock()
	running := a.stopBG != nil
	a.mu.Unlock()
	if running {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a.Stop(ctx)
		cancel()
	}
	a.stopChecks()
	return a.store.Close()
}

// Keys returns the key service.
func (a *App) Keys() *vault.Vault { return a.vault }

// Stats returns the statistics recorder.
func (a *App) Stats() *Recorder { return a.stats }

// Settings returns the settings in force.
func (a *App) Settings() Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings
}

// AccessKey is the key clients use with the proxy.
func (a *App) AccessKey() string { return a.Settings().AccessKey }

// SettingsChange says what applying new settings did.
type SettingsChange struct {
	Settings Settings `json:"settings"`
	// Restarted: the listener moved to the new address.
	Restarted bool `json:"restarted"`
	// RestartError says why the listener could not move (the old address
	// keeps serving).
	RestartError string `json:"restartError,omitempty"`
}

// UpdateSettings validates, saves and applies s. A new port or bind
// address moves the listener (or starts it, when an earlier start failed);
// if the new address is taken the settings are still saved and
// RestartError says so.
func (a *App) UpdateSettings(ctx context.Context, s Settings) (SettingsChange, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	return a.updateSettingsLocked(ctx, s)
}

// EditSettings applies edit to a copy of the settings in force, then
// validates, saves and applies the result, with no other change in between
// (a tray toggle cannot be lost to a concurrent edit). It returns the
// settings as they were before.
func (a *App) EditSettings(ctx context.Context, edit func(*Settings) error) (Settings, SettingsChange, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	old := a.Settings()
	s := old
	s.Aliases = maps.Clone(old.Aliases)
	s.AllowedHosts = slices.Clone(old.AllowedHosts)
	if err := edit(&s); err != nil {
		return old, SettingsChange{}, err
	}
	ch, err := a.updateSettingsLocked(ctx, s)
	return old, ch, err
}

// modifySettings is EditSettings for edits that cannot fail.
func (a *App) modifySettings(ctx context.Context, f func(*Settings)) (Settings, error) {
	_, ch, err := a.EditSettings(ctx, func(s *Settings) error { f(s); return nil })
	return ch.Settings, err
}

// updateSettingsLocked validates, saves and applies s. An empty access key
// or admin password keeps the one in force; a new admin password is kept
// only as its hash, the access key and proxy credentials only in the
// secret store.
func (a *App) updateSettingsLocked(ctx context.Context, s Settings) (SettingsChange, error) {
	old := a.Settings()
	if s.AccessKey == "" {
		s.AccessKey = old.AccessKey
	}
	s, err := s.Normalize()
	if err != nil {
		return SettingsChange{}, err
	}
	if s.StartAtLogin != old.StartAtLogin {
		if err := a.opts.Autostart.Set(s.StartAtLogin); err != nil {
			return SettingsChange{}, err
		}
	}
	hash, err := a.saveSecrets(ctx, old, s)
	if err != nil {
		return SettingsChange{}, err
	}
	rows := map[string]any{settingsRow: storedForm(s)}
	if hash != "" {
		rows[adminHashRow] = hash
	}
	if err := a.store.PutSettings(ctx, rows); err != nil {
		return SettingsChange{}, fmt.Errorf("save settings: %w", err)
	}
	if hash != "" {
		a.admin.set(hash)
	}
	s.AdminPassword = ""
	a.mu.Lock()
	if s.AccessKey != old.AccessKey {
		a.accessKeyProblem = ""
	}
	a.settings = s
	running, started := a.running, a.stopBG != nil
	a.mu.Unlock()
	cfg := s.proxyConfig()
	if a.opts.Addr != "" && s.Addr() == old.Addr() {
		// The --addr of this run stands until the user picks another address.
		cfg.Addr = a.server.Config().Addr
	}
	moved, err := a.server.Update(cfg)
	if err != nil {
		return SettingsChange{}, err
	}
	ch := SettingsChange{Settings: s}
	switch {
	case moved && running:
		if err := a.server.Restart(); err != nil {
			ch.RestartError = err.Error()
		} else {
			ch.Restarted = true
			a.writeControl()
		}
	case moved && started:
		// The first start failed (e.g. the port was taken): try the new address.
		if err := a.listen(); err != nil {
			ch.RestartError = err.Error()
		} else {
			ch.Restarted = true
		}
	}
	a.notify()
	return ch, nil
}

// SetPassthrough switches passthrough mode.
func (a *App) SetPassthrough(ctx context.Context, on bool) error {
	_, err := a.modifySettings(ctx, func(s *Settings) { s.Passthrough = on })
	return err
}

// SetPaused pauses or resumes the proxy.
func (a *App) SetPaused(ctx context.Context, paused bool) error {
	_, err := a.modifySettings(ctx, func(s *Settings) { s.Paused = paused })
	return err
}

// RegenerateAccessKey makes a new random access key; clients must be
// given the new one.
func (a *App) RegenerateAccessKey(ctx context.Context) (string, error) {
	s, err := a.modifySettings(ctx, func(s *Settings) { s.AccessKey = DefaultSettings().AccessKey })
	if err != nil {
		return "", err
	}
	return s.AccessKey, nil
}

// Status is the state every face shows.
type Status struct {
	Running bool `json:"running"`
	// Error says why the proxy is not serving (e.g. the port is taken).
	Error string `json:"error,omitempty"`
	// SecretsProblem says why stored keys cannot be used.
	SecretsProblem string `json:"secretsProblem,omitempty"`
	// SecretStore says where the keys are kept and how safe that is.
	SecretStore   SecretStoreInfo `json:"secretStore"`
	Addr          string          `json:"addr"`
	Port          int             `json:"port"`
	OpenAIBaseURL string          `json:"openaiBaseURL"`
	GeminiBaseURL string          `json:"geminiBaseURL"`
	Keys          keypool.Counts  `json:"keys"`
	Passthrough   bool            `json:"passthrough"`
	Paused        bool            `json:"paused"`
	Version       string          `json:"version"`
	// Check is the progress of the latest key check.
	Check CheckJob `json:"check"`
	// SystemProxy says what the "system proxy" setting (an empty upstream
	// proxy) resolves to: where it was read, and the proxy requests to the
	// upstream take. Absent when an explicit proxy or "direct" is set.
	SystemProxy *sysproxy.Route `json:"systemProxy,omitempty"`
}

// Status returns the current state.
func (a *App) Status() Status {
	a.mu.Lock()
	running, startErr, s, secretsProblem := a.running, a.startErr, a.settings, a.secretsProblem
	if a.accessKeyProblem != "" {
		secretsProblem = strings.TrimSpace(secretsProblem + " " + a.accessKeyProblem)
	}
	a.mu.Unlock()
	addr, port, base := a.address()
	return Status{
		Running:        running,
		Error:          startErr,
		SecretsProblem: secretsProblem,
		SecretStore:    a.SecretStore(),
		Addr:           addr,
		Port:           port,
		OpenAIBaseURL:  base + "/v1",
		GeminiBaseURL:  base,
		Keys:           a.pool.Counts(),
		Passthrough:    s.Passthrough,
		Paused:         s.Paused,
		Version:        a.opts.Version,
		Check:          a.CheckStatus(),
		SystemProxy:    a.systemProxy(s),
	}
}

// BaseURL is the proxy's Gemini Base URL ("http://127.0.0.1:8321"; the
// OpenAI one adds "/v1"), from the address it listens on or will.
func (a *App) BaseURL() string {
	_, _, base := a.address()
	return base
}

// address is the proxy's listen address, its port and its Base URL (an
// unspecified host reached as 127.0.0.1).
func (a *App) address() (addr string, port int, base string) {
	addr = a.server.Addr()
	if addr == "" {
		addr = a.server.Config().Addr
	}
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ = strconv.Atoi(portStr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return addr, port, "http://" + net.JoinHostPort(host, portStr)
}

// systemProxy describes the system proxy when the settings use it. A PAC
// script is given a second at most here (the answer is cached).
func (a *App) systemProxy(s Settings) *sysproxy.Route {
	if strings.TrimSpace(s.UpstreamProxy) != "" {
		return nil
	}
	upstream, err := url.Parse(a.server.Config().Upstream)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := a.sysProxy.Describe(ctx, upstream)
	return &r
}

// Subscribe returns a channel that receives the status whenever it may
// have changed (coalesced: a slow reader gets the latest, not a backlog),
// and a function to stop.
func (a *App) Subscribe() (<-chan Status, func()) { return a.hub.subscribe() }

// notify tells subscribers the status may have changed.
func (a *App) notify() { a.hub.publish(a.Status()) }
