//go:build windows

package app

import (
	"os"
	"testing"
)

// TestOSLanguages reads the UI language from Windows. Under wine it follows
// the host's LANG, which the Windows lane sets to GBD_WANT_UI_LANG's language.
func TestOSLanguages(t *testing.T) {
	langs := osLanguages()
	if len(langs) == 0 {
		t.Fatal("osLanguages() is empty")
	}
	t.Logf("Windows UI languages: %q", langs)
	if want := os.Getenv("GBD_WANT_UI_LANG"); want != "" {
		if got := pickLanguage(langs); got != want {
			t.Errorf("pickLanguage(%q) = %q, want %q", langs, got, want)
		}
	}
}
