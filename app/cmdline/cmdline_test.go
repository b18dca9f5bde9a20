package cmdline

import "testing"

func TestWantsConsole(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--hidden"}, false},
		{[]string{"--data-dir", `C:\gbd`}, false},
		{[]string{"--log-level=debug"}, false},
		{[]string{"access-key"}, true},
		{[]string{"admin-password", "--data-dir", "x"}, true},
		{[]string{"keys", "list"}, true},
		{[]string{"serve"}, true},
		{[]string{"version"}, true},
		{[]string{"frobnicate"}, true},
		{[]string{"--help"}, true},
		{[]string{"-h"}, true},
		{[]string{"--data-dir", "x", "-help"}, true},
		{[]string{"--headless"}, true},
		{[]string{"--headless=true"}, true},
		{[]string{"--", "--help"}, false},
	} {
		if got := WantsConsole(tc.args); got != tc.want {
			t.Errorf("WantsConsole(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
