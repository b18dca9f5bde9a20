package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/proxy/apikey"
	"github.com/gemini-balance/desktop/proxy/keypool"
)

// The management API: keys, checks, statistics, the request log and the
// settings. Every route is behind a.authed (admin Bearer token, or a login
// session cookie plus a same-origin check for changes). Errors are
// {"error": "..."}; keys in answers are masked, except for an explicit
// reveal or export.
//
// The first routes keep the shapes of the predecessor, gemini-balance-do
// (a Cloudflare Worker), so that its users' scripts keep working:
//
//	GET    /api/keys        {"keys": [{"api_key", "status", "key_group", "last_checked_at", "failed_count", …}], "total"}
//	POST   /api/keys        {"keys": ["AIza…", …]}  → {"message", …}
//	DELETE /api/keys        {"keys": ["AIza…" or key id, …]} → {"message", …}
//	POST   /api/keys/check  {"keys": ["AIza…", …]}  → [{"key", "valid", "error", …}] (waits for the check)
//
// with two differences: "api_key" and "key" are masked (the seed sent keys
// in clear), and a check never deletes a key (the seed deleted every key
// that did not answer 200; here dead keys are marked and Prune quarantines
// them, undoably).

// maxKeysPerRequest caps the keys (or ids) one request may carry. A body
// over the cap is refused whole: nothing is applied.
const maxKeysPerRequest = 50_000

// maxListed bounds the problems listed in one error answer.
const maxListed = 20

// keyIDPattern is the shape of a key id (apikey.ID).
var keyIDPattern = regexp.MustCompile(`^k[0-9a-f]{16}$`)

// apiRoutes registers the key, check, statistics, log and settings routes
// of the management API.
func (a *App) apiRoutes(mux *http.ServeMux) {
	routes := []struct {
		path     string
		handlers map[string]http.HandlerFunc
	}{
		{"/api/keys", map[string]http.HandlerFunc{
			http.MethodGet: a.apiListKeys, http.MethodPost: a.apiAddKeys, http.MethodDelete: a.apiDeleteKeys,
		}},
		{"/api/keys/{id}", map[string]http.HandlerFunc{
			http.MethodGet: a.apiGetKey, http.MethodPatch: a.apiPatchKey,
		}},
		{"/api/keys/{id}/reveal", map[string]http.HandlerFunc{http.MethodPost: a.apiRevealKey}},
		{"/api/keys/check", map[string]http.HandlerFunc{
			http.MethodGet: a.apiCheckStatus, http.MethodPost: a.apiStartCheck, http.MethodDelete: a.apiCancelCheck,
		}},
		{"/api/keys/bulk", map[string]http.HandlerFunc{http.MethodPost: a.apiBulkAdd}},
		{"/api/keys/import", map[string]http.HandlerFunc{http.MethodPost: a.apiImport}},
		{"/api/keys/export", map[string]http.HandlerFunc{http.MethodPost: a.apiExport}},
		{"/api/keys/prune", map[string]http.HandlerFunc{http.MethodPost: a.apiPrune}},
		{"/api/keys/restore", map[string]http.HandlerFunc{http.MethodPost: a.apiRestore}},
		{"/api/keys/purge", map[string]http.HandlerFunc{http.MethodPost: a.apiPurge}},
		{"/api/stats", map[string]http.HandlerFunc{http.MethodGet: a.apiStats}},
		{"/api/stats/series", map[string]http.HandlerFunc{http.MethodGet: a.apiSeries}},
		{"/api/stats/today", map[string]http.HandlerFunc{http.MethodGet: a.apiToday}},
		{"/api/log", map[string]http.HandlerFunc{http.MethodGet: a.apiLog, http.MethodDelete: a.apiWipeLog}},
		{"/api/pool", map[string]http.HandlerFunc{http.MethodGet: a.apiPool}},
		{"/api/settings", map[string]http.HandlerFunc{
			http.MethodGet: a.apiGetSettings, http.MethodPut: a.apiPutSettings, http.MethodPatch: a.apiPatchSettings,
		}},
		{"/api/settings/access-key", map[string]http.HandlerFunc{http.MethodPost: a.apiRegenerateAccessKey}},
		{"/api/settings/admin-password", map[string]http.HandlerFunc{http.MethodPost: a.apiRegenerateAdminPassword}},
	}
	for _, rt := range routes {
		for method, h := range rt.handlers {
			mux.HandleFunc(method+" "+rt.path, a.authed(h))
		}
		// A method-less pattern answers 405 for the other methods, except
		// where it would overlap /api/keys/{id} (the mux refuses that).
		if !strings.HasPrefix(rt.path, "/api/keys/") || strings.Contains(rt.path, "{id}") {
			mux.HandleFunc(rt.path, methodNotAllowed(mux))
		}
	}
}

// methodNotAllowed answers 405 with the methods the path does allow.
func methodNotAllowed(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, self := mux.Handler(r)
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != self && strings.HasPrefix(p, m+" ") {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeAPIError(w, http.StatusMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))
	}
}

// --- helpers ------------------------------------------------------------------

// writeOpError maps an error of a key or settings operation to a status.
// Error texts never hold a key (the vault and the store see to that).
func writeOpError(w http.ResponseWriter, err error) {
	var qe *QueryError
	var ie *InvalidSettingsError
	switch {
	case errors.As(err, &qe), errors.As(err, &ie):
		writeAPIError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrKeyNotFound):
		writeAPIError(w, http.StatusNotFound, "no such key")
	case errors.Is(err, ErrKeyState):
		writeAPIError(w, http.StatusConflict, "%v", err)
	case errors.Is(err, ErrCheckRunning), errors.Is(err, ErrNothingToRestore):
		writeAPIError(w, http.StatusConflict, "%v", err)
	case errors.Is(err, keychain.ErrNotFound):
		writeAPIError(w, http.StatusConflict, "the keychain has no secret for this key (shown as \"secret missing\"); add the key again")
	case errors.Is(err, keychain.ErrUnavailable):
		writeAPIError(w, http.StatusServiceUnavailable, "%s", keychainProblem(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeAPIError(w, http.StatusServiceUnavailable, "the operation was interrupted: %v", err)
	default:
		writeAPIError(w, http.StatusInternalServerError, "%v", err)
	}
}

// readOptionalBody reads a request body that may be absent. It returns the
// bytes (nil when empty or only whitespace), or false after answering 413.
func readOptionalBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "request body is larger than %d MiB", maxAPIBody>>20)
		} else {
			writeAPIError(w, http.StatusBadRequest, "could not read the request body: %v", err)
		}
		return nil, false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, true
	}
	return b, true
}

// decodeOptionalBody decodes a JSON body strictly (see decodeAPIBody) when
// there is one; an empty body leaves v alone.
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, ok := readOptionalBody(w, r)
	if !ok {
		return false
	}
	if b == nil {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeAPIBody(w, r, v)
}

// badRef is an entry of a request that is neither a key nor a key id.
type badRef struct {
	// Index is the 0-based position in the list.
	Index int `json:"index"`
	// Text is the entry, masked.
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// resolveRefs turns entries that are raw keys or key ids into key ids (in
// order, once each). Entries that are neither are returned in bad.
func resolveRefs(refs []string) (ids []string, bad []badRef) {
	seen := make(map[string]bool, len(refs))
	for i, ref := range refs {
		ref = strings.TrimSpace(ref)
		var id string
		switch {
		case apikey.Valid(ref):
			id = apikey.ID(ref)
		case keyIDPattern.MatchString(ref):
			id = ref
		default:
			reason := "neither an API key (AIza + 35 characters) nor a key id (k + 16 hex digits)"
			if ref == "" {
				reason = "empty"
			}
			bad = append(bad, badRef{Index: i, Text: apikey.Mask(ref), Reason: reason})
			continue
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, bad
}

// refusedRefs answers 400 listing entries that are not keys or ids.
func refusedRefs(w http.ResponseWriter, field string, bad []badRef) {
	first := bad[0]
	writeAPIJSON(w, http.StatusBadRequest, struct {
		Error string   `json:"error"`
		Bad   []badRef `json:"bad"`
	}{
		Error: fmt.Sprintf("%d entries of %q are not usable (first: #%d %q, %s); nothing was changed", len(bad), field, first.Index, first.Text, first.Reason),
		Bad:   bad[:min(len(bad), maxListed)],
	})
}

// checkListSize refuses a missing, empty or oversize list of keys or ids.
func checkListSize(w http.ResponseWriter, field string, list []string, example string) bool {
	switch {
	case list == nil:
		writeAPIError(w, http.StatusBadRequest, "%q is required: send {%q: [%s]}", field, field, example)
	case len(list) == 0:
		writeAPIError(w, http.StatusBadRequest, "%q is empty: send at least one entry", field)
	case len(list) > maxKeysPerRequest:
		writeAPIError(w, http.StatusBadRequest, "%q has %d entries; at most %d are accepted per request (split the list); nothing was changed", field, len(list), maxKeysPerRequest)
	default:
		return true
	}
	return false
}

// idList checks the size of a list of key ids (or raw keys, see
// resolveRefs) sent as field and resolves it to key ids, answering the
// client itself (400, naming the bad entries) when that fails.
func idList(w http.ResponseWriter, field string, list []string, example string) ([]string, bool) {
	if !checkListSize(w, field, list, example) {
		return nil, false
	}
	ids, bad := resolveRefs(list)
	if len(bad) > 0 {
		refusedRefs(w, field, bad)
		return nil, false
	}
	return ids, true
}

// knownIDs answers 400 when some ids name no stored key, and reports
// whether all are known.
func (a *App) knownIDs(w http.ResponseWriter, r *http.Request, ids []string) bool {
	keys, err := a.store.GetKeys(r.Context(), ids)
	if err != nil {
		writeOpError(w, err)
		return false
	}
	if len(keys) == len(ids) {
		return true
	}
	have := make(map[string]bool, len(keys))
	for _, k := range keys {
		have[k.ID] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	writeAPIJSON(w, http.StatusBadRequest, struct {
		Error   string   `json:"error"`
		Unknown []string `json:"unknown"`
	}{
		Error:   fmt.Sprintf("%d of the %d keys are not stored (first: %s); nothing was done", len(missing), len(ids), missing[0]),
		Unknown: missing[:min(len(missing), maxListed)],
	})
	return false
}

// previews returns the masked preview and label of each id that is stored.
func (a *App) previews(ctx context.Context, ids []string) map[string]store.Key {
	out := map[string]store.Key{}
	ids = uniq(ids)
	if len(ids) == 0 {
		return out
	}
	keys, err := a.store.GetKeys(ctx, ids)
	if err != nil {
		a.log.Warn("looking up key previews", "err", err)
		return out
	}
	for _, k := range keys {
		out[k.ID] = k
	}
	return out
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(w http.ResponseWriter, q url.Values, name string, def, lo, hi int) (int, bool) {
	s := q.Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		writeAPIError(w, http.StatusBadRequest, "query parameter %s=%q: use a whole number from %d to %d", name, s, lo, hi)
		return 0, false
	}
	return n, true
}

// queryPage reads offset and limit (or the seed's page and pageSize).
func queryPage(w http.ResponseWriter, q url.Values) (offset, limit int, ok bool) {
	if limit, ok = queryInt(w, q, "limit", store.DefaultPageSize, 1, store.MaxPageSize); !ok {
		return
	}
	if q.Has("pageSize") {
		if limit, ok = queryInt(w, q, "pageSize", store.DefaultPageSize, 1, store.MaxPageSize); !ok {
			return
		}
	}
	if offset, ok = queryInt(w, q, "offset", 0, 0, 1<<31-1); !ok {
		return
	}
	if q.Has("page") {
		var page int
		if page, ok = queryInt(w, q, "page", 1, 1, 1<<31/store.MaxPageSize); !ok {
			return
		}
		offset = (page - 1) * limit
	}
	return offset, limit, true
}

// --- keys: list, get, add, delete -------------------------------------------

// apiKeyItem is a key in GET /api/keys: our fields plus the seed's.
type apiKeyItem struct {
	KeyInfo
	// APIKey is the seed's field: here the masked key.
	APIKey string `json:"api_key"`
	// KeyGroup is the seed's "normal" (usable) or "abnormal".
	KeyGroup string `json:"key_group"`
	// LastCheckedMS is the seed's last check time, ms since 1970, or null.
	LastCheckedMS *int64 `json:"last_checked_at"`
	// FailedCount is the seed's failure counter.
	FailedCount int64 `json:"failed_count"`
}

func itemOf(k KeyInfo) apiKeyItem {
	it := apiKeyItem{KeyInfo: k, APIKey: k.Preview, KeyGroup: "abnormal", FailedCount: k.Failures}
	if k.Status == string(store.StatusActive) {
		it.KeyGroup = "normal"
	}
	if !k.LastCheckedAt.IsZero() {
		ms := k.LastCheckedAt.UnixMilli()
		it.LastCheckedMS = &ms
	}
	return it
}

// keyStatuses are the statuses a list can be filtered by ("dead" stands for
// the three dead ones).
var keyStatuses = []store.Status{
	store.StatusActive, store.StatusDisabled, store.StatusInvalid, store.StatusExpired, store.StatusDenied,
	store.StatusSecretMissing, store.StatusQuarantined, store.StatusAdding, store.StatusDeleting,
}

var keySorts = []string{"created", "last_used", "last_checked", "requests", "failures", "tokens", "status", "label"}

func (a *App) apiListKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var kq KeyQuery
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			st = strings.TrimSpace(st)
			switch {
			case st == "":
			case st == "dead":
				kq.Status = append(kq.Status, string(store.StatusInvalid), string(store.StatusExpired), string(store.StatusDenied))
			case slices.Contains(keyStatuses, store.Status(st)):
				kq.Status = append(kq.Status, st)
			default:
				writeAPIError(w, http.StatusBadRequest, "status=%q: use one or more (comma-separated) of %s, dead", st, joinStatuses(keyStatuses))
				return
			}
		}
	}
	kq.Search = q.Get("search")
	if s := q.Get("sort"); s != "" {
		if !slices.Contains(keySorts, s) {
			writeAPIError(w, http.StatusBadRequest, "sort=%q: use one of %s", s, strings.Join(keySorts, ", "))
			return
		}
		kq.Sort = s
	}
	if s := q.Get("desc"); s != "" {
		d, err := strconv.ParseBool(s)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "desc=%q: use true or false", s)
			return
		}
		kq.Desc = d
	}
	var ok bool
	if kq.Offset, kq.Limit, ok = queryPage(w, q); !ok {
		return
	}
	list, err := a.vault.List(r.Context(), kq)
	if err != nil {
		writeOpError(w, err)
		return
	}
	items := make([]apiKeyItem, len(list.Keys))
	for i, k := range list.Keys {
		items[i] = itemOf(k)
	}
	writeAPIJSON(w, http.StatusOK, struct {
		Keys   []apiKeyItem   `json:"keys"`
		Total  int            `json:"total"`
		Offset int            `json:"offset"`
		Limit  int            `json:"limit"`
		Counts map[string]int `json:"counts"`
	}{items, list.Total, list.Offset, list.Limit, list.Counts})
}

func joinStatuses(ss []store.Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

func (a *App) apiGetKey(w http.ResponseWriter, r *http.Request) {
	k, err := a.vault.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, itemOf(k))
}

// apiMalformed is apikey.Malformed with the API's field names.
type apiMalformed struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

func malformedOf(ms []apikey.Malformed) []apiMalformed {
	out := make([]apiMalformed, len(ms))
	for i, m := range ms {
		out[i] = apiMalformed{Line: m.Line, Text: m.Text, Reason: m.Reason}
	}
	return out
}

// addAnswer is the answer of every add route.
type addAnswer struct {
	// Message is the seed's field: a one-line summary.
	Message string `json:"message"`
	AddResult
	Malformed []apiMalformed `json:"malformed"`
}

// addText adds the keys found in text and answers. Nothing is stored when
// the text holds more than maxKeysPerRequest keys or none at all.
func (a *App) addText(w http.ResponseWriter, r *http.Request, text string) {
	ext := apikey.Extract(text)
	if len(ext.Keys) > maxKeysPerRequest {
		writeAPIError(w, http.StatusBadRequest, "the text holds %d keys; at most %d are accepted per request (split it); nothing was added", len(ext.Keys), maxKeysPerRequest)
		return
	}
	if len(ext.Keys) == 0 {
		msg := "no API key found in the text (a key is AIza followed by 35 letters, digits, - or _)"
		if len(ext.Malformed) > 0 {
			m := ext.Malformed[0]
			msg = fmt.Sprintf("no valid API key found; %d tokens look like broken keys (first: line %d %q, %s)", len(ext.Malformed), m.Line, m.Text, m.Reason)
		}
		writeAPIJSON(w, http.StatusBadRequest, struct {
			Error     string         `json:"error"`
			Malformed []apiMalformed `json:"malformed"`
		}{msg, malformedOf(ext.Malformed)})
		return
	}
	res, err := a.vault.AddBulk(r.Context(), text)
	if err != nil {
		writeOpError(w, err)
		return
	}
	a.notify()
	msg := fmt.Sprintf("%d keys added, %d already present", res.Added, res.Existing)
	if n := len(res.Malformed); n > 0 {
		msg += fmt.Sprintf(", %d malformed", n)
	}
	if res.Failed > 0 {
		msg += fmt.Sprintf(", %d could not be stored: %s", res.Failed, res.Error)
	}
	writeAPIJSON(w, http.StatusOK, addAnswer{Message: msg, AddResult: res, Malformed: malformedOf(res.Malformed)})
}

// apiAddKeys is the seed's POST /api/keys {"keys": [...]}. Every entry must
// be a key: a list with anything else is refused whole.
func (a *App) apiAddKeys(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Keys []string `json:"keys"`
	}
	if !decodeAPIBody(w, r, &in) || !checkListSize(w, "keys", in.Keys, `"AIza…"`) {
		return
	}
	var bad []badRef
	for i, k := range in.Keys {
		k = strings.TrimSpace(k)
		if !apikey.Valid(k) {
			bad = append(bad, badRef{Index: i, Text: apikey.Mask(k), Reason: "not an API key (AIza + 35 letters, digits, - or _)"})
		}
		in.Keys[i] = k
	}
	if len(bad) > 0 {
		refusedRefs(w, "keys", bad)
		return
	}
	a.addText(w, r, strings.Join(in.Keys, "\n"))
}

// apiBulkAdd adds the keys found in pasted text: {"text": "..."}.
func (a *App) apiBulkAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text *string `json:"text"`
	}
	if !decodeAPIBody(w, r, &in) {
		return
	}
	if in.Text == nil {
		writeAPIError(w, http.StatusBadRequest, `"text" is required: send {"text": "<pasted keys>"}`)
		return
	}
	if strings.TrimSpace(*in.Text) == "" {
		writeAPIError(w, http.StatusBadRequest, `"text" is empty`)
		return
	}
	a.addText(w, r, *in.Text)
}

// apiImport adds the keys found in an uploaded file: multipart/form-data
// (the first file part, or the field "file"), or the body itself as
// text/plain.
func (a *App) apiImport(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		writeAPIError(w, http.StatusUnsupportedMediaType, "Content-Type %q cannot be parsed; send multipart/form-data with a file, or text/plain", ct)
		return
	}
	var data []byte
	switch {
	case mt == "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		mr, err := r.MultipartReader()
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "malformed multipart body: %v", err)
			return
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeAPIError(w, http.StatusRequestEntityTooLarge, "the upload is larger than %d MiB", maxAPIBody>>20)
				} else {
					writeAPIError(w, http.StatusBadRequest, "malformed multipart body: %v", err)
				}
				return
			}
			if p.FileName() == "" && p.FormName() != "file" {
				continue
			}
			data, err = io.ReadAll(p)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeAPIError(w, http.StatusRequestEntityTooLarge, "the upload is larger than %d MiB", maxAPIBody>>20)
				} else {
					writeAPIError(w, http.StatusBadRequest, "could not read the uploaded file: %v", err)
				}
				return
			}
			break
		}
		if data == nil {
			writeAPIError(w, http.StatusBadRequest, `no file in the form: send the file in the field "file"`)
			return
		}
	case mt == "" || strings.HasPrefix(mt, "text/") || mt == "application/octet-stream":
		var ok bool
		if data, ok = readOptionalBody(w, r); !ok {
			return
		}
	default:
		writeAPIError(w, http.StatusUnsupportedMediaType, "Content-Type %q: send multipart/form-data with a file, or the file itself as text/plain (JSON goes to POST /api/keys/bulk)", mt)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		writeAPIError(w, http.StatusBadRequest, "the file is empty")
		return
	}
	if bytes.IndexByte(data, 0) >= 0 {
		writeAPIError(w, http.StatusBadRequest, "the file is not a text file; export your keys as text (one per line, or any list)")
		return
	}
	a.addText(w, r, string(data))
}

// apiDeleteKeys is the seed's DELETE /api/keys {"keys": [...]}: entries are
// raw keys or key ids; {"ids": [...]} works too. Keys go for good.
func (a *App) apiDeleteKeys(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Keys []string `json:"keys"`
		IDs  []string `json:"ids"`
	}
	if !decodeAPIBody(w, r, &in) {
		return
	}
	field, list := "keys", in.Keys
	switch {
	case in.Keys != nil && in.IDs != nil:
		writeAPIError(w, http.StatusBadRequest, `send "keys" or "ids", not both`)
		return
	case in.IDs != nil:
		field, list = "ids", in.IDs
	}
	ids, ok := idList(w, field, list, `"AIza…" or "k0123456789abcdef"`)
	if !ok {
		return
	}
	res, err := a.vault.Delete(r.Context(), ids)
	a.forgetPruned(res.IDs)
	a.notify()
	if err != nil && res.Deleted == 0 {
		writeOpError(w, err)
		return
	}
	msg := fmt.Sprintf("%d keys deleted", res.Deleted)
	if res.NotFound > 0 {
		msg += fmt.Sprintf(", %d not found", res.NotFound)
	}
	if res.Pending > 0 {
		msg += fmt.Sprintf(", %d pending (%s)", res.Pending, res.Error)
	}
	writeAPIJSON(w, http.StatusOK, struct {
		Message string `json:"message"`
		DeleteResult
	}{msg, res})
}

// --- one key: patch, reveal -----------------------------------------------------

func (a *App) apiPatchKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in struct {
		Label   *string `json:"label"`
		Enabled *bool   `json:"enabled"`
	}
	if !decodeAPIBody(w, r, &in) {
		return
	}
	if in.Label == nil && in.Enabled == nil {
		writeAPIError(w, http.StatusBadRequest, `nothing to change: send "label" and/or "enabled"`)
		return
	}
	if in.Label != nil && len(strings.TrimSpace(*in.Label)) > maxLabel {
		writeAPIError(w, http.StatusBadRequest, "label too long (%d bytes, at most %d)", len(strings.TrimSpace(*in.Label)), maxLabel)
		return
	}
	ctx := r.Context()
	if _, err := a.vault.Get(ctx, id); err != nil {
		writeOpError(w, err)
		return
	}
	// enabled first: it is the change that can be refused (the key's
	// state), and then nothing has been applied.
	if in.Enabled != nil {
		if err := a.vault.SetEnabled(ctx, id, *in.Enabled); err != nil {
			writeOpError(w, err)
			return
		}
	}
	if in.Label != nil {
		if err := a.vault.SetLabel(ctx, id, *in.Label); err != nil {
			writeOpError(w, err)
			return
		}
	}
	a.notify()
	k, err := a.vault.Get(ctx, id)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, itemOf(k))
}

func (a *App) apiRevealKey(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	raw, err := a.vault.Reveal(r.Context(), id)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, struct {
		ID      string `json:"id"`
		Key     string `json:"key"`
		Preview string `json:"preview"`
	}{id, raw, apikey.Mask(raw)})
}

// --- export -------------------------------------------------------------------

// exportWarning is sent with every export.
const exportWarning = "This file holds your Gemini API keys in plain text. Keep it private and delete it when you no longer need it."

func (a *App) apiExport(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	text, err := a.vault.Export(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	name := "gemini-api-keys-" + time.Now().Format("20060102-150405") + ".txt"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Warning", exportWarning)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
}

// --- check ----------------------------------------------------------------------

// apiOutcome is one key's check result as the API shows it.
type apiOutcome struct {
	ID      string      `json:"id"`
	Preview string      `json:"preview"`
	Result  CheckResult `json:"result"`
	Reason  string      `json:"reason,omitempty"`
	Status  string      `json:"status"`
}

// seedOutcome is one entry of the seed's check answer.
type seedOutcome struct {
	// Key is the masked key (the seed sent it in clear).
	Key string `json:"key"`
	ID  string `json:"id,omitempty"`
	// Valid: the key works (ok, or rate limited).
	Valid bool `json:"valid"`
	// Error says why not (null when valid).
	Error  *string     `json:"error"`
	Result CheckResult `json:"result"`
	Status string      `json:"status,omitempty"`
}

// resultNotStored marks, in a seed check answer, a key that is not stored.
const resultNotStored CheckResult = "not_stored"

func (a *App) apiOutcomes(ctx context.Context, os []CheckOutcome) []apiOutcome {
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
func (a *App) apiStartCheck(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs  []string `json:"ids"`
		Keys []string `json:"keys"`
		Wait bool     `json:"wait"`
	}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	if in.IDs != nil && in.Keys != nil {
		writeAPIError(w, http.StatusBadRequest, `send "ids" or "keys", not both (or neither, to check every key)`)
		return
	}
	if in.Keys != nil {
		a.seedCheck(w, r, in.Keys)
		return
	}
	var ids []string
	if in.IDs != nil {
		var ok bool
		if ids, ok = idList(w, "ids", in.IDs, `"k0123456789abcdef"`); !ok {
			return
		}
		if !a.knownIDs(w, r, ids) {
			return
		}
	}
	t, err := a.startCheck(ids)
	if err != nil {
		writeOpError(w, err)
		return
	}
	if !in.Wait {
		j, _ := a.checkResults(t)
		writeAPIJSON(w, http.StatusAccepted, checkAnswer{CheckJob: j})
		return
	}
	if !a.waitCheck(r.Context(), t) {
		return // the client went away; the job goes on
	}
	j, os := a.checkResults(t)
	writeAPIJSON(w, http.StatusOK, checkAnswer{CheckJob: j, Results: a.apiOutcomes(r.Context(), os)})
}

// seedCheck is the seed's POST /api/keys/check {"keys": [...]}: it checks
// the stored keys among them and answers one entry per key, in order,
// when done. Keys that are not stored are reported, not checked.
func (a *App) seedCheck(w http.ResponseWriter, r *http.Request, keys []string) {
	if !checkListSize(w, "keys", keys, `"AIza…"`) {
		return
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
		refusedRefs(w, "keys", bad)
		return
	}
	ctx := r.Context()
	stored := a.previews(ctx, ids)
	var check []string
	for _, id := range uniq(ids) {
		if _, ok := stored[id]; ok {
			check = append(check, id)
		}
	}
	byID := map[string]CheckOutcome{}
	if len(check) > 0 {
		t, err := a.startCheck(check)
		if err != nil {
			writeOpError(w, err)
			return
		}
		if !a.waitCheck(ctx, t) {
			return
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
			o.Result = ResultSkipped
			o.Error = ptrTo("not checked (the check was canceled)")
			o.Status = string(k.Status)
		default:
			o.Result, o.Status = oc.Result, oc.Status
			o.Valid = oc.Result == ResultOK || oc.Result == ResultRateLimited
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
	writeAPIJSON(w, http.StatusOK, out)
}

func ptrTo[T any](v T) *T { return &v }

// apiCheckStatus answers the latest check's state; ?results=true adds the
// outcomes so far.
func (a *App) apiCheckStatus(w http.ResponseWriter, r *http.Request) {
	withResults := false
	if s := r.URL.Query().Get("results"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "results=%q: use true or false", s)
			return
		}
		withResults = b
	}
	t := a.latestCheck()
	if t == nil {
		writeAPIJSON(w, http.StatusOK, checkAnswer{CheckJob: a.CheckStatus()})
		return
	}
	j, os := a.checkResults(t)
	ans := checkAnswer{CheckJob: j}
	if withResults {
		ans.Results = a.apiOutcomes(r.Context(), os)
		if ans.Results == nil {
			ans.Results = []apiOutcome{}
		}
	}
	writeAPIJSON(w, http.StatusOK, ans)
}

// apiCancelCheck stops the running check. The answer says whether one was
// running; the job shows "canceled" once its checks in flight stopped.
func (a *App) apiCancelCheck(w http.ResponseWriter, r *http.Request) {
	canceled := a.CancelCheck()
	writeAPIJSON(w, http.StatusOK, struct {
		Canceled bool     `json:"canceled"`
		Check    CheckJob `json:"check"`
	}{canceled, a.CheckStatus()})
}

// --- prune, restore, purge --------------------------------------------------------

func (a *App) apiPrune(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	res, err := a.PruneDead(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, res)
}

// apiRestore brings quarantined keys back: {"ids": [...]}, {"all": true}
// for every quarantined key, or no body for the keys of the last prune.
func (a *App) apiRestore(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	ctx := r.Context()
	var keys []KeyInfo
	var err error
	switch {
	case in.IDs != nil && in.All:
		writeAPIError(w, http.StatusBadRequest, `send "ids" or "all", not both`)
		return
	case in.IDs != nil:
		ids, ok := idList(w, "ids", in.IDs, `"k0123456789abcdef"`)
		if !ok {
			return
		}
		if !a.knownIDs(w, r, ids) {
			return
		}
		keys, err = a.RestoreKeys(ctx, ids)
	case in.All:
		var ids []string
		if ids, err = a.store.QuarantinedBefore(ctx, time.Unix(1<<40, 0)); err == nil {
			keys, err = a.RestoreKeys(ctx, ids)
		}
	default:
		keys, err = a.RestoreLastPrune(ctx)
	}
	if err != nil && len(keys) == 0 {
		writeOpError(w, err)
		return
	}
	ans := struct {
		Restored int       `json:"restored"`
		Keys     []KeyInfo `json:"keys"`
		Error    string    `json:"error,omitempty"`
	}{Restored: len(keys), Keys: keys}
	if ans.Keys == nil {
		ans.Keys = []KeyInfo{}
	}
	if err != nil {
		ans.Error = err.Error()
	}
	writeAPIJSON(w, http.StatusOK, ans)
}

// apiPurge deletes quarantined keys for good: {"ids": [...]}, or every
// quarantined key without a body.
func (a *App) apiPurge(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []string `json:"ids"`
	}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	var ids []string
	if in.IDs != nil {
		var ok bool
		if ids, ok = idList(w, "ids", in.IDs, `"k0123456789abcdef"`); !ok {
			return
		}
	}
	res, err := a.PurgeQuarantined(r.Context(), ids)
	if err != nil && res.Deleted == 0 {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, res)
}

// --- statistics and request log (see stats.go) -------------------------------------

// writeAnswer writes v, or the error of the operation that made it.
func writeAnswer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, v)
}

// apiStats sums usage since ?since= (default 24h), grouped by=key, model
// (default) or key_model.
func (a *App) apiStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ans, err := a.StatsTotals(r.Context(), q.Get("by"), q.Get("since"))
	writeAnswer(w, ans, err)
}

// apiSeries returns a time series for charts: ?resolution=minute (default;
// up to 24h back, default 1h) or hour (up to 30 days, default 24h),
// ?since=, ?until= (RFC 3339), ?key= (a key id), ?model=.
func (a *App) apiSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ans, err := a.StatsSeries(r.Context(), SeriesQuery{
		Resolution: q.Get("resolution"), Since: q.Get("since"), Until: q.Get("until"), KeyID: q.Get("key"), Model: q.Get("model"),
	})
	writeAnswer(w, ans, err)
}

// apiToday returns today's request count per (key, model) in the free-tier
// day (midnight to midnight, US Pacific).
func (a *App) apiToday(w http.ResponseWriter, r *http.Request) {
	ans, err := a.StatsToday(r.Context())
	writeAnswer(w, ans, err)
}

// apiLog returns a page of the request log, newest first: ?offset=&limit=
// (≤ 1000), ?key= (id), ?model=, ?class=.
func (a *App) apiLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, limit, ok := queryPage(w, q)
	if !ok {
		return
	}
	ans, err := a.RequestLog(r.Context(), LogQuery{KeyID: q.Get("key"), Model: q.Get("model"), Class: q.Get("class"), Offset: offset, Limit: limit})
	writeAnswer(w, ans, err)
}

func (a *App) apiWipeLog(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	n, err := a.WipeLog(r.Context())
	writeAnswer(w, map[string]int{"deleted": n}, err)
}

// --- pool ---------------------------------------------------------------------------

// apiPool is the running pool's view of every key: disabled (and why),
// cooling down for which models until when, last used. Keys masked.
func (a *App) apiPool(w http.ResponseWriter, r *http.Request) {
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
	writeAPIJSON(w, http.StatusOK, struct {
		Counts keypool.Counts `json:"counts"`
		Keys   []key          `json:"keys"`
	}{a.pool.Counts(), out})
}

// --- settings -----------------------------------------------------------------------

// settingsView is the settings as the API shows them: the admin password
// is write-only (the app keeps only its hash).
func settingsView(s Settings) Settings {
	s.AdminPassword = ""
	return s
}

// settingsAnswer is the answer of every settings change.
type settingsAnswer struct {
	SettingsChange
	// AdminPasswordChanged: every other session was logged out.
	AdminPasswordChanged bool `json:"adminPasswordChanged,omitempty"`
}

func (a *App) apiGetSettings(w http.ResponseWriter, r *http.Request) {
	writeAPIJSON(w, http.StatusOK, settingsView(a.Settings()))
}

// settingsFields are the JSON names of the settings fields.
func settingsFields() []string {
	b, _ := json.Marshal(DefaultSettings())
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// readSettingsBody reads a JSON object body and returns its fields.
func readSettingsBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, []byte, bool) {
	var raw json.RawMessage
	if !decodeAPIBody(w, r, &raw) {
		return nil, nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		writeAPIError(w, http.StatusBadRequest, "send the settings as a JSON object")
		return nil, nil, false
	}
	return fields, raw, true
}

// strictInto decodes data into v, refusing unknown fields and wrong types,
// with a message that names the problem.
func strictInto(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("field %q must be %s, not %s", te.Field, te.Type.String(), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// apiPutSettings replaces the settings with a full object (every field;
// "adminPassword" may be left out or empty to keep it).
func (a *App) apiPutSettings(w http.ResponseWriter, r *http.Request) {
	fields, raw, ok := readSettingsBody(w, r)
	if !ok {
		return
	}
	var missing []string
	for _, f := range settingsFields() {
		if _, ok := fields[f]; !ok && f != "adminPassword" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		writeAPIError(w, http.StatusBadRequest, "PUT needs the full settings object; missing: %s (use PATCH to change some fields)", strings.Join(missing, ", "))
		return
	}
	a.applySettingsRequest(w, r, func(s *Settings) error {
		var next Settings
		if err := strictInto(raw, &next); err != nil {
			return &InvalidSettingsError{Err: err}
		}
		*s = next
		return nil
	})
}

// apiPatchSettings changes the fields sent and keeps the others.
func (a *App) apiPatchSettings(w http.ResponseWriter, r *http.Request) {
	fields, raw, ok := readSettingsBody(w, r)
	if !ok {
		return
	}
	if len(fields) == 0 {
		writeAPIError(w, http.StatusBadRequest, "nothing to change: send the fields to change")
		return
	}
	a.applySettingsRequest(w, r, func(s *Settings) error {
		// Maps and lists sent replace the old ones rather than merge.
		if _, ok := fields["aliases"]; ok {
			s.Aliases = nil
		}
		if _, ok := fields["allowedHosts"]; ok {
			s.AllowedHosts = nil
		}
		if err := strictInto(raw, s); err != nil {
			return &InvalidSettingsError{Err: err}
		}
		return nil
	})
}

// applySettingsRequest applies edit to the settings in force, atomically,
// for a request: 400 with the message when the result is invalid. An empty
// admin password keeps the old one. A changed admin password logs every
// session out except the caller's (a browser gets a fresh session cookie).
func (a *App) applySettingsRequest(w http.ResponseWriter, r *http.Request, edit func(*Settings) error) {
	newPassword := false
	_, ch, err := a.EditSettings(r.Context(), func(s *Settings) error {
		if err := edit(s); err != nil {
			return err
		}
		newPassword = s.AdminPassword != ""
		return nil
	})
	if err != nil {
		writeOpError(w, err)
		return
	}
	ans := settingsAnswer{SettingsChange: ch}
	if newPassword {
		a.keepOnlyCaller(w, r)
		ans.AdminPasswordChanged = true
	}
	ans.Settings = settingsView(ans.Settings)
	writeAPIJSON(w, http.StatusOK, ans)
}

// keepOnlyCaller drops every admin session; a caller logged in by cookie
// gets a new session so that the browser that made the change stays
// logged in. Bearer callers must use the new password from now on.
func (a *App) keepOnlyCaller(w http.ResponseWriter, r *http.Request) {
	_, cookieErr := r.Cookie(sessionCookie)
	byCookie := r.Header.Get("Authorization") == "" && cookieErr == nil
	a.sessions.dropAll()
	if byCookie {
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: a.sessions.create(), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second),
		})
	}
}

func (a *App) apiRegenerateAccessKey(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	k, err := a.RegenerateAccessKey(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeAPIJSON(w, http.StatusOK, map[string]string{"accessKey": k})
}

// apiRegenerateAdminPassword makes a new random admin password and answers
// it (once). Every session is logged out except the caller's browser.
func (a *App) apiRegenerateAdminPassword(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decodeOptionalBody(w, r, &in) {
		return
	}
	pw, err := a.ResetAdminPassword(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	a.keepOnlyCaller(w, r)
	writeAPIJSON(w, http.StatusOK, map[string]any{"adminPassword": pw, "sessionsDropped": true})
}
