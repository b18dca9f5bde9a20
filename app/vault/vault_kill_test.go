//go:build unix

package vault

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/keychain/keychaintest"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The kill -9 test: a child process (this test binary, re-executed into
// TestVaultKillChild) adds, deletes, checks and prunes keys in a loop
// against a real SQLite file and a real keychain, printing each id as the
// vault reports it done. The parent SIGKILLs it at random moments, starts
// it again (each start reconciles, like the app), and at the end reopens
// everything, reconciles and verifies that nothing reported done was lost
// and nothing half-done remains.

const (
	killEnvDir      = "GBD_VAULT_KILL_DIR"
	killEnvKeychain = "GBD_VAULT_KILL_KEYCHAIN" // "file" or "os:<service>"
	killEnvSeed     = "GBD_VAULT_KILL_SEED"
	killEnvAt       = "GBD_VAULT_KILL_AT" // "point:n": die at the n-th pass through point
	killPassphrase  = "kill-test-passphrase"
)

// killKeychain opens the keychain the kill test runs against.
func killKeychain(spec, dir string) (keychain.Store, error) {
	if svc, ok := strings.CutPrefix(spec, "os:"); ok {
		return keychain.NewOS(svc, 10*time.Second), nil
	}
	return keychain.NewFile(filepath.Join(dir, "keys.enc"), killPassphrase)
}

// TestVaultKillChild is the child process of the kill tests; it does
// nothing in a normal run.
func TestVaultKillChild(t *testing.T) {
	dir := os.Getenv(killEnvDir)
	if dir == "" {
		t.Skip("helper process of TestVaultKill*")
	}
	seed, _ := strconv.ParseUint(os.Getenv(killEnvSeed), 10, 64)
	r := mrand.New(mrand.NewPCG(seed, 7))
	out := func(format string, args ...any) {
		// One write per report: a kill never splits a line.
		os.Stdout.WriteString(fmt.Sprintf(format, args...))
	}
	// outIDs reports "verb id" for every id in one write.
	outIDs := func(verb string, ids []string) {
		var b strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&b, "%s %s\n", verb, id)
		}
		out("%s", b.String())
	}
	kc, err := killKeychain(os.Getenv(killEnvKeychain), dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "gbd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fake := proxytest.NewServer()
	defer fake.Close()
	v := NewVault(st, kc, keypool.New(keypool.Options{}), func() CheckOptions {
		return CheckOptions{Client: fastClient(), Upstream: fake.URL(), Concurrency: 8}
	}, slog.New(slog.DiscardHandler))
	if at := os.Getenv(killEnvAt); at != "" {
		point, nStr, _ := strings.Cut(at, ":")
		n, _ := strconv.Atoi(nStr)
		seen := 0
		v.testHook = func(p string) {
			if p == point {
				if seen++; seen >= n {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // the signal is on its way
				}
			}
		}
	}
	ctx := context.Background()
	rep, err := v.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out("RECONCILED %d %d %d %d\nREADY\n", rep.AddsFinished, rep.AddsDropped, rep.Deleted, rep.SecretMissing)

	var mine []string // ids added by this process and not deleted
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		batch := fakeKeys(r, 10+r.IntN(30))
		for _, k := range batch {
			if r.IntN(4) == 0 {
				fake.Script(k, proxytest.Always(proxytest.InvalidKey()))
			}
		}
		res, err := v.AddBulk(ctx, strings.Join(batch, "\n"))
		if err != nil {
			t.Fatal(err)
		}
		outIDs("ADDED", res.IDs)
		mine = append(mine, res.IDs...)

		if r.IntN(2) == 0 && len(mine) > 0 {
			n := 1 + r.IntN(min(10, len(mine)))
			r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			del := mine[:n]
			outIDs("DELETING", del)
			res, err := v.Delete(ctx, del)
			if err != nil {
				t.Fatal(err)
			}
			outIDs("DELETED", res.IDs)
			mine = without(mine, res.IDs)
		}
		if r.IntN(3) == 0 && len(mine) > 0 {
			n := min(20, len(mine))
			_, err := v.Check(ctx, mine[len(mine)-n:], func(_, _ int, id string, o CheckOutcome) {
				if o.Result != ResultSkipped { // skipped outcomes store nothing
					out("CHECKED %s %s\n", id, o.Result)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if r.IntN(10) == 0 {
			pr, err := v.Prune(ctx)
			if err != nil {
				t.Fatal(err)
			}
			outIDs("PRUNED", pr.IDs)
		}
	}
}

// killPlan is the sequence of kills (see runKillRounds): every protocol
// step, a start-up repair right after the step that leaves work for it,
// and random moments in between.
var killPlan = []string{
	"add.intent", "reconcile.finish", "", "add.keychain", "early", "add.commit", "",
	"delete.intent", "reconcile.deletes", "", "delete.keychain", "reconcile.deletes", "early",
	"delete.rows", "", "check.commit", "", "early", "", "add.intent", "",
}

// without returns xs without the ids in drop.
func without(xs, drop []string) []string {
	d := setOf(drop)
	out := xs[:0]
	for _, x := range xs {
		if !d[x] {
			out = append(out, x)
		}
	}
	return out
}

// killLog is what the children reported done, over all rounds.
type killLog struct {
	added, deleted, pruned map[string]bool
	asked                  map[string]bool // deletions asked (maybe not reported)
	checked                map[string]string
	repairs                [4]int // adds finished, adds dropped, deletes finished, secrets missing
	lines                  int
}

// runKillRounds runs the child once per entry of plan: a protocol step to
// die at (self-inflicted SIGKILL at its 1st–3rd pass; reconcile steps at
// their only pass), "" to be SIGKILLed by the parent at a random moment
// after start-up, "early" at a random moment from the start (maybe during
// the start-up reconcile).
func runKillRounds(t *testing.T, dir, keychainSpec string, plan []string, r *mrand.Rand) *killLog {
	t.Helper()
	log := &killLog{added: map[string]bool{}, deleted: map[string]bool{}, pruned: map[string]bool{}, asked: map[string]bool{}, checked: map[string]string{}}
	for round, step := range plan {
		at := ""
		switch {
		case strings.HasPrefix(step, "reconcile."):
			at = step + ":1"
		case step != "" && step != "early":
			at = fmt.Sprintf("%s:%d", step, 1+r.IntN(3))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestVaultKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killEnvDir+"="+dir, killEnvKeychain+"="+keychainSpec,
			killEnvSeed+"="+strconv.FormatUint(r.Uint64(), 10), killEnvAt+"="+at)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- readKillOutput(stdout, log, ready) }()
		// Most rounds die while working; every fourth one may die during
		// its start-up reconcile.
		var delay time.Duration
		switch {
		case at != "":
			// Wait for the self-kill; a step never reached (e.g. no delete
			// pending at start) ends with a kill at a random moment.
			delay = 3 * time.Second
		case step == "early":
			delay = time.Duration(r.IntN(300)) * time.Millisecond
		default:
			select {
			case <-ready:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("round %d: child not ready: %s", round, stderr.String())
			}
			delay = time.Duration(20+r.IntN(600)) * time.Millisecond
		}
		var readErr error
		how := fmt.Sprintf("at %s", at)
		select {
		case readErr = <-done: // died by itself (at a kill point) or crashed
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			readErr = <-done
			how = fmt.Sprintf("after %v", delay)
			if at != "" {
				how += " (" + at + " not reached)"
			}
		}
		if readErr != nil {
			t.Fatal(readErr)
		}
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended by itself (%v), not by SIGKILL: %s", round, werr, stderr.String())
		}
		t.Logf("round %d: killed %s; %d reports so far", round, how, log.lines)
	}
	return log
}

// readKillOutput parses a child's reports; an unterminated last line
// (impossible with one small write per report) is ignored.
func readKillOutput(rd io.Reader, log *killLog, ready chan struct{}) error {
	br := bufio.NewReader(rd)
	readyClosed := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if !readyClosed {
				close(ready)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "READY":
			if !readyClosed {
				close(ready)
				readyClosed = true
			}
		case "RECONCILED":
			for i := range 4 {
				n, _ := strconv.Atoi(f[i+1])
				log.repairs[i] += n
			}
		case "ADDED":
			log.added[f[1]] = true
			log.lines++
		case "DELETING":
			log.asked[f[1]] = true
		case "DELETED":
			log.deleted[f[1]] = true
			log.lines++
		case "CHECKED":
			log.checked[f[1]] = f[2]
			log.lines++
		case "PRUNED":
			log.pruned[f[1]] = true
			log.lines++
		}
	}
}

// verifyAfterKills reopens the store and keychain, reconciles and checks
// every guarantee. listed, when non-nil, lists the keychain's accounts.
func verifyAfterKills(t *testing.T, dir string, kc keychain.Store, log *killLog, listed func() ([]string, error)) {
	t.Helper()
	ctx := context.Background()
	e := openVaultEnv(t, dir, kc)
	rep, err := e.v.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.KeychainError != "" || rep.Unknown != 0 {
		t.Fatalf("final Reconcile() = %+v, want a working keychain", rep)
	}
	t.Logf("reports: %d added, %d deleted, %d checked, %d pruned; repairs on restart: adds finished %d, adds dropped %d, deletes finished %d (final reconcile: %+v)",
		len(log.added), len(log.deleted), len(log.checked), len(log.pruned), log.repairs[0], log.repairs[1], log.repairs[2], rep)
	if len(log.added) == 0 {
		t.Fatal("no key was ever reported added: the children did no work")
	}
	rows, err := e.st.AllKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.Key{}
	for _, k := range rows {
		byID[k.ID] = k
	}
	secrets, missing, err := e.v.getSecrets(ctx, idsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	// Every row has its secret (nothing here removes secrets behind the
	// vault's back), and no row is left half-done.
	for _, k := range rows {
		if k.Status.Transient() {
			t.Errorf("row %s left in status %s after reconcile", k.ID, k.Status)
		}
		if k.Status == store.StatusSecretMissing {
			t.Errorf("row %s marked secret_missing: a secret was lost", k.ID)
		}
		if s, ok := secrets[k.ID]; !ok || apikey.ID(s) != k.ID {
			t.Errorf("row %s has no matching secret (found %v)", k.ID, ok)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d rows without a secret", len(missing))
	}
	// Everything reported added and not deleted since is there.
	for id := range log.added {
		if log.deleted[id] {
			continue
		}
		k, ok := byID[id]
		if !ok {
			if !log.asked[id] { // a deletion asked may finish unreported
				t.Errorf("key %s was reported added but is gone", id)
			}
			continue
		}
		if log.pruned[id] && k.Status != store.StatusQuarantined {
			t.Errorf("key %s was reported pruned but is %s", id, k.Status)
		}
		if want, ok := log.checked[id]; ok && k.LastResult != want {
			t.Errorf("key %s was reported checked %s but stores %q", id, want, k.LastResult)
		}
	}
	// Everything reported deleted is gone, secret included.
	for id := range log.deleted {
		if _, ok := byID[id]; ok {
			t.Errorf("key %s was reported deleted but its row is there", id)
		}
		if _, err := kc.Get(ctx, id); !errors.Is(err, keychain.ErrNotFound) {
			t.Errorf("key %s was reported deleted but its secret is there (%v)", id, err)
		}
	}
	// No orphan secret: every secret belongs to a row.
	if listed != nil {
		accounts, err := listed()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accounts {
			if _, ok := byID[a]; !ok {
				t.Errorf("orphan secret %s: no row points to it", a)
			}
		}
		if len(accounts) != len(rows) {
			t.Errorf("keychain holds %d secrets for %d rows", len(accounts), len(rows))
		}
	}
	// The pool holds exactly the pooled rows.
	pooled := 0
	for _, k := range rows {
		if inPool(k.Status) {
			pooled++
		}
	}
	if c := e.pool.Counts(); c.Total != pooled {
		t.Errorf("pool holds %d keys, want %d", c.Total, pooled)
	}
}

func TestVaultKill9FileKeychain(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	dir := t.TempDir()
	log := runKillRounds(t, dir, "file", killPlan, testRand(t))
	f, err := keychain.NewFile(filepath.Join(dir, "keys.enc"), killPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	verifyAfterKills(t, dir, f, log, func() ([]string, error) { return f.Accounts(context.Background()) })
}

func TestVaultKill9OSKeychain(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	keychaintest.Real(t)
	var b [6]byte
	rand.Read(b[:])
	svc := "gbd-kill-test-" + hex.EncodeToString(b[:])
	dir := t.TempDir()
	kc := keychain.NewOS(svc, 10*time.Second)
	t.Cleanup(func() { cleanupService(t, kc, svc) })
	log := runKillRounds(t, dir, "os:"+svc, killPlan, testRand(t))
	verifyAfterKills(t, dir, kc, log, func() ([]string, error) { return secretToolAccounts(svc) })
}

// secretToolAccounts lists the accounts stored under service with
// secret-tool (go-keyring cannot list).
func secretToolAccounts(service string) ([]string, error) {
	if _, err := exec.LookPath("secret-tool"); err != nil {
		return nil, nil
	}
	out, err := exec.Command("secret-tool", "search", "--all", "--unlock", "service", service).CombinedOutput()
	if err != nil && len(out) == 0 {
		return nil, nil // nothing found exits 1
	}
	var accounts []string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "attribute.username = "); ok {
			accounts = append(accounts, v)
		}
	}
	return accounts, nil
}

// cleanupService deletes every secret a keyring test left under service.
func cleanupService(t *testing.T, kc *keychain.OS, service string) {
	accounts, _ := secretToolAccounts(service)
	for _, a := range accounts {
		kc.Delete(context.Background(), a)
	}
}
