package app

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// testFileLogN is the scrypt cost of the file stores these tests make.
const testFileLogN = 10

func openApp(t *testing.T, opts Options) *App {
	t.Helper()
	if opts.fileLogN == 0 {
		opts.fileLogN = testFileLogN
	}
	a, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New(%+v) = %v", opts.SecretStore, err)
	}
	return a
}

// storeKeys returns the keys the app's store holds (Export), sorted.
func storeKeys(t *testing.T, a *App) []string {
	t.Helper()
	if _, err := a.Keys().Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	text, err := a.Keys().Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Fields(text)
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestFirstRunWithoutKeychain: no Secret Service, no flags: the first run
// picks the encrypted file store with a generated passphrase in its own
// 0600 file, says how safe that is, records the choice, and the next run
// (no flags either) finds the keys.
func TestFirstRunWithoutKeychain(t *testing.T) {
	dir := t.TempDir()
	a := openApp(t, Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN})
	info := a.SecretStore()
	if info.Kind != StoreFile || info.Passphrase != PassGenerated || !info.Auto {
		t.Fatalf("SecretStore() = %+v, want the file store with a generated passphrase, chosen automatically", info)
	}
	for _, want := range []string{"not against someone who can read your files", "your own passphrase"} {
		if !strings.Contains(info.Note, want) {
			t.Errorf("the note does not say %q: %s", want, info.Note)
		}
	}
	st, err := os.Stat(info.PassphrasePath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase file %s: %v, mode %v; want 0600", info.PassphrasePath, err, st.Mode().Perm())
	}
	b, _ := json.Marshal(a.Status())
	if !strings.Contains(string(b), `"secretStore":{"kind":"file"`) {
		t.Errorf("Status does not carry the secret store: %s", b)
	}
	e := &apiEnv{t: t, rnd: newRand()}
	keys := e.newKeys(5)
	if res, err := a.Keys().AddBulk(context.Background(), strings.Join(keys, "\n")); err != nil || res.Added != 5 {
		t.Fatalf("AddBulk = %+v, %v", res, err)
	}
	a.Close()

	a = openApp(t, Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN})
	defer a.Close()
	if got := a.SecretStore(); got.Kind != StoreFile || got.Path != info.Path {
		t.Fatalf("second run: SecretStore() = %+v, want the recorded file store", got)
	}
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("second run holds %d keys, want the 5 added", len(got))
	}
}

// TestFirstRunWithKeychain: with a working Secret Service the keychain
// stays the default.
func TestFirstRunWithKeychain(t *testing.T) {
	kc := keychaintest.Real(t)
	_ = kc
	dir := t.TempDir()
	svc := "gbd-first-run-" + filepath.Base(dir)
	a := openApp(t, Options{DataDir: dir, KeychainService: svc})
	defer a.Close()
	if info := a.SecretStore(); info.Kind != StoreKeychain {
		t.Fatalf("SecretStore() = %+v, want the keychain", info)
	}
	if _, err := os.Stat(filepath.Join(dir, defaultStoreFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file store was made although the keychain works (stat: %v)", err)
	}
}

// TestSecretStoreFlagMismatch: --secret-store naming the other store on a
// data dir with keys is refused with the move command, never a silent
// switch that would hide the keys.
func TestSecretStoreFlagMismatch(t *testing.T) {
	dir := t.TempDir()
	a := openApp(t, Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN})
	e := &apiEnv{t: t, rnd: newRand()}
	if _, err := a.Keys().AddBulk(context.Background(), e.newKeys(1)[0]); err != nil {
		t.Fatal(err)
	}
	a.Close()
	_, err := New(context.Background(), Options{DataDir: dir, SecretStore: StoreKeychain, keychainDown: true, fileLogN: testFileLogN})
	if err == nil || !strings.Contains(err.Error(), "secret-store move keychain") {
		t.Fatalf("New(--secret-store keychain) on a file-store data dir = %v, want a refusal naming the move", err)
	}
}

// TestMoveSecretStoreFile moves the keys from the generated passphrase to
// the user's own and back: every key survives, the old file and its
// passphrase are removed, and the user's passphrase is then required.
func TestMoveSecretStoreFile(t *testing.T) {
	dir := t.TempDir()
	a := openApp(t, Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN})
	e := &apiEnv{t: t, rnd: newRand()}
	keys := e.newKeys(40)
	if _, err := a.Keys().AddBulk(context.Background(), strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	old := a.SecretStore()
	accessKey := a.AccessKey()
	res, err := a.MoveSecretStore(context.Background(), MoveRequest{To: StoreFile, Passphrase: "my own passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Copied != 40 || res.Store.Passphrase != PassYours {
		t.Fatalf("MoveSecretStore = %+v, want 40 copied to the file store with your passphrase", res)
	}
	for _, p := range []string{old.Path, old.PassphrasePath} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after the move (stat: %v)", p, err)
		}
	}
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("after the move the running app holds %d keys, want 40", len(got))
	}
	a.Close()
	if _, err := New(context.Background(), Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN}); err == nil || !strings.Contains(err.Error(), "GBD_PASSPHRASE") {
		t.Fatalf("New without the passphrase = %v, want an error saying how to give it", err)
	}
	if _, err := New(context.Background(), Options{DataDir: dir, Passphrase: "wrong passphrase"}); !errors.Is(err, keychain.ErrWrongPassphrase) {
		t.Fatalf("New with a wrong passphrase = %v, want ErrWrongPassphrase", err)
	}
	a = openApp(t, Options{DataDir: dir, Passphrase: "my own passphrase"})
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("after a restart %d keys, want 40", len(got))
	}
	if got := a.AccessKey(); got != accessKey {
		t.Fatalf("the access key changed with the move (it lives in the secret store too)")
	}
	if _, err := a.MoveSecretStore(context.Background(), MoveRequest{To: StoreFile}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a = openApp(t, Options{DataDir: dir, keychainDown: true, fileLogN: testFileLogN})
	defer a.Close()
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("back on a generated passphrase: %d keys, want 40", len(got))
	}
	if _, err := a.MoveSecretStore(context.Background(), MoveRequest{To: StoreFile}); !errors.Is(err, ErrMoveRefused) {
		t.Fatalf("a move to the store in use = %v, want ErrMoveRefused", err)
	}
	encs, _ := filepath.Glob(filepath.Join(dir, "*.enc"))
	if len(encs) != 1 {
		t.Fatalf("the data dir holds %v, want one encrypted file", encs)
	}
}

// TestMoveSecretStoreKeychain moves the keys from the file store to the
// real keychain and back.
func TestMoveSecretStoreKeychain(t *testing.T) {
	keychaintest.Real(t)
	dir := t.TempDir()
	svc := "gbd-move-" + filepath.Base(dir)
	a := openApp(t, Options{DataDir: dir, SecretStore: StoreFile, KeychainService: svc, fileLogN: testFileLogN})
	defer a.Close()
	e := &apiEnv{t: t, rnd: newRand()}
	keys := e.newKeys(20)
	if _, err := a.Keys().AddBulk(context.Background(), strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.MoveSecretStore(context.Background(), MoveRequest{To: StoreKeychain}); err != nil {
		t.Fatal(err)
	}
	if info := a.SecretStore(); info.Kind != StoreKeychain {
		t.Fatalf("after the move SecretStore() = %+v", info)
	}
	if encs, _ := filepath.Glob(filepath.Join(dir, "*.enc")); len(encs) != 0 {
		t.Errorf("the file store is still there: %v", encs)
	}
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("in the keychain: %d keys, want 20", len(got))
	}
	if _, err := a.MoveSecretStore(context.Background(), MoveRequest{To: StoreFile}); err != nil {
		t.Fatal(err)
	}
	kc := keychain.NewOS(svc, 0)
	for _, k := range keys[:3] {
		if _, err := kc.Get(context.Background(), apikeyIDOf(k)); !errors.Is(err, keychain.ErrNotFound) {
			t.Errorf("the keychain still holds a moved key (Get = %v)", err)
		}
	}
	if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
		t.Fatalf("back in the file: %d keys, want 20", len(got))
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 23)) }

func apikeyIDOf(k string) string { return apikey.ID(k) }

// TestFirstRunKeychainHangs: a keychain that does not answer in time (a
// locked keyring waiting on its prompt) is kept in a desktop session,
// which can unlock it, and replaced by the file store on a server.
func TestFirstRunKeychainHangs(t *testing.T) {
	a := openApp(t, Options{DataDir: t.TempDir(), keychainHangs: true, Interactive: true})
	if info := a.SecretStore(); info.Kind != StoreKeychain || a.Status().SecretsProblem == "" {
		t.Errorf("desktop: SecretStore() = %+v, problem %q; want the keychain kept, with the reason shown", info, a.Status().SecretsProblem)
	}
	a.Close()
	a = openApp(t, Options{DataDir: t.TempDir(), keychainHangs: true})
	defer a.Close()
	if info := a.SecretStore(); info.Kind != StoreFile || !info.Auto {
		t.Errorf("server: SecretStore() = %+v, want the file store chosen automatically", info)
	}
}
