package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// keyAlphabet is what follows "AIza" in a Gemini key.
const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"

// fakeKeys returns n distinct keys of the real shape (AIza + 35 chars).
func fakeKeys(r *rand.Rand, n int) []string {
	out := make([]string, 0, n)
	seen := map[string]bool{}
	for len(out) < n {
		b := []byte("AIza")
		for range 35 {
			b = append(b, keyAlphabet[r.IntN(len(keyAlphabet))])
		}
		k := string(b)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func testRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, 42))
}

// vaultEnv is a vault on a real SQLite file, a keychain and a real pool.
type vaultEnv struct {
	v     *Vault
	st    *store.Store
	kc    keychain.Store
	pool  *keypool.Pool
	dir   string
	check CheckOptions
}

func newVaultEnv(t testing.TB, kc keychain.Store) *vaultEnv {
	t.Helper()
	dir := t.TempDir()
	return openVaultEnv(t, dir, kc)
}

func openVaultEnv(t testing.TB, dir string, kc keychain.Store) *vaultEnv {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "gbd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &vaultEnv{st: st, kc: kc, pool: keypool.New(keypool.Options{}), dir: dir}
	e.v = NewVault(st, kc, e.pool, func() CheckOptions { return e.check }, slog.New(slog.DiscardHandler))
	return e
}

// secretOf reads id's secret straight from the keychain.
func (e *vaultEnv) secretOf(t testing.TB, id string) (string, error) {
	t.Helper()
	return e.kc.Get(context.Background(), id)
}

func TestVaultAddBulk(t *testing.T) {
	kc := keychain.NewMemory()
	e := newVaultEnv(t, kc)
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 5)
	text := fmt.Sprintf("GEMINI_API_KEY=%s\n%s, %s\n\"%s\"\nAIzaTooShort\n%s\n%s", keys[0], keys[1], keys[2], keys[3], keys[1], keys[4][:30])
	res, err := e.v.AddBulk(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 4 || res.Existing != 0 || res.Duplicates != 1 || len(res.Malformed) != 2 || res.Failed != 0 {
		t.Fatalf("AddBulk() = %+v, want added 4, duplicates 1, malformed 2", res)
	}
	for _, m := range res.Malformed {
		if strings.Contains(text, m.Text) && len(m.Text) > 8 {
			t.Errorf("malformed token %q is not masked", m.Text)
		}
	}
	if res.Malformed[0].Line != 4 {
		t.Errorf("first malformed on line %d, want 4", res.Malformed[0].Line)
	}
	want := []string{apikey.ID(keys[0]), apikey.ID(keys[1]), apikey.ID(keys[2]), apikey.ID(keys[3])}
	if !slices.Equal(res.IDs, want) {
		t.Fatalf("AddBulk().IDs = %v, want %v", res.IDs, want)
	}
	for i, id := range want {
		if s, err := e.secretOf(t, id); err != nil || s != keys[i] {
			t.Fatalf("keychain secret of key %d = %v, want the key", i, err)
		}
	}
	if c := e.pool.Counts(); c.Total != 4 || c.Active != 4 {
		t.Fatalf("pool counts = %+v, want 4 active", c)
	}

	// Again, plus one new: the old ones are existing.
	res, err = e.v.AddBulk(ctx, strings.Join(keys, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.Existing != 4 || res.IDs[0] != apikey.ID(keys[4]) {
		t.Fatalf("AddBulk(again) = %+v, want added 1 existing 4", res)
	}
	list, err := e.v.List(ctx, KeyQuery{})
	if err != nil || list.Total != 5 || list.Counts["active"] != 5 {
		t.Fatalf("List() = %+v, %v, want 5 active", list, err)
	}
	for _, k := range list.Keys {
		if !strings.HasPrefix(k.Preview, "AIza…") || len(k.Preview) > 12 {
			t.Errorf("List() preview %q is not masked", k.Preview)
		}
	}
	// Search by a long suffix (beyond the preview) and by the preview's.
	long := keys[2][len(keys[2])-9:]
	list, _ = e.v.List(ctx, KeyQuery{Search: long})
	if list.Total != 1 || list.Keys[0].ID != apikey.ID(keys[2]) {
		t.Fatalf("List(search %q) = %+v, want key 2", long, list.Keys)
	}
	list, _ = e.v.List(ctx, KeyQuery{Search: keys[3][len(keys[3])-3:]})
	if list.Total < 1 {
		t.Fatalf("List(search 3-char suffix) found nothing")
	}
	if got, _ := e.v.AddBulk(ctx, "nothing here"); got.Added != 0 || len(got.Malformed) != 0 {
		t.Fatalf("AddBulk(no keys) = %+v", got)
	}
}

func TestVaultAddBulkKeychainUnavailable(t *testing.T) {
	kc := keychain.NewMemory()
	e := newVaultEnv(t, kc)
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 3)
	kc.FailWith(fmt.Errorf("%w: simulated locked keyring", keychain.ErrUnavailable))
	res, err := e.v.AddBulk(ctx, strings.Join(keys, " "))
	if !errors.Is(err, keychain.ErrUnavailable) {
		t.Fatalf("AddBulk(locked keychain) error = %v, want ErrUnavailable", err)
	}
	if res.Added != 0 || res.Failed != 3 || !strings.Contains(res.Error, "keychain") {
		t.Fatalf("AddBulk(locked keychain) = %+v, want 3 failed with a keychain message", res)
	}
	if list, _ := e.v.List(ctx, KeyQuery{}); list.Total != 0 {
		t.Fatalf("List() after a failed add = %d keys, want 0 (pending rows hidden)", list.Total)
	}
	if c := e.pool.Counts(); c.Total != 0 {
		t.Fatalf("pool after a failed add = %+v, want empty", c)
	}
	// Reconcile with the keychain still locked changes nothing.
	rep, err := e.v.Reconcile(ctx)
	if err != nil || rep.KeychainError == "" || rep.Unknown != 3 {
		t.Fatalf("Reconcile(locked) = %+v, %v, want a keychain error and 3 unknown", rep, err)
	}
	// Unlocked: the pending rows (secrets never written) are dropped.
	kc.FailWith(nil)
	rep, err = e.v.Reconcile(ctx)
	if err != nil || rep.AddsDropped != 3 || rep.Keys != 3 {
		t.Fatalf("Reconcile(unlocked) = %+v, %v, want 3 adds dropped", rep, err)
	}
	all, _ := e.st.AllKeys(ctx)
	if len(all) != 0 {
		t.Fatalf("rows after reconcile = %d, want 0", len(all))
	}
	// And adding works now.
	if res, err := e.v.AddBulk(ctx, strings.Join(keys, " ")); err != nil || res.Added != 3 {
		t.Fatalf("AddBulk(unlocked) = %+v, %v, want 3 added", res, err)
	}
}

// closingKeychain closes the store after its writes, so that the commit
// after the keychain step fails.
type closingKeychain struct {
	*keychain.Memory
	mu      sync.Mutex
	closeDB func()
}

func (c *closingKeychain) Set(ctx context.Context, account, secret string) error {
	err := c.Memory.Set(ctx, account, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeDB != nil {
		c.closeDB()
		c.closeDB = nil
	}
	return err
}

func TestVaultAddUndoesKeychainWhenStoreFails(t *testing.T) {
	mem := keychain.NewMemory()
	kc := &closingKeychain{Memory: mem}
	dir := t.TempDir()
	e := openVaultEnv(t, dir, kc)
	kc.closeDB = func() { e.st.Close() }
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 4)
	if _, err := e.v.AddBulk(ctx, strings.Join(keys, "\n")); err == nil {
		t.Fatal("AddBulk with the database closed mid-way = nil error, want an error")
	}
	if n := mem.Len(); n != 0 {
		t.Fatalf("keychain holds %d secrets after a failed commit, want 0 (undone)", n)
	}
	// The next start drops the pending rows.
	e2 := openVaultEnv(t, dir, mem)
	rep, err := e2.v.Reconcile(ctx)
	if err != nil || rep.AddsDropped != 4 {
		t.Fatalf("Reconcile() = %+v, %v, want 4 adds dropped", rep, err)
	}
}

func TestVaultReconcile(t *testing.T) {
	mem := keychain.NewMemory()
	dir := t.TempDir()
	e := openVaultEnv(t, dir, mem)
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 6)
	if _, err := e.v.AddBulk(ctx, strings.Join(keys[:4], "\n")); err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return apikey.ID(keys[i]) }
	if err := e.v.SetEnabled(ctx, id(1), false); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash mid-way: key 4 pending add with its secret written,
	// key 5 pending add without, key 3 pending delete, key 0 lost its secret.
	for _, i := range []int{4, 5} {
		if _, err := e.st.AddKeys(ctx, []store.NewKey{{ID: id(i), Fingerprint: apikey.Fingerprint(keys[i]), Preview: apikey.Mask(keys[i]), Status: store.StatusAdding}}); err != nil {
			t.Fatal(err)
		}
	}
	mem.Set(ctx, id(4), keys[4])
	if _, err := e.st.Transition(ctx, []string{id(3)}, []store.Status{store.StatusActive}, store.StatusDeleting, ""); err != nil {
		t.Fatal(err)
	}
	mem.Delete(ctx, id(0))

	// The next start.
	e2 := openVaultEnv(t, dir, mem)
	rep, err := e2.v.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ReconcileReport{Keys: 6, Pooled: 3, Active: 2, SecretMissing: 1, AddsFinished: 1, AddsDropped: 1, Deleted: 1}
	if rep != want {
		t.Fatalf("Reconcile() = %+v, want %+v", rep, want)
	}
	list, _ := e2.v.List(ctx, KeyQuery{Sort: "created"})
	got := map[string]string{}
	for _, k := range list.Keys {
		got[k.ID] = k.Status
	}
	wantStatus := map[string]string{id(0): "secret_missing", id(1): "disabled", id(2): "active", id(4): "active"}
	if fmt.Sprint(got) != fmt.Sprint(wantStatus) {
		t.Fatalf("statuses after reconcile = %v, want %v", got, wantStatus)
	}
	if _, err := mem.Get(ctx, id(3)); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("secret of the deleted key 3: %v, want ErrNotFound", err)
	}
	if c := e2.pool.Counts(); c.Total != 3 || c.Active != 2 || c.Disabled != 1 {
		t.Fatalf("pool = %+v, want 3 keys, 2 active, 1 disabled", c)
	}
	// Giving the missing key again restores it.
	res, err := e2.v.AddBulk(ctx, keys[0])
	if err != nil || res.Added != 1 || res.Restored != 1 {
		t.Fatalf("AddBulk(missing key) = %+v, %v, want added 1 restored 1", res, err)
	}
	if k, _ := e2.v.Get(ctx, id(0)); k.Status != "active" {
		t.Fatalf("key 0 after re-adding = %s, want active", k.Status)
	}
	// A secret that comes back by itself (keyring restored) revives the row.
	mem.Delete(ctx, id(2))
	if rep, _ := e2.v.Reconcile(ctx); rep.SecretMissing != 1 {
		t.Fatalf("Reconcile() after losing key 2 = %+v, want 1 missing", rep)
	}
	mem.Set(ctx, id(2), keys[2])
	if rep, _ := e2.v.Reconcile(ctx); rep.Revived != 1 || rep.SecretMissing != 0 {
		t.Fatalf("Reconcile() after the secret came back = %+v, want 1 revived", rep)
	}
	// A keychain that stops answering keeps the running pool as it is.
	mem.FailWith(fmt.Errorf("%w: gone", keychain.ErrUnavailable))
	rep, err = e2.v.Reconcile(ctx)
	if err != nil || rep.KeychainError == "" || e2.pool.Counts().Total != 4 {
		t.Fatalf("Reconcile(unavailable) = %+v, %v, pool %+v; want a keychain error and the pool kept (4)", rep, err, e2.pool.Counts())
	}
	if k, _ := e2.v.Get(ctx, id(2)); k.Status != "active" {
		t.Fatalf("key 2 after an unavailable reconcile = %s, want active (nothing marked)", k.Status)
	}
}

func TestVaultDeleteAndReveal(t *testing.T) {
	mem := keychain.NewMemory()
	e := newVaultEnv(t, mem)
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 3)
	if _, err := e.v.AddBulk(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	id0, id1 := apikey.ID(keys[0]), apikey.ID(keys[1])
	raw, err := e.v.Reveal(ctx, id0)
	if err != nil || raw != keys[0] {
		t.Fatalf("Reveal(key0) = %v, want the key", err)
	}
	if _, err := e.v.Reveal(ctx, "k-none"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Reveal(unknown) = %v, want ErrKeyNotFound", err)
	}
	exp, err := e.v.Export(ctx)
	if err != nil || strings.Count(exp, "\n") != 3 || !strings.Contains(exp, keys[2]) {
		t.Fatalf("Export() = %d lines, %v, want the 3 keys", strings.Count(exp, "\n"), err)
	}
	// A keychain that fails the delete: the key leaves the pool at once and
	// stays pending.
	mem.FailWith(fmt.Errorf("%w: locked", keychain.ErrUnavailable))
	res, err := e.v.Delete(ctx, []string{id0, "k-none"})
	if err == nil || res.Pending != 1 || res.NotFound != 1 || res.Deleted != 0 {
		t.Fatalf("Delete(locked) = %+v, %v, want 1 pending, 1 not found, an error", res, err)
	}
	if _, ok := e.pool.Get(id0); ok {
		t.Fatal("a key being deleted is still in the pool")
	}
	mem.FailWith(nil)
	res, err = e.v.Delete(ctx, []string{id0, id1})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("Delete() = %+v, %v, want 2 deleted", res, err)
	}
	if mem.Len() != 1 || e.pool.Counts().Total != 1 {
		t.Fatalf("after delete: %d secrets, pool %+v; want 1 and 1", mem.Len(), e.pool.Counts())
	}
	if all, _ := e.st.AllKeys(ctx); len(all) != 1 {
		t.Fatalf("rows after delete = %d, want 1", len(all))
	}
}

func TestVaultEnableLabel(t *testing.T) {
	e := newVaultEnv(t, keychain.NewMemory())
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 2)
	e.v.AddBulk(ctx, strings.Join(keys, "\n"))
	id := apikey.ID(keys[0])
	if err := e.v.SetEnabled(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if c := e.pool.Counts(); c.Disabled != 1 || c.Active != 1 {
		t.Fatalf("pool after disabling = %+v, want 1 disabled", c)
	}
	if err := e.v.SetEnabled(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if c := e.pool.Counts(); c.Active != 2 {
		t.Fatalf("pool after enabling = %+v, want 2 active", c)
	}
	if err := e.v.SetEnabled(ctx, "k-none", true); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("SetEnabled(unknown) = %v, want ErrKeyNotFound", err)
	}
	if err := e.v.SetLabel(ctx, id, "  personal  "); err != nil {
		t.Fatal(err)
	}
	if k, _ := e.v.Get(ctx, id); k.Label != "personal" {
		t.Fatalf("label = %q, want personal", k.Label)
	}
	if err := e.v.SetLabel(ctx, id, strings.Repeat("x", 300)); err == nil {
		t.Fatal("SetLabel(300 bytes) = nil, want error")
	}
	e.v.Quarantine(ctx, []string{id})
	if err := e.v.SetEnabled(ctx, id, true); !errors.Is(err, ErrKeyState) {
		t.Fatalf("SetEnabled(quarantined) = %v, want ErrKeyState", err)
	}
}

// fastClient is an HTTP client for the fake upstream that keeps enough
// idle connections for the check concurrency.
func fastClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: tr}
}

func TestVaultKeyIDsStable(t *testing.T) {
	// The vault relies on apikey.ID being the keychain account and DB id.
	k := fakeKeys(testRand(t), 1)[0]
	if id := apikey.ID(k); !strings.HasPrefix(id, "k") || len(id) != 17 || id != apikey.ID(k) {
		t.Fatalf("apikey.ID(key) = %q, want k + 16 hex", id)
	}
	if got := fmt.Sprint(apikey.NewSecret(k)); strings.Contains(got, k) {
		t.Fatalf("a Secret prints %q, want masked", got)
	}
}

func TestVaultAddBulkProgressChunks(t *testing.T) {
	e := newVaultEnv(t, keychain.NewMemory()) // one item per call: chunked
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys := fakeKeys(testRand(t), 250)
	var calls []int
	res, err := e.v.AddBulkProgress(ctx, strings.Join(keys, "\n"), func(done, total int) {
		calls = append(calls, done)
		if total != 250 {
			t.Errorf("progress total = %d, want 250", total)
		}
		if done == 200 {
			cancel() // stop before the last chunk
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(calls) != "[100 200]" || res.Added != 200 || res.Failed != 50 || res.Error != "cancelled" {
		t.Fatalf("AddBulkProgress(250, cancelled at 200) = %+v, progress %v; want 200 added, 50 failed, progress [100 200]", res, calls)
	}
	if c := e.pool.Counts(); c.Total != 200 {
		t.Fatalf("pool = %+v, want the 200 committed keys", c)
	}
}

// TestVaultListsInPasteOrder: keys of one paste share their creation time;
// they list (and export) in the order they were pasted, both ways, not in
// the order of their ids.
func TestVaultListsInPasteOrder(t *testing.T) {
	e := newVaultEnv(t, keychain.NewMemory())
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 30)
	if _, err := e.v.AddBulk(ctx, strings.Join(keys, "\n")); err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(keys))
	for i, k := range keys {
		want[i] = apikey.ID(k)
	}
	for _, desc := range []bool{false, true} {
		list, err := e.v.List(ctx, KeyQuery{Limit: 100, Desc: desc})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(list.Keys))
		for i, k := range list.Keys {
			got[i] = k.ID
		}
		w := slices.Clone(want)
		if desc {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Errorf("List(desc %v) = %v, want the paste order %v", desc, got, w)
		}
	}
	text, err := e.v.Export(ctx)
	if err != nil || !slices.Equal(strings.Fields(text), keys) {
		t.Errorf("Export() = %d lines, %v; want the keys in paste order", len(strings.Fields(text)), err)
	}
}
