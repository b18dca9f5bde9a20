//go:build linux

package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostartLinux(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	as := Autostart{Exe: "/opt/gbd/gemini balance"}
	if err := as.Set(true); err != nil {
		t.Fatalf("Set(true): %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "autostart", AppID+".desktop"))
	if err != nil {
		t.Fatalf("no autostart entry: %v", err)
	}
	if !strings.Contains(string(b), `Exec="/opt/gbd/gemini balance" --hidden`) {
		t.Errorf("entry = %s", b)
	}
	if err := as.Set(false); err != nil {
		t.Fatalf("Set(false): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "autostart", AppID+".desktop")); !os.IsNotExist(err) {
		t.Errorf("entry still there after Set(false): %v", err)
	}
	if err := as.Set(false); err != nil {
		t.Errorf("Set(false) twice: %v", err)
	}
}
