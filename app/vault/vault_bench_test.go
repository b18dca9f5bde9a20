package vault

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// Benchmarks of the key vault (figures for the closing note):
//
//	go test -run '^$' -bench Vault -benchtime 1x ./app/
//
// and on the real Secret Service:
//
//	dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	  GBD_REQUIRE_KEYRING=1 go test -run "^$" -bench Vault -benchtime 1x ./app/'

const benchKeys = 1000

func benchText(seed uint64) (string, []string) {
	keys := fakeKeys(rand.New(rand.NewPCG(seed, 1)), benchKeys)
	return strings.Join(keys, "\n"), keys
}

// benchKeychain returns the keychain a sub-benchmark runs against.
func benchKeychain(b *testing.B, kind string) (keychain.Store, func(keys []string)) {
	switch kind {
	case "file":
		f, err := keychain.NewFile(filepath.Join(b.TempDir(), "keys.enc"), "bench")
		if err != nil {
			b.Fatal(err)
		}
		return f, func([]string) {}
	default:
		kc := keychaintest.Real(b)
		return kc, func(keys []string) {
			ids := make([]string, len(keys))
			for i, k := range keys {
				ids[i] = apikey.ID(k)
			}
			v := &Vault{secrets: kc}
			v.deleteSecrets(context.Background(), ids)
		}
	}
}

// BenchmarkVaultAdd1000 adds 1,000 new keys in one paste.
func BenchmarkVaultAdd1000(b *testing.B) {
	for _, kind := range []string{"file", "keyring"} {
		b.Run(kind, func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				kc, cleanup := benchKeychain(b, kind)
				e := newVaultEnv(b, kc)
				text, keys := benchText(uint64(i) + uint64(time.Now().UnixNano()))
				b.StartTimer()
				res, err := e.v.AddBulk(context.Background(), text)
				b.StopTimer()
				if err != nil || res.Added != benchKeys {
					b.Fatalf("AddBulk = %d added, %v", res.Added, err)
				}
				cleanup(keys)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/1000keys")
		})
	}
}

// BenchmarkVaultStartup1000 is the start of the app with 1,000 stored
// keys: open the database, reconcile (read every secret), pool filled.
func BenchmarkVaultStartup1000(b *testing.B) {
	for _, kind := range []string{"file", "keyring"} {
		b.Run(kind, func(b *testing.B) {
			kc, cleanup := benchKeychain(b, kind)
			dir := b.TempDir()
			e := openVaultEnv(b, dir, kc)
			text, keys := benchText(uint64(time.Now().UnixNano()))
			b.Cleanup(func() { cleanup(keys) })
			if res, err := e.v.AddBulk(context.Background(), text); err != nil || res.Added != benchKeys {
				b.Fatalf("AddBulk = %d, %v", res.Added, err)
			}
			if kind == "file" { // a fresh process reads the file again
				kc, _ = keychain.NewFile(filepath.Join(filepath.Dir(kc.(*keychain.File).Path()), "keys.enc"), "bench")
			}
			b.ResetTimer()
			for range b.N {
				e := openVaultEnv(b, dir, kc)
				rep, err := e.v.Reconcile(context.Background())
				if err != nil || rep.Pooled != benchKeys || e.pool.Counts().Active != benchKeys {
					b.Fatalf("Reconcile = %+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start")
		})
	}
}

// BenchmarkVaultCheck1000 checks 1,000 keys against an upstream that
// answers in 100 ms, at the default concurrency (8) and higher.
func BenchmarkVaultCheck1000(b *testing.B) {
	for _, conc := range []int{8, 16, 32} {
		b.Run("c"+strconv.Itoa(conc), func(b *testing.B) {
			fake := proxytest.NewServer()
			defer fake.Close()
			fake.SetLatency(100 * time.Millisecond)
			e := newVaultEnv(b, keychain.NewMemory())
			e.check = CheckOptions{Client: fastClient(), Upstream: fake.URL(), Concurrency: conc}
			text, _ := benchText(uint64(time.Now().UnixNano()))
			if _, err := e.v.AddBulk(context.Background(), text); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				sum, err := e.v.Check(context.Background(), nil, nil)
				if err != nil || sum.Done != benchKeys || sum.ByResult[ResultOK] != benchKeys {
					b.Fatalf("Check = %+v, %v", sum, err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1000keys")
		})
	}
}
