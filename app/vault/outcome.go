package vault

import (
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/gemini"
)

// keyOutcome is what one class of upstream answer says about the key that
// got it: the status it puts the key in ("" leaves the status alone) and
// the check result that names it.
type keyOutcome struct {
	status store.Status
	result CheckResult
}

// keyOutcomes is the one table from an upstream answer's class to a key
// status and a check result, used alike by live traffic (the recorder
// marks keys Google rejected) and by key checks. A class not listed says
// nothing about the key (a network error, a 5xx, the client's own fault):
// no status change, check result "network".
var keyOutcomes = map[gemini.Class]keyOutcome{
	gemini.ClassOK:          {store.StatusActive, ResultOK},
	gemini.ClassKeyInvalid:  {store.StatusInvalid, ResultInvalid},
	gemini.ClassKeyExpired:  {store.StatusExpired, ResultExpired},
	gemini.ClassKeyDenied:   {store.StatusDenied, ResultDenied},
	gemini.ClassQuotaDaily:  {store.StatusActive, ResultRateLimited}, // a 429 proves the key valid
	gemini.ClassRateLimited: {store.StatusActive, ResultRateLimited},
	gemini.ClassRegion:      {"", ResultRegion}, // the egress is refused, not the key
}

// outcomeOf looks class up in keyOutcomes.
func outcomeOf(class gemini.Class) keyOutcome {
	if o, ok := keyOutcomes[class]; ok {
		return o
	}
	return keyOutcome{"", ResultNetwork}
}

// KillsKey reports whether an answer of this class makes the key that got
// it dead (invalid, expired or denied).
func KillsKey(class gemini.Class) bool { return outcomeOf(class).status.Dead() }
