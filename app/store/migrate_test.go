package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMigrateVerdictNames (issue 12 item 2): a database written before the
// one vocabulary reads the same after the upgrade: check result
// "disabled" (by Google) becomes "denied", and a key that traffic stored
// "invalid" because it expired becomes "expired".
func TestMigrateVerdictNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	all := migrations
	migrations = all[:1]
	old, err := Open(path, nil)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.AddKeys(ctx, []NewKey{testKey(1), testKey(2), testKey(3), testKey(4)}); err != nil {
		t.Fatal(err)
	}
	set := func(id, status, prev, reason, result string) {
		if err := old.db.Exec(`UPDATE keys SET status = ?, prev_status = ?, reason = ?, last_result = ? WHERE id = ?`, status, prev, reason, result, id).Error; err != nil {
			t.Fatal(err)
		}
	}
	set(testKey(1).ID, "denied", "", "API key was reported as leaked", "disabled")
	set(testKey(2).ID, "invalid", "", "API key expired", "invalid")
	set(testKey(3).ID, "quarantined", "invalid", "API key expired", "expired")
	set(testKey(4).ID, "disabled", "", "", "ok") // disabled by hand stays
	old.Close()

	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys, err := s.GetKeys(ctx, []string{testKey(1).ID, testKey(2).ID, testKey(3).ID, testKey(4).ID})
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]string{{"denied", "", "denied"}, {"expired", "", "expired"}, {"quarantined", "expired", "expired"}, {"disabled", "", "ok"}}
	for i, k := range keys {
		got := [3]string{string(k.Status), string(k.PrevStatus), k.LastResult}
		if got != want[i] {
			t.Errorf("key %d after migration = status, prev, result %q, want %q", i+1, got, want[i])
		}
	}
}
