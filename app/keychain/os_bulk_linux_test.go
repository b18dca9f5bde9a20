package keychain

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

var _ BulkReader = (*OS)(nil)

func TestOSRealKeyringGetMany(t *testing.T) {
	realKeyring(t)
	svc := randomAccount(t) // a fresh service: only this test's items
	o := NewOS(svc, DefaultTimeout)
	ctx := context.Background()
	want := map[string]string{}
	for i := range 30 {
		acc, secret := fmt.Sprintf("acc-%02d", i), fmt.Sprintf("secret-%02d", i)
		if err := o.Set(ctx, acc, secret); err != nil {
			t.Fatal(err)
		}
		want[acc] = secret
	}
	defer func() {
		for acc := range want {
			o.Delete(ctx, acc)
		}
	}()
	// Another service's item with a shared account name must not leak in.
	other := NewOS(svc+"-other", DefaultTimeout)
	if err := other.Set(ctx, "acc-00", "other"); err != nil {
		t.Fatal(err)
	}
	defer other.Delete(ctx, "acc-00")

	got, err := o.GetMany(ctx, []string{"acc-00", "acc-17", "acc-29", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]string{"acc-00": "secret-00", "acc-17": "secret-17", "acc-29": "secret-29"}) {
		t.Fatalf("GetMany() = %v, want the 3 existing secrets", got)
	}
	if got, err := NewOS(svc+"-empty", DefaultTimeout).GetMany(ctx, []string{"acc-00"}); err != nil || len(got) != 0 {
		t.Fatalf("GetMany(empty service) = %v, %v, want nothing", got, err)
	}
	// With accounts derived from secrets ("secret-NN" → "acc-NN"), and a
	// hint that is wrong for one item: still right.
	o.DeriveAccounts(func(s string) string {
		if s == "secret-17" {
			return "acc-29" // wrong on purpose
		}
		return "acc-" + strings.TrimPrefix(s, "secret-")
	})
	got, err = o.GetMany(ctx, []string{"acc-00", "acc-17", "acc-05", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]string{"acc-00": "secret-00", "acc-05": "secret-05", "acc-17": "secret-17"}) {
		t.Fatalf("GetMany(derived accounts) = %v, want acc-00, acc-05, acc-17", got)
	}
}
