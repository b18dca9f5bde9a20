package app

import (
	"net/http"
	"sort"
	"time"

	"github.com/gemini-balance/desktop/proxy/keypool"
)

// The management API's statistics, request log and pool routes (the
// queries themselves are in stats.go).

// apiStats sums usage since ?since= (default 24h), grouped by=key, model
// (default) or key_model.
func (a *App) apiStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ans, err := a.StatsTotals(r.Context(), q.Get("by"), q.Get("since"))
	return answerOr(w, ans, err)
}

// apiSeries returns a time series for charts: ?resolution=minute (default;
// up to 24h back, default 1h) or hour (up to 30 days, default 24h),
// ?since=, ?until= (RFC 3339), ?key= (a key id), ?model=.
func (a *App) apiSeries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ans, err := a.StatsSeries(r.Context(), SeriesQuery{
		Resolution: q.Get("resolution"), Since: q.Get("since"), Until: q.Get("until"), KeyID: q.Get("key"), Model: q.Get("model"),
	})
	return answerOr(w, ans, err)
}

// apiToday returns today's request count per (key, model) in the free-tier
// day (midnight to midnight, US Pacific).
func (a *App) apiToday(w http.ResponseWriter, r *http.Request) error {
	ans, err := a.StatsToday(r.Context())
	return answerOr(w, ans, err)
}

// apiLog returns a page of the request log, newest first: ?offset=&limit=
// (≤ 1000), ?key= (id), ?model=, ?class=.
func (a *App) apiLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	offset, limit, err := queryPage(q)
	if err != nil {
		return err
	}
	ans, err := a.RequestLog(r.Context(), LogQuery{KeyID: q.Get("key"), Model: q.Get("model"), Class: q.Get("class"), Offset: offset, Limit: limit})
	return answerOr(w, ans, err)
}

func (a *App) apiWipeLog(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	n, err := a.WipeLog(r.Context())
	return answerOr(w, map[string]int{"deleted": n}, err)
}

// apiPool is the running pool's view of every key: disabled (and why),
// cooling down for which models until when, last used. Keys masked.
func (a *App) apiPool(w http.ResponseWriter, r *http.Request) error {
	states := a.pool.States()
	keys := a.previews(r.Context(), keyIDsOf(states, func(s keypool.KeyState) string { return s.ID }))
	type cooling struct {
		Model string    `json:"model"`
		Until time.Time `json:"until"`
	}
	type key struct {
		ID       string    `json:"id"`
		Preview  string    `json:"preview"`
		Label    string    `json:"label,omitempty"`
		Disabled bool      `json:"disabled"`
		Reason   string    `json:"reason,omitempty"`
		Cooling  []cooling `json:"cooling"`
		LastUsed time.Time `json:"lastUsed,omitzero"`
	}
	out := make([]key, len(states))
	for i, s := range states {
		k := keys[s.ID]
		c := make([]cooling, 0, len(s.Cooling))
		for m, until := range s.Cooling {
			c = append(c, cooling{m, until})
		}
		sort.Slice(c, func(i, j int) bool { return c[i].Model < c[j].Model })
		out[i] = key{s.ID, k.Preview, k.Label, s.Disabled, s.Reason, c, s.LastUsed}
	}
	return answer(w, struct {
		Counts keypool.Counts `json:"counts"`
		Keys   []key          `json:"keys"`
	}{a.pool.Counts(), out})
}
