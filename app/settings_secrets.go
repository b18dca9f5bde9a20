package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
)

// Nothing in SQLite grants access (DESIGN §5): the access key and the
// upstream proxy's credentials live in the secret store (the OS keychain
// or the encrypted file store, beside the API keys), the admin password
// only as a slow hash. The settings row keeps the rest; its accessKey and
// adminPassword are always empty and its upstreamProxy has no user info.

// Accounts of the app's own secrets in the secret store. API keys are
// stored under their ids, which start with "k": these never collide.
const (
	accountAccessKey = "app:access-key"
	accountProxyAuth = "app:upstream-proxy-auth"
)

// Names of the settings rows.
const (
	settingsRow  = "settings"
	adminHashRow = "adminPasswordHash"
)

// splitProxyAuth takes the user info out of an upstream proxy URL: the
// URL without it and "user:password" (or "user"), "" when there is none.
func splitProxyAuth(proxyURL string) (string, string) {
	u, err := url.Parse(strings.TrimSpace(proxyURL))
	if err != nil || u.User == nil || u.Host == "" {
		return proxyURL, ""
	}
	auth := u.User.String() // percent-encoded as in the URL
	u.User = nil
	return u.String(), auth
}

// joinProxyAuth puts user info (as splitProxyAuth returned it) back into
// an upstream proxy URL.
func joinProxyAuth(proxyURL, auth string) string {
	if auth == "" {
		return proxyURL
	}
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" || u.User != nil {
		return proxyURL
	}
	if a, err := url.Parse("//" + auth + "@x"); err == nil && a.User != nil {
		u.User = a.User
	}
	return u.String()
}

// storedForm is what of s goes into SQLite: no access key, no admin
// password, no proxy credentials.
func storedForm(s Settings) Settings {
	s.AccessKey, s.AdminPassword = "", ""
	s.UpstreamProxy, _ = splitProxyAuth(s.UpstreamProxy)
	return s
}

// loadSettings reads the settings and the app's secrets, making random
// ones on first run. Settings written by an older version, with the
// access key, the admin password and the proxy credentials in plaintext,
// are migrated: the secrets move to the secret store, the password is
// hashed, and the plaintext is removed from the database file (VACUUM).
// When the secret store cannot be reached, a plaintext access key stays
// where it is until a later start can move it.
func (a *App) loadSettings(ctx context.Context) error {
	def := DefaultSettings()
	raw, _, err := a.store.Setting(ctx, settingsRow)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	s := def
	if raw != nil {
		if err := json.Unmarshal(raw, &s); err != nil {
			a.log.Warn("saved settings are unreadable; using defaults", "err", err)
			s = def
		}
	}
	hash, err := store.GetSetting(ctx, a.store, adminHashRow, "")
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	plaintext := false // the row held a secret in plaintext

	// The admin password: only its hash is kept. On a first run there is
	// none (no web login, no Bearer token) until the admin-password
	// command or the window (which needs none) sets one and shows it.
	if s.AdminPassword != "" {
		plaintext = true
		if hash == "" {
			if hash, err = hashPassword(s.AdminPassword, a.opts.hashLogN); err != nil {
				return err
			}
		}
	}
	s.AdminPassword = ""

	// The access key and the upstream proxy's credentials.
	legacyKey := s.AccessKey
	keyPlain, keepKey := a.loadAccessKey(ctx, &s, def.AccessKey)
	authPlain, keepAuth := a.loadProxyAuth(ctx, &s)
	plaintext = plaintext || keyPlain || authPlain
	keepPlain := keepKey || keepAuth

	s = a.normalizeLoaded(s, def)
	row := storedForm(s)
	if keepPlain {
		row.AccessKey = legacyKey
		row.UpstreamProxy = s.UpstreamProxy
	}
	rows := map[string]any{settingsRow: row}
	if hash != "" {
		rows[adminHashRow] = hash
	}
	if err := a.store.PutSettings(ctx, rows); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if plaintext && !keepPlain {
		if err := a.store.Scrub(ctx); err != nil {
			a.log.Warn("the old plaintext settings may linger in free pages of the database file", "err", err)
		} else {
			a.log.Info("the access key, admin password and proxy credentials moved out of the database")
		}
	}
	a.admin.set(hash)
	a.settings = s
	return nil
}

// loadAccessKey fills s.AccessKey from the secret store, or moves a
// plaintext one found in the settings row (s) there; on a first run it
// stores newKey. plain tells whether the row held the key; keepPlain that
// it must stay there because the secret store could not take it.
func (a *App) loadAccessKey(ctx context.Context, s *Settings, newKey string) (plain, keepPlain bool) {
	if s.AccessKey != "" {
		if err := a.secrets.Set(ctx, accountAccessKey, s.AccessKey); err != nil {
			a.log.Warn("the access key stays in the database until the secret store can be reached", "err", err)
			return true, true
		}
		return true, false
	}
	switch k, err := a.secrets.Get(ctx, accountAccessKey); {
	case err == nil:
		s.AccessKey = k
	case errors.Is(err, keychain.ErrNotFound):
		s.AccessKey = newKey
		if err := a.secrets.Set(ctx, accountAccessKey, s.AccessKey); err != nil {
			a.log.Error("the new access key could not be saved in the secret store; it lasts until the app quits", "err", err)
		}
	default:
		a.log.Error("the access key could not be read from the secret store: clients are refused until it can", "err", err)
		a.accessKeyProblem = "The access key could not be read from the secret store (" + err.Error() + "): every client is refused."
	}
	return false, false
}

// loadProxyAuth does for the upstream proxy's credentials what
// loadAccessKey does for the access key (without making any).
func (a *App) loadProxyAuth(ctx context.Context, s *Settings) (plain, keepPlain bool) {
	if _, auth := splitProxyAuth(s.UpstreamProxy); auth != "" {
		if err := a.secrets.Set(ctx, accountProxyAuth, auth); err != nil {
			a.log.Warn("the upstream proxy's credentials stay in the database until the secret store can be reached", "err", err)
			return true, true
		}
		return true, false
	}
	if s.UpstreamProxy == "" {
		return false, false
	}
	if auth, err := a.secrets.Get(ctx, accountProxyAuth); err == nil {
		s.UpstreamProxy = joinProxyAuth(s.UpstreamProxy, auth)
	} else if !errors.Is(err, keychain.ErrNotFound) {
		a.log.Warn("the upstream proxy's credentials could not be read from the secret store", "err", err)
	}
	return false, false
}

// normalizeLoaded returns s normalised, or, when s is invalid but has an
// access key, the defaults def with s's access key and upstream proxy.
func (a *App) normalizeLoaded(s, def Settings) Settings {
	ns, err := s.Normalize()
	if err == nil {
		return ns
	}
	if s.AccessKey == "" {
		return s
	}
	a.log.Warn("saved settings are invalid; using defaults for the rest", "err", err)
	def.AccessKey, def.AdminPassword, def.UpstreamProxy = s.AccessKey, "", s.UpstreamProxy
	if _, err := def.Normalize(); err != nil {
		def.UpstreamProxy = DefaultSettings().UpstreamProxy
	}
	return def
}

// saveSecrets writes what changed between old and s of the access key and
// the proxy credentials to the secret store, and returns the admin
// password hash to store ("" when the password is unchanged).
func (a *App) saveSecrets(ctx context.Context, old, s Settings) (string, error) {
	if s.AccessKey != old.AccessKey {
		if err := a.secrets.Set(ctx, accountAccessKey, s.AccessKey); err != nil {
			return "", fmt.Errorf("save the access key in the secret store: %w", err)
		}
	}
	_, oldAuth := splitProxyAuth(old.UpstreamProxy)
	if _, auth := splitProxyAuth(s.UpstreamProxy); auth != oldAuth {
		var err error
		if auth == "" {
			if err = a.secrets.Delete(ctx, accountProxyAuth); errors.Is(err, keychain.ErrNotFound) {
				err = nil
			}
		} else {
			err = a.secrets.Set(ctx, accountProxyAuth, auth)
		}
		if err != nil {
			return "", fmt.Errorf("save the upstream proxy's credentials in the secret store: %w", err)
		}
	}
	if s.AdminPassword == "" {
		return "", nil
	}
	return hashPassword(s.AdminPassword, a.opts.hashLogN)
}

// ResetAdminPassword sets a new random admin password and returns it (the
// only time it can be read: the app keeps just its hash). Every web
// session is logged out. The CLI's admin-password command calls it.
func (a *App) ResetAdminPassword(ctx context.Context) (string, error) {
	pw := DefaultSettings().AdminPassword
	if _, err := a.modifySettings(ctx, func(s *Settings) { s.AdminPassword = pw }); err != nil {
		return "", err
	}
	a.sessions.dropAll()
	return pw, nil
}
