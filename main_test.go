package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t *testing.T) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 35)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "AIza" + string(b)
}

// TestKeysCommand adds keys from a file with the flags after the file name
// (they must still apply) and lists them masked.
func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GBD_PASSPHRASE", "cli-test")
	k1, k2 := testKey(t), testKey(t)
	file := filepath.Join(dir, "keys.txt")
	os.WriteFile(file, []byte("first "+k1+"\nGEMINI_API_KEY=\""+k2+"\"\nAIzaTooShort\n"), 0o600)
	data := filepath.Join(dir, "data")

	var out, errOut bytes.Buffer
	if code := run([]string{"keys", "add", file, "--data-dir", data, "--secret-store", "file"}, &out, &errOut); code != 0 {
		t.Fatalf("keys add: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "added 2, already present 0, malformed 1") {
		t.Errorf("keys add printed %q", out.String())
	}
	out.Reset()
	if code := run([]string{"keys", "list", "--data-dir", data, "--secret-store", "file"}, &out, &errOut); code != 0 {
		t.Fatalf("keys list: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "2 keys") || strings.Contains(out.String(), k1) || strings.Contains(out.String(), k2) {
		t.Errorf("keys list printed %q, want 2 masked keys", out.String())
	}
	out.Reset()
	if code := run([]string{"access-key", "--data-dir", data, "--secret-store", "file"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "gbd-") {
		t.Errorf("access-key: exit %d, printed %q", code, out.String())
	}
	if strings.Contains(errOut.String(), k1) || strings.Contains(errOut.String(), k2) {
		t.Errorf("a key reached the log: %s", errOut.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
