package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersionCommand checks that `version` prints the version, the commit
// and the build date that build/package.sh sets with -ldflags -X, on one line.
func TestVersionCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("version: exit %d: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"gemini-balance-desktop " + version + " ", "commit " + commit, "built " + date} {
		if !strings.Contains(got, want) {
			t.Errorf("version printed %q, want it to contain %q", got, want)
		}
	}
	if strings.Count(got, "\n") != 1 {
		t.Errorf("version printed %q, want one line", got)
	}
}
