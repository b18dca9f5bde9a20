//go:build unix

package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
)

// The kill -9 test of a move between secret stores: a child process (this
// test binary, re-executed into TestMoveKillChild) moves the keys and
// SIGKILLs itself at one step of the protocol; the parent then opens the
// data dir as the next start does and checks that every key is there,
// readable from the store recorded as in use, and that the partial copy or
// the old store is cleaned away.

const (
	moveKillDir  = "GBD_MOVE_KILL_DIR"
	moveKillAt   = "GBD_MOVE_KILL_AT"
	moveKillTo   = "GBD_MOVE_KILL_TO" // "keychain", "file" or "file-yours"
	moveKillSvc  = "GBD_MOVE_KILL_SVC"
	moveKillPass = "kill test passphrase"
)

// TestMoveKillChild is the child process of TestMoveSecretStoreKill; it
// does nothing in a normal run.
func TestMoveKillChild(t *testing.T) {
	dir := os.Getenv(moveKillDir)
	if dir == "" {
		t.Skip("helper process of TestMoveSecretStoreKill")
	}
	a, err := New(context.Background(), Options{DataDir: dir, Passphrase: moveKillPass, KeychainService: os.Getenv(moveKillSvc), fileLogN: testFileLogN})
	if err != nil {
		t.Fatal(err)
	}
	at := os.Getenv(moveKillAt)
	die := func(p string) {
		if p == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	a.testHook = die
	a.vault.SetHook(die)
	req := MoveRequest{To: os.Getenv(moveKillTo)}
	if req.To == "file-yours" {
		req = MoveRequest{To: StoreFile, Passphrase: moveKillPass}
	}
	if _, err := a.MoveSecretStore(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	os.Exit(0) // the move finished: the point was never reached
}

func TestMoveSecretStoreKill(t *testing.T) {
	type scenario struct {
		from   Options // how the keys are stored first
		to     string
		needKC bool
	}
	scenarios := []scenario{
		{from: Options{SecretStore: StoreFile}, to: "file-yours"},
		{from: Options{SecretStore: StoreFile, Passphrase: moveKillPass}, to: "file"},
		{from: Options{SecretStore: StoreFile}, to: StoreKeychain, needKC: true},
	}
	points := []string{"move.intent", "move.copy", "move.commit", "move.switched"}
	for _, sc := range scenarios {
		for _, point := range points {
			t.Run(sc.to+"/"+point, func(t *testing.T) {
				if sc.needKC {
					keychaintest.Real(t)
				}
				dir := t.TempDir()
				svc := "gbd-move-kill-" + filepath.Base(dir)
				opts := sc.from
				opts.DataDir, opts.KeychainService = dir, svc
				a := openApp(t, opts)
				e := &apiEnv{t: t, rnd: newRand()}
				keys := e.newKeys(30)
				if _, err := a.Keys().AddBulk(context.Background(), strings.Join(keys, "\n")); err != nil {
					t.Fatal(err)
				}
				accessKey := a.AccessKey()
				a.Close()

				cmd := exec.Command(os.Args[0], "-test.run=^TestMoveKillChild$")
				cmd.Env = append(os.Environ(), moveKillDir+"="+dir, moveKillAt+"="+point, moveKillTo+"="+sc.to, moveKillSvc+"="+svc)
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("the child was not killed at %s: %v\n%s", point, err, out)
				}

				// The next start.
				a = openApp(t, Options{DataDir: dir, Passphrase: moveKillPass, KeychainService: svc, Addr: "127.0.0.1:0"})
				defer a.Close()
				if err := a.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := storeKeys(t, a); !slices.Equal(got, sortedCopy(keys)) {
					t.Fatalf("after a kill at %s: %d keys readable, want 30", point, len(got))
				}
				if a.AccessKey() != accessKey {
					t.Errorf("after a kill at %s the access key changed", point)
				}
				info := a.SecretStore()
				encs, _ := filepath.Glob(filepath.Join(dir, "*.enc"))
				passes, _ := filepath.Glob(filepath.Join(dir, "*.passphrase"))
				switch {
				case info.Kind == StoreKeychain && (len(encs) != 0 || len(passes) != 0):
					t.Errorf("in the keychain, but the data dir still holds %v %v", encs, passes)
				case info.Kind == StoreFile && (len(encs) != 1 || encs[0] != info.Path):
					t.Errorf("in %s, but the data dir holds %v", info.Path, encs)
				case info.Kind == StoreFile && info.Passphrase == PassGenerated && (len(passes) != 1 || passes[0] != info.PassphrasePath):
					t.Errorf("passphrase in %s, but the data dir holds %v", info.PassphrasePath, passes)
				case info.Kind == StoreFile && info.Passphrase == PassYours && len(passes) != 0:
					t.Errorf("your passphrase is in use, but the data dir still holds %v", passes)
				}
				if sc.needKC && info.Kind == StoreFile {
					kc := keychain.NewOS(svc, 0)
					for _, k := range keys {
						if _, err := kc.Get(context.Background(), apikeyIDOf(k)); !errors.Is(err, keychain.ErrNotFound) {
							t.Fatalf("the keychain keeps a copy of an undone move (Get = %v)", err)
						}
					}
				}
			})
		}
	}
}
