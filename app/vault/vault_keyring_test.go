package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

func TestVaultRealKeyring(t *testing.T) {
	kc := keychaintest.Real(t)
	dir := t.TempDir()
	e := openVaultEnv(t, dir, kc)
	ctx := context.Background()
	keys := fakeKeys(testRand(t), 20)
	t.Cleanup(func() {
		for _, k := range keys {
			kc.Delete(context.Background(), apikey.ID(k))
		}
	})
	res, err := e.v.AddBulk(ctx, strings.Join(keys, ",\n"))
	if err != nil || res.Added != 20 {
		t.Fatalf("AddBulk(20) = %+v, %v", res, err)
	}
	if s, err := kc.Get(ctx, apikey.ID(keys[3])); err != nil || s != keys[3] {
		t.Fatalf("keyring item of key 3: %v, want the key", err)
	}
	list, err := e.v.List(ctx, KeyQuery{Limit: 10})
	if err != nil || list.Total != 20 || len(list.Keys) != 10 {
		t.Fatalf("List(limit 10) = total %d, %d keys, %v", list.Total, len(list.Keys), err)
	}
	// Remove one item behind the vault's back, then restart.
	if err := kc.Delete(ctx, apikey.ID(keys[0])); err != nil {
		t.Fatal(err)
	}
	e2 := openVaultEnv(t, dir, kc)
	rep, err := e2.v.Reconcile(ctx)
	if err != nil || rep.Pooled != 19 || rep.SecretMissing != 1 || rep.KeychainError != "" {
		t.Fatalf("Reconcile() = %+v, %v, want 19 pooled, 1 secret missing", rep, err)
	}
	if raw, err := e2.v.Reveal(ctx, apikey.ID(keys[5])); err != nil || raw != keys[5] {
		t.Fatalf("Reveal(key 5) = %v, want the key", err)
	}
	del, err := e2.v.Delete(ctx, []string{apikey.ID(keys[1]), apikey.ID(keys[2])})
	if err != nil || del.Deleted != 2 {
		t.Fatalf("Delete(2) = %+v, %v", del, err)
	}
	if _, err := kc.Get(ctx, apikey.ID(keys[1])); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("keyring item of a deleted key: %v, want ErrNotFound", err)
	}
	if c := e2.pool.Counts(); c.Total != 17 {
		t.Fatalf("pool = %+v, want 17 keys", c)
	}
}
