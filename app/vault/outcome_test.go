package vault

import (
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// TestOutcomeTableOneName: every class that kills a key names the same
// status and check result, and KillsKey agrees with the table.
func TestOutcomeTableOneName(t *testing.T) {
	for c := range gemini.Class(32) {
		o := outcomeOf(c)
		if o.status.Dead() && string(o.status) != string(o.result) {
			t.Errorf("outcomeOf(%v) = status %q, result %q: dead keys must use one name", c, o.status, o.result)
		}
		if KillsKey(c) != o.status.Dead() {
			t.Errorf("KillsKey(%v) = %v, want %v", c, KillsKey(c), o.status.Dead())
		}
	}
}
