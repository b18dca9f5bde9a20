package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/private"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
)

// Where the API keys are kept, and how the choice is made and changed.
//
// The choice is recorded in the store (setting "secret_store") so that
// later runs and CLI commands need no flags:
//
//   - first run, no flag: the OS keychain when it answers a probe (write,
//     read back, delete); otherwise the encrypted file store with a random
//     passphrase kept in its own 0600 file beside it ("generated"). That
//     protects the keys against someone who copies the database or the
//     encrypted file alone, not against someone who can read the user's
//     files; every face says so, and how to use your own passphrase.
//   - --secret-store keychain|file on a data dir with keys in the other
//     store is refused (it would hide the keys): MoveSecrets moves them.
//   - a recorded keychain that stops answering while no key is stored is
//     replaced by the file store (nothing to lose); with keys it is
//     reported, never switched silently.
//
// A move (MoveSecretStore) is an intent protocol like the vault's:
//  1. record the target as "move" in the choice (the store in use stays);
//  2. copy every secret to the target and read it back;
//  3. record the target as the store in use and the old one as
//     "leftover" (one write of the setting: the switch);
//  4. empty the old store (delete its items; remove its file and its
//     generated passphrase), then clear "leftover".
//
// A crash before 3 leaves "move": the next start discards the partial
// copy (the store in use was never touched). A crash after 3 leaves
// "leftover": the next start empties it. No key exists only in a store
// that is about to be discarded.

// secretStoreSetting names the recorded choice in the store.
const secretStoreSetting = "secret_store"

// Secret store kinds.
const (
	StoreKeychain = "keychain"
	StoreFile     = "file"
)

// Passphrase sources of the file store.
const (
	// PassGenerated: a random passphrase in a 0600 file beside the store.
	PassGenerated = "generated"
	// PassYours: the user's passphrase (GBD_PASSPHRASE or
	// --passphrase-file), needed on every run.
	PassYours = "yours"
)

// storeChoice is the recorded secret store.
type storeChoice struct {
	Kind string `json:"kind"`
	// File is the encrypted file's name in the data dir (file store).
	File string `json:"file,omitempty"`
	// Passphrase is PassGenerated or PassYours (file store).
	Passphrase string `json:"passphrase,omitempty"`
	// Auto: the app chose it because the keychain did not answer.
	Auto bool `json:"auto,omitempty"`
	// Move is the target of a move in progress.
	Move *storeChoice `json:"move,omitempty"`
	// Leftover is the store moved away from, still to be emptied.
	Leftover *storeChoice `json:"leftover,omitempty"`
}

func (c storeChoice) same(o storeChoice) bool {
	return c.Kind == o.Kind && c.File == o.File && c.Passphrase == o.Passphrase
}

// SecretStoreInfo says where the API keys are kept, for every face.
type SecretStoreInfo struct {
	// Kind is "keychain" or "file".
	Kind string `json:"kind"`
	// Passphrase is "generated" or "yours" (file store).
	Passphrase string `json:"passphrase,omitempty"`
	// Path is the encrypted file (file store).
	Path string `json:"path,omitempty"`
	// PassphrasePath is the file holding the generated passphrase.
	PassphrasePath string `json:"passphrasePath,omitempty"`
	// Auto: chosen by the app because no keychain answered.
	Auto bool `json:"auto,omitempty"`
	// KeychainError says why the keychain did not answer (when known).
	KeychainError string `json:"keychainError,omitempty"`
	// Note says in plain words how safe this is and how to change it.
	Note string `json:"note"`
}

// SecretStore describes the secret store in use.
func (a *App) SecretStore() SecretStoreInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.storeInfo
}

// DataDir is the data directory in use.
func (a *App) DataDir() string { return a.opts.DataDir }

// describe builds the info for choice c.
func (a *App) describe(c storeChoice, keychainErr string) SecretStoreInfo {
	info := SecretStoreInfo{Kind: c.Kind, Passphrase: c.Passphrase, Auto: c.Auto, KeychainError: keychainErr}
	switch c.Kind {
	case StoreKeychain:
		info.Note = "API keys are kept in the OS keychain."
	case StoreFile:
		info.Path = filepath.Join(a.opts.DataDir, c.File)
		if c.Passphrase == PassGenerated {
			info.PassphrasePath = passphrasePath(a.opts.DataDir, c.File)
			why := ""
			if c.Auto {
				why = "No OS keychain was reachable, so "
			}
			info.Note = why + "API keys are kept in an encrypted file (" + info.Path + ") whose passphrase was generated at random and saved beside it (" +
				info.PassphrasePath + ", readable only by you). This protects the keys if the database or the encrypted file alone is copied, " +
				"but not against someone who can read your files (your user account, an administrator, a backup of the whole folder). " +
				"To use your own passphrase instead, move the keys to the file store with your passphrase (the secret-store move command or the API)."
		} else {
			info.Note = "API keys are kept in an encrypted file (" + info.Path + ") that only your passphrase opens; give it on every start (GBD_PASSPHRASE or --passphrase-file)."
		}
	}
	return info
}

// passphrasePath is the generated passphrase's file for the store file.
func passphrasePath(dir, file string) string {
	return filepath.Join(dir, strings.TrimSuffix(file, ".enc")+".passphrase")
}

// defaultStoreFile is the file store's name when nothing else is recorded.
const defaultStoreFile = "secrets.enc"

// openSecrets picks the secret store (see the comment at the top of this
// file), finishes an interrupted move and records the choice.
func (a *App) openSecrets(ctx context.Context) error {
	ch, err := store.GetSetting(ctx, a.store, secretStoreSetting, storeChoice{})
	if err != nil {
		return fmt.Errorf("read the secret store choice: %w", err)
	}
	if ch.Move != nil {
		// Interrupted before the switch: the store in use is complete;
		// discard the partial copy.
		a.log.Warn("an interrupted move of the keys to another secret store was undone; the keys stay where they were", "to", ch.Move.Kind)
		a.discardStore(ctx, *ch.Move)
		ch.Move = nil
	}
	want, ch, err := a.wantedStore(ctx, ch)
	if err != nil {
		return err
	}
	ch, keychainErr, err := a.chooseStore(ctx, want, ch)
	if err != nil {
		return err
	}
	if ch, err = a.openChosen(ctx, ch); err != nil {
		return err
	}
	if err := store.PutSetting(ctx, a.store, secretStoreSetting, ch); err != nil {
		return fmt.Errorf("record the secret store choice: %w", err)
	}
	a.storeInfo = a.describe(ch, keychainErr)
	if ch.Kind == StoreFile && ch.Passphrase == PassGenerated {
		a.log.Warn("secret store: " + a.storeInfo.Note)
	}
	a.leftover = ch.Leftover
	return nil
}

// wantedStore checks the --secret-store choice against the recorded one
// ch: a different store is only taken when this data dir has no key yet
// (ch is then reset). It returns the store kind to use, "" on a first run.
func (a *App) wantedStore(ctx context.Context, ch storeChoice) (string, storeChoice, error) {
	want := a.opts.SecretStore
	switch want {
	case "", StoreKeychain, StoreFile:
	default:
		return "", ch, fmt.Errorf("secret store %q: use keychain or file", want)
	}
	if want != "" && ch.Kind != "" && want != ch.Kind {
		total, err := a.keyCount(ctx)
		if err != nil {
			return "", ch, err
		}
		if total > 0 {
			return "", ch, fmt.Errorf("the %d API keys of this data dir are kept in the %s store, not the %s store: move them with the command \"secret-store move %s\", or run without --secret-store", total, ch.Kind, want, want)
		}
		ch = storeChoice{}
	}
	if want == "" {
		want = ch.Kind
	}
	return want, ch, nil
}

// chooseStore settles the store kind for want (probing the keychain on a
// first run or when it is the choice) and returns the choice with the
// keychain's error text when it was passed over.
func (a *App) chooseStore(ctx context.Context, want string, ch storeChoice) (storeChoice, string, error) {
	keychainErr := ""
	switch want {
	case "":
		// First run: the keychain if it answers, else the file store.
		err := a.probeKeychain(ctx)
		switch {
		case err == nil:
			ch = storeChoice{Kind: StoreKeychain}
		case a.opts.Interactive && hung(err):
			// A keyring waiting on its unlock prompt works once the user
			// answers: keep the keychain, and say so.
			ch = storeChoice{Kind: StoreKeychain}
			a.secrets = keychain.NewOS(a.opts.KeychainService, a.opts.KeychainTimeout)
			a.secretsProblem = "The OS keychain did not answer in time (" + err.Error() + "): if it asks to be unlocked, unlock it; keys are stored there once it answers."
			a.log.Warn("keychain did not answer on first run; keeping it (a desktop session can unlock it)", "err", err)
		default:
			keychainErr = err.Error()
			ch = storeChoice{Kind: StoreFile, File: defaultStoreFile, Auto: true}
		}
	case StoreKeychain:
		ch.Kind = StoreKeychain
		if err := a.probeKeychain(ctx); err != nil {
			keychainErr = err.Error()
			n, cerr := a.keyCount(ctx)
			if cerr != nil {
				return ch, "", cerr
			}
			if n == 0 && a.opts.SecretStore == "" {
				// No key to lose: do not leave the user at a dead end.
				ch = storeChoice{Kind: StoreFile, File: defaultStoreFile, Auto: true}
			} else {
				a.secretsProblem = "The OS keychain is not available (" + err.Error() + "). Stored keys cannot be read or added. Unlock the keyring, or move the keys to the encrypted file store once it answers."
				a.log.Error("keychain unavailable", "err", err)
			}
		}
	case StoreFile:
		ch.Kind = StoreFile
	}
	return ch, keychainErr, nil
}

// openChosen opens the store of ch into a.secrets, filling in the file
// store's name and passphrase kind.
func (a *App) openChosen(ctx context.Context, ch storeChoice) (storeChoice, error) {
	if ch.Kind == StoreFile {
		if ch.File == "" {
			ch.File = defaultStoreFile
		}
		f, pass, err := a.openFileStore(ctx, ch, a.opts.Passphrase)
		if err != nil {
			return ch, err
		}
		ch.Passphrase = pass
		a.secrets = f
	} else if a.secrets == nil {
		a.secrets = keychain.NewOS(a.opts.KeychainService, a.opts.KeychainTimeout)
	}
	return ch, nil
}

// finishLeftover empties the store a finished move left behind.
func (a *App) finishLeftover(ctx context.Context) {
	a.mu.Lock()
	left := a.leftover
	a.mu.Unlock()
	if left == nil {
		return
	}
	if err := a.emptyStore(ctx, *left); err != nil {
		a.log.Warn("the old secret store could not be emptied yet; trying again on the next start", "err", err)
		return
	}
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	ch, err := store.GetSetting(ctx, a.store, secretStoreSetting, storeChoice{})
	if err == nil && ch.Leftover != nil && ch.Leftover.same(*left) {
		ch.Leftover = nil
		err = store.PutSetting(ctx, a.store, secretStoreSetting, ch)
	}
	if err != nil {
		a.log.Warn("record the emptied secret store", "err", err)
		return
	}
	a.mu.Lock()
	a.leftover = nil
	a.mu.Unlock()
}

// probeKeychain tells whether the OS keychain works; it keeps the store.
func (a *App) probeKeychain(ctx context.Context) error {
	if a.opts.keychainDown {
		return fmt.Errorf("%w: no Secret Service (test)", keychain.ErrUnavailable)
	}
	if a.opts.keychainHangs {
		return fmt.Errorf("%w: keychain probe: %w (test)", keychain.ErrUnavailable, context.DeadlineExceeded)
	}
	k := keychain.NewOS(a.opts.KeychainService, a.opts.KeychainTimeout)
	pctx, cancel := context.WithTimeout(ctx, a.opts.KeychainTimeout)
	defer cancel()
	err := k.Probe(pctx)
	if err == nil {
		a.secrets = k
	}
	return err
}

// hung reports whether a keychain error means it did not answer in time
// (a locked keyring waiting on its prompt), not that there is none.
func hung(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "no answer within")
}

// keyCount is the number of keys in the store, whatever their status.
func (a *App) keyCount(ctx context.Context) (int, error) {
	n, err := a.store.CountByStatus(ctx)
	total := 0
	for _, c := range n {
		total += c
	}
	return total, err
}

// openFileStore opens the file store of c. With c.Passphrase generated
// (or unset and no passphrase given) the passphrase comes from its own
// file, made on first use; otherwise pass is the user's.
func (a *App) openFileStore(ctx context.Context, c storeChoice, pass string) (*keychain.File, string, error) {
	path := filepath.Join(a.opts.DataDir, c.File)
	mode := c.Passphrase
	if mode == "" {
		mode = PassYours
		if pass == "" {
			mode = PassGenerated
		}
	}
	if mode == PassGenerated {
		if pass != "" {
			a.log.Warn("the file secret store uses its generated passphrase; the passphrase given is ignored (move the keys to the file store with your passphrase to use it)")
		}
		p, err := generatedPassphrase(passphrasePath(a.opts.DataDir, c.File))
		if err != nil {
			return nil, "", err
		}
		pass = p
	} else if pass == "" {
		return nil, "", errors.New("the file secret store is encrypted with your passphrase: set GBD_PASSPHRASE or pass --passphrase-file FILE")
	}
	open := keychain.NewFile
	if a.opts.fileLogN > 0 {
		open = func(path, pass string) (*keychain.File, error) {
			return keychain.NewFileCost(path, pass, a.opts.fileLogN)
		}
	}
	f, err := open(path, pass)
	// scrypt's 32 MiB work area would otherwise stay resident until the
	// heap next doubles: give it back now.
	debug.FreeOSMemory()
	if err != nil {
		return nil, "", err
	}
	return f, mode, nil
}

// generatedPassphrase reads the passphrase file at path, or makes one with
// a random passphrase (0600; created atomically, so two processes starting
// at once agree on one passphrase).
func generatedPassphrase(path string) (string, error) {
	for range 3 {
		b, err := os.ReadFile(path)
		if err == nil {
			if p := strings.TrimSpace(string(b)); p != "" {
				return p, nil
			}
			return "", fmt.Errorf("the passphrase file %s is empty: restore it from a backup, or delete it together with the encrypted file (the keys in it are then lost)", path)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read the passphrase file: %w", err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".passphrase.*.tmp")
		if err != nil {
			return "", fmt.Errorf("create the passphrase file: %w", err)
		}
		p := randomToken(32)
		_, werr := tmp.WriteString(p + "\n")
		if werr == nil {
			werr = private.File(tmp.Name()) // 0600; the ACL on Windows
		}
		if werr == nil {
			werr = tmp.Sync()
		}
		tmp.Close()
		if werr != nil {
			os.Remove(tmp.Name())
			return "", fmt.Errorf("write the passphrase file: %w", werr)
		}
		// Link fails when another process made the file first: use theirs.
		lerr := os.Link(tmp.Name(), path)
		os.Remove(tmp.Name())
		if lerr == nil {
			private.SyncDir(filepath.Dir(path))
			return p, nil
		}
		if !errors.Is(lerr, fs.ErrExist) {
			return "", fmt.Errorf("create the passphrase file: %w", lerr)
		}
	}
	return "", errors.New("create the passphrase file: it keeps changing")
}

// openStore opens the secret store of c for a move or to empty it.
func (a *App) openStore(ctx context.Context, c storeChoice, pass string) (keychain.Store, error) {
	if c.Kind == StoreKeychain {
		k := keychain.NewOS(a.opts.KeychainService, a.opts.KeychainTimeout)
		pctx, cancel := context.WithTimeout(ctx, a.opts.KeychainTimeout)
		defer cancel()
		if err := k.Probe(pctx); err != nil {
			return nil, err
		}
		return k, nil
	}
	f, _, err := a.openFileStore(ctx, c, pass)
	return f, err
}

// discardStore removes a partial copy left by an interrupted move. For the
// keychain it deletes the items of the key rows (which the store in use
// also holds); for a file it removes the file and its generated
// passphrase.
func (a *App) discardStore(ctx context.Context, c storeChoice) {
	if err := a.emptyStore(ctx, c); err != nil {
		a.log.Warn("the partial copy of an interrupted move could not be removed", "err", err)
	}
}

// emptyStore deletes the secrets of a store no longer in use.
func (a *App) emptyStore(ctx context.Context, c storeChoice) error {
	switch c.Kind {
	case StoreKeychain:
		k := keychain.NewOS(a.opts.KeychainService, a.opts.KeychainTimeout)
		rows, err := a.store.AllKeys(ctx)
		if err != nil {
			return err
		}
		accounts := slices.Clone(appAccounts)
		for _, r := range rows {
			accounts = append(accounts, r.ID)
		}
		for _, id := range accounts {
			if err := k.Delete(ctx, id); err != nil && !errors.Is(err, keychain.ErrNotFound) {
				return err
			}
		}
		return nil
	case StoreFile:
		path := filepath.Join(a.opts.DataDir, c.File)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		os.Remove(path + ".lock")
		if c.Passphrase == PassGenerated {
			if err := os.Remove(passphrasePath(a.opts.DataDir, c.File)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// appAccounts are the app's own secrets (settings_secrets.go), which move
// with the keys.
var appAccounts = []string{accountAccessKey, accountProxyAuth}

// MoveRequest asks to move the keys to another secret store.
type MoveRequest struct {
	// To is "keychain" or "file".
	To string `json:"to"`
	// Passphrase is your own passphrase for the file store; empty means a
	// generated one (kept in a 0600 file beside the store).
	Passphrase string `json:"passphrase,omitempty"`
}

// MoveResult says what MoveSecretStore did.
type MoveResult struct {
	vault.MoveReport
	Store SecretStoreInfo `json:"store"`
}

// ErrMoveRefused is wrapped by MoveSecretStore for requests that make no
// sense (same store, unknown kind): the API answers 400.
var ErrMoveRefused = errors.New("move refused")

// MoveSecretStore moves every API key to another secret store (the file
// store with a new passphrase counts as another store) and records the
// choice. See the top of this file for the crash-safe order.
func (a *App) MoveSecretStore(ctx context.Context, req MoveRequest) (MoveResult, error) {
	a.moveMu.Lock()
	defer a.moveMu.Unlock()
	a.finishLeftover(ctx)
	res, err := a.moveSecretStore(ctx, req)
	if err != nil {
		return res, err
	}
	// 4. empty the old store.
	a.finishLeftover(ctx)
	res.Store = a.SecretStore()
	a.notify()
	return res, nil
}

// moveSecretStore runs steps 1–3 of a move holding the settings lock: the
// access key and proxy credentials, which live in the secret store too,
// do not change meanwhile.
func (a *App) moveSecretStore(ctx context.Context, req MoveRequest) (MoveResult, error) {
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	var res MoveResult
	cur, err := store.GetSetting(ctx, a.store, secretStoreSetting, storeChoice{})
	if err != nil {
		return res, err
	}
	var to storeChoice
	switch req.To {
	case StoreKeychain:
		if req.Passphrase != "" {
			return res, fmt.Errorf("%w: the keychain takes no passphrase", ErrMoveRefused)
		}
		if cur.Kind == StoreKeychain {
			return res, fmt.Errorf("%w: the keys are already in the keychain", ErrMoveRefused)
		}
		to = storeChoice{Kind: StoreKeychain}
	case StoreFile:
		to = storeChoice{Kind: StoreFile, File: "secrets-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".enc", Passphrase: PassGenerated}
		if req.Passphrase != "" {
			to.Passphrase = PassYours
			if len(req.Passphrase) < 8 {
				return res, fmt.Errorf("%w: a passphrase needs at least 8 characters", ErrMoveRefused)
			}
		}
		if cur.Kind == StoreFile && cur.Passphrase == PassGenerated && to.Passphrase == PassGenerated {
			return res, fmt.Errorf("%w: the keys are already in the file store with a generated passphrase", ErrMoveRefused)
		}
	default:
		return res, fmt.Errorf("%w: unknown secret store %q: use keychain or file", ErrMoveRefused, req.To)
	}
	// 1. intent
	intent := cur
	intent.Move = &to
	if err := store.PutSetting(ctx, a.store, secretStoreSetting, intent); err != nil {
		return res, err
	}
	a.hook("move.intent")
	old := cur // what the switched store leaves behind, to be cleared
	old.Move, old.Leftover = nil, nil
	dst, err := a.openStore(ctx, to, req.Passphrase)
	if err == nil {
		// 2. copy, 3. switch (inside the vault's lock: no add or delete
		// in between).
		next := to
		next.Leftover = &old
		res.MoveReport, err = a.vault.MoveSecrets(ctx, dst, appAccounts, func(ctx context.Context) error {
			return store.PutSetting(ctx, a.store, secretStoreSetting, next)
		})
	}
	if err != nil {
		// Nothing switched: undo the intent and the partial copy.
		a.discardStore(context.WithoutCancel(ctx), to)
		if perr := store.PutSetting(context.WithoutCancel(ctx), a.store, secretStoreSetting, cur); perr != nil {
			a.log.Warn("could not clear the move intent; the next start does", "err", perr)
		}
		return res, fmt.Errorf("move the keys to the %s store: %w", to.Kind, err)
	}
	a.mu.Lock()
	a.secrets = dst
	a.leftover = &old
	a.storeInfo = a.describe(to, "")
	a.secretsProblem = ""
	a.mu.Unlock()
	a.log.Info("secret store changed", "to", to.Kind, "passphrase", to.Passphrase)
	a.hook("move.switched")
	return res, nil
}

// hook is the app's crash-test hook (see Vault.hook).
func (a *App) hook(point string) {
	if a.testHook != nil {
		a.testHook(point)
	}
}
