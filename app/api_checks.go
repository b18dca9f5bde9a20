package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// The management API's check, prune, restore and purge routes.

// apiOutcome is one key's check result as the API shows it.
type apiOutcome struct {
	ID      string            `json:"id"`
	Preview string            `json:"preview"`
	Result  vault.CheckResult `json:"result"`
	Reason  string            `json:"reason,omitempty"`
	Status  string            `json:"status"`
}

// seedOutcome is one entry of the seed's check answer.
type seedOutcome struct {
	// Key is the masked key (the seed sent it in clear).
	Key string `json:"key"`
	ID  string `json:"id,omitempty"`
	// Valid: the key works (ok, or rate limited).
	Valid bool `json:"valid"`
	// Error says why not (null when valid).
	Error  *string           `json:"error"`
	Result vault.CheckResult `json:"result"`
	Status string            `json:"status,omitempty"`
}

// resultNotStored marks, in a seed check answer, a key that is not stored.
const resultNotStored vault.CheckResult = "not_stored"

func (a *App) apiOutcomes(ctx context.Context, os []vault.CheckOutcome) []apiOutcome {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	keys := a.previews(ctx, ids)
	out := make([]apiOutcome, len(os))
	for i, o := range os {
		out[i] = apiOutcome{ID: o.ID, Preview: keys[o.ID].Preview, Result: o.Result, Reason: o.Reason, Status: o.Status}
	}
	return out
}

// checkAnswer is the state of a check job, with its outcomes when asked.
type checkAnswer struct {
	CheckJob
	Results []apiOutcome `json:"results,omitempty"`
}

// apiStartCheck starts a check: {} or no body checks every key, {"ids":
// [...]} the selection (202 with the job; "wait": true answers when it is
// done, with the results). The seed's {"keys": [...]} checks those keys and
// answers the seed's array when done.
func (a *App) apiStartCheck(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IDs  []string `json:"ids"`
		Keys []string `json:"keys"`
		Wait bool     `json:"wait"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	if in.IDs != nil && in.Keys != nil {
		return fieldError("keys", `send "ids" or "keys", not both (or neither, to check every key)`)
	}
	if in.Keys != nil {
		return a.seedCheck(w, r, in.Keys)
	}
	var ids []string
	if in.IDs != nil {
		var err error
		if ids, err = idList("ids", in.IDs, `"k0123456789abcdef"`); err != nil {
			return err
		}
		if err := a.knownIDs(r.Context(), "ids", ids); err != nil {
			return err
		}
	}
	t, err := a.startCheck(ids)
	if err != nil {
		return err
	}
	if !in.Wait {
		j, _ := a.checkResults(t)
		writeAPIJSON(w, http.StatusAccepted, checkAnswer{CheckJob: j})
		return nil
	}
	if !a.waitCheck(r.Context(), t) {
		return nil // the client went away; the job goes on
	}
	j, os := a.checkResults(t)
	return answer(w, checkAnswer{CheckJob: j, Results: a.apiOutcomes(r.Context(), os)})
}

// seedCheck is the seed's POST /api/keys/check {"keys": [...]}: it checks
// the stored keys among them and answers one entry per key, in order,
// when done. Keys that are not stored are reported, not checked.
func (a *App) seedCheck(w http.ResponseWriter, r *http.Request, keys []string) error {
	if err := checkListSize("keys", keys, `"AIza…"`); err != nil {
		return err
	}
	ids := make([]string, len(keys))
	var bad []badRef
	for i, k := range keys {
		refs, b := resolveRefs([]string{k})
		if len(b) > 0 {
			b[0].Index = i
			bad = append(bad, b[0])
			continue
		}
		ids[i] = refs[0]
	}
	if len(bad) > 0 {
		return refusedRefs("keys", bad)
	}
	ctx := r.Context()
	stored := a.previews(ctx, ids)
	var check []string
	for id := range stored {
		check = append(check, id)
	}
	byID := map[string]vault.CheckOutcome{}
	if len(check) > 0 {
		t, err := a.startCheck(check)
		if err != nil {
			return err
		}
		if !a.waitCheck(ctx, t) {
			return nil
		}
		_, os := a.checkResults(t)
		for _, o := range os {
			byID[o.ID] = o
		}
	}
	out := make([]seedOutcome, len(ids))
	for i, id := range ids {
		k, ok := stored[id]
		o := seedOutcome{Key: apikey.Mask(strings.TrimSpace(keys[i])), ID: id}
		if ok {
			o.Key = k.Preview
		}
		switch oc, done := byID[id]; {
		case !ok:
			o.Result = resultNotStored
			o.Error = ptrTo("this key is not stored; add it first")
		case !done:
			o.Result = vault.ResultSkipped
			o.Error = ptrTo("not checked (the check was canceled)")
			o.Status = string(k.Status)
		default:
			o.Result, o.Status = oc.Result, oc.Status
			o.Valid = oc.Result == vault.ResultOK || oc.Result == vault.ResultRateLimited
			if !o.Valid {
				reason := oc.Reason
				if reason == "" {
					reason = string(oc.Result)
				}
				o.Error = &reason
			}
		}
		out[i] = o
	}
	return answer(w, out)
}

func ptrTo[T any](v T) *T { return &v }

// apiCheckStatus answers the latest check's state; ?results=true adds the
// outcomes so far.
func (a *App) apiCheckStatus(w http.ResponseWriter, r *http.Request) error {
	withResults, err := queryBool(r.URL.Query(), "results")
	if err != nil {
		return err
	}
	t := a.latestCheck()
	if t == nil {
		return answer(w, checkAnswer{CheckJob: a.CheckStatus()})
	}
	j, os := a.checkResults(t)
	ans := checkAnswer{CheckJob: j}
	if withResults {
		ans.Results = a.apiOutcomes(r.Context(), os)
		if ans.Results == nil {
			ans.Results = []apiOutcome{}
		}
	}
	return answer(w, ans)
}

// apiCancelCheck stops the running check. The answer says whether one was
// running; the job shows "canceled" once its checks in flight stopped.
func (a *App) apiCancelCheck(w http.ResponseWriter, r *http.Request) error {
	canceled := a.CancelCheck()
	return answer(w, struct {
		Canceled bool     `json:"canceled"`
		Check    CheckJob `json:"check"`
	}{canceled, a.CheckStatus()})
}

// --- prune, restore, purge --------------------------------------------------------

func (a *App) apiPrune(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	res, err := a.PruneDead(r.Context())
	return answerOr(w, res, err)
}

// apiRestore brings quarantined keys back: {"ids": [...]}, {"all": true}
// for every quarantined key, or no body for the keys of the last prune.
func (a *App) apiRestore(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	var keys []vault.KeyInfo
	var err error
	switch {
	case in.IDs != nil && in.All:
		return fieldError("all", `send "ids" or "all", not both`)
	case in.IDs != nil:
		ids, lerr := idList("ids", in.IDs, `"k0123456789abcdef"`)
		if lerr == nil {
			lerr = a.knownIDs(ctx, "ids", ids)
		}
		if lerr != nil {
			return lerr
		}
		keys, err = a.RestoreKeys(ctx, ids)
	case in.All:
		var ids []string
		if ids, err = a.vault.Quarantined(ctx); err == nil {
			keys, err = a.RestoreKeys(ctx, ids)
		}
	default:
		keys, err = a.RestoreLastPrune(ctx)
	}
	if err != nil && len(keys) == 0 {
		return err
	}
	ans := struct {
		Restored int             `json:"restored"`
		Keys     []vault.KeyInfo `json:"keys"`
		Error    string          `json:"error,omitempty"`
	}{Restored: len(keys), Keys: keys}
	if ans.Keys == nil {
		ans.Keys = []vault.KeyInfo{}
	}
	if err != nil {
		ans.Error = err.Error()
	}
	return answer(w, ans)
}

// apiPurge deletes quarantined keys for good: {"ids": [...]}, or every
// quarantined key without a body.
func (a *App) apiPurge(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	var ids []string
	if in.IDs != nil {
		var err error
		if ids, err = idList("ids", in.IDs, `"k0123456789abcdef"`); err != nil {
			return err
		}
	}
	res, err := a.PurgeQuarantined(r.Context(), ids)
	if err != nil && res.Deleted == 0 {
		return err
	}
	return answer(w, res)
}
