//go:build windows

package app

import (
	"errors"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestAutostartWindows writes and removes the Run key value (run under
// wine by the Windows lane of build/test.sh).
func TestAutostartWindows(t *testing.T) {
	as := Autostart{Exe: `C:\Program Files\Gemini Balance Desktop\gemini-balance-desktop.exe`}
	if err := as.Set(true); err != nil {
		t.Fatalf("Set(true): %v", err)
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue("GeminiBalanceDesktop")
	if want := `"C:\Program Files\Gemini Balance Desktop\gemini-balance-desktop.exe" --hidden`; err != nil || v != want {
		t.Errorf("Run value = %q, %v, want %q", v, err, want)
	}
	if err := as.Set(false); err != nil {
		t.Fatalf("Set(false): %v", err)
	}
	if _, _, err := k.GetStringValue("GeminiBalanceDesktop"); !errors.Is(err, registry.ErrNotExist) {
		t.Errorf("Run value after Set(false): %v, want it gone", err)
	}
	if err := as.Set(false); err != nil {
		t.Errorf("Set(false) twice: %v", err)
	}
}
