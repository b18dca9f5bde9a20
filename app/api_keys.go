package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
	"github.com/gemini-balance/desktop/proxy/apikey"
)

// The management API's key routes: list, get, add (the seed's list, pasted
// text, an uploaded file), delete, edit, reveal, export. Keys in answers
// are masked, except for an explicit reveal or export.
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

// refusedRefs is the 400 listing entries that are not keys or ids.
func refusedRefs(field string, bad []badRef) error {
	first := bad[0]
	return fieldError(field, "%d entries of %q are not usable (first: #%d %q, %s); nothing was changed", len(bad), field, first.Index, first.Text, first.Reason).
		with("bad", bad[:min(len(bad), maxListed)])
}

// checkListSize refuses a missing, empty or oversize list of keys or ids.
func checkListSize(field string, list []string, example string) error {
	switch {
	case list == nil:
		return fieldError(field, "%q is required: send {%q: [%s]}", field, field, example)
	case len(list) == 0:
		return fieldError(field, "%q is empty: send at least one entry", field)
	case len(list) > maxKeysPerRequest:
		return fieldError(field, "%q has %d entries; at most %d are accepted per request (split the list); nothing was changed", field, len(list), maxKeysPerRequest)
	}
	return nil
}

// idList checks the size of a list of key ids (or raw keys, see
// resolveRefs) sent as field and resolves it to key ids.
func idList(field string, list []string, example string) ([]string, error) {
	if err := checkListSize(field, list, example); err != nil {
		return nil, err
	}
	ids, bad := resolveRefs(list)
	if len(bad) > 0 {
		return nil, refusedRefs(field, bad)
	}
	return ids, nil
}

// knownIDs is a 400 when some ids name no stored key.
func (a *App) knownIDs(ctx context.Context, field string, ids []string) error {
	have, err := a.vault.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range ids {
		if _, ok := have[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fieldError(field, "%d of the %d keys are not stored (first: %s); nothing was done", len(missing), len(ids), missing[0]).
		with("unknown", missing[:min(len(missing), maxListed)])
}

// previews returns the masked preview, label and status of each id that
// is stored (none when the store cannot be read: previews only decorate).
func (a *App) previews(ctx context.Context, ids []string) map[string]vault.KeyInfo {
	keys, err := a.vault.GetMany(ctx, ids)
	if err != nil {
		a.log.Warn("looking up key previews", "err", err)
	}
	return keys
}

// --- list, get -----------------------------------------------------------------

// apiKeyItem is a key in GET /api/keys: our fields plus the seed's.
type apiKeyItem struct {
	vault.KeyInfo
	// APIKey is the seed's field: here the masked key.
	APIKey string `json:"api_key"`
	// KeyGroup is the seed's "normal" (usable) or "abnormal".
	KeyGroup string `json:"key_group"`
	// LastCheckedMS is the seed's last check time, ms since 1970, or null.
	LastCheckedMS *int64 `json:"last_checked_at"`
	// FailedCount is the seed's failure counter.
	FailedCount int64 `json:"failed_count"`
}

func itemOf(k vault.KeyInfo) apiKeyItem {
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

// keyQuery reads the list query: ?status= (comma-separated, repeatable),
// ?search=, ?sort=, ?desc=, and the page.
func keyQuery(r *http.Request) (vault.KeyQuery, error) {
	q := r.URL.Query()
	var kq vault.KeyQuery
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
				return kq, fieldError("status", "status=%q: use one or more (comma-separated) of %s, dead", st, joinStatuses(keyStatuses))
			}
		}
	}
	kq.Search = q.Get("search")
	if s := q.Get("sort"); s != "" {
		if !slices.Contains(keySorts, s) {
			return kq, fieldError("sort", "sort=%q: use one of %s", s, strings.Join(keySorts, ", "))
		}
		kq.Sort = s
	}
	var err error
	if kq.Desc, err = queryBool(q, "desc"); err != nil {
		return kq, err
	}
	kq.Offset, kq.Limit, err = queryPage(q)
	return kq, err
}

func (a *App) apiListKeys(w http.ResponseWriter, r *http.Request) error {
	kq, err := keyQuery(r)
	if err != nil {
		return err
	}
	list, err := a.ListKeys(r.Context(), kq)
	if err != nil {
		return err
	}
	items := make([]apiKeyItem, len(list.Keys))
	for i, k := range list.Keys {
		items[i] = itemOf(k)
	}
	return answer(w, struct {
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

func (a *App) apiGetKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.GetKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return answer(w, itemOf(k))
}

// --- add -------------------------------------------------------------------------

// addAnswer is the answer of every add route.
type addAnswer struct {
	// Message is the seed's field: a one-line summary.
	Message string `json:"message"`
	vault.AddResult
}

// addText adds the keys found in text (sent as field) and answers. Nothing
// is stored when the text holds more than maxKeysPerRequest keys or none
// at all.
func (a *App) addText(w http.ResponseWriter, r *http.Request, field, text string) error {
	ext := apikey.Extract(text)
	if len(ext.Keys) > maxKeysPerRequest {
		return fieldError(field, "the text holds %d keys; at most %d are accepted per request (split it); nothing was added", len(ext.Keys), maxKeysPerRequest)
	}
	if len(ext.Keys) == 0 {
		msg := "no API key found in the text (a key is AIza followed by 35 letters, digits, - or _)"
		if len(ext.Malformed) > 0 {
			m := ext.Malformed[0]
			msg = fmt.Sprintf("no valid API key found; %d tokens look like broken keys (first: line %d %q, %s)", len(ext.Malformed), m.Line, m.Text, m.Reason)
		}
		return fieldError(field, "%s", msg).with("malformed", append([]apikey.Malformed{}, ext.Malformed...))
	}
	res, err := a.addExtracted(r.Context(), ext)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%d keys added, %d already present", res.Added, res.Existing)
	if n := len(res.Malformed); n > 0 {
		msg += fmt.Sprintf(", %d malformed", n)
	}
	if res.Failed > 0 {
		msg += fmt.Sprintf(", %d could not be stored: %s", res.Failed, res.Error)
	}
	return answer(w, addAnswer{Message: msg, AddResult: res})
}

// apiAddKeys is the seed's POST /api/keys {"keys": [...]}. Every entry must
// be a key: a list with anything else is refused whole.
func (a *App) apiAddKeys(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Keys []string `json:"keys"`
	}
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	if err := checkListSize("keys", in.Keys, `"AIza…"`); err != nil {
		return err
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
		return refusedRefs("keys", bad)
	}
	return a.addText(w, r, "keys", strings.Join(in.Keys, "\n"))
}

// apiBulkAdd adds the keys found in pasted text: {"text": "..."}.
func (a *App) apiBulkAdd(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Text *string `json:"text"`
	}
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	if in.Text == nil {
		return fieldError("text", `"text" is required: send {"text": "<pasted keys>"}`)
	}
	if strings.TrimSpace(*in.Text) == "" {
		return fieldError("text", `"text" is empty`)
	}
	return a.addText(w, r, "text", *in.Text)
}

// apiImport adds the keys found in an uploaded file: multipart/form-data
// (the first file part, or the field "file"), or the body itself as
// text/plain.
func (a *App) apiImport(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return httpError(http.StatusUnsupportedMediaType, "Content-Type %q cannot be parsed; send multipart/form-data with a file, or text/plain", ct)
	}
	var data []byte
	switch {
	case mt == "multipart/form-data":
		if data, err = uploadedFile(w, r); err != nil {
			return err
		}
	case mt == "" || strings.HasPrefix(mt, "text/") || mt == "application/octet-stream":
		if data, err = readOptionalBody(w, r); err != nil {
			return err
		}
	default:
		return httpError(http.StatusUnsupportedMediaType, "Content-Type %q: send multipart/form-data with a file, or the file itself as text/plain (JSON goes to POST /api/keys/bulk)", mt)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fieldError("file", "the file is empty")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return fieldError("file", "the file is not a text file; export your keys as text (one per line, or any list)")
	}
	return a.addText(w, r, "file", string(data))
}

// uploadedFile reads the file of a multipart/form-data body.
func uploadedFile(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := func(err error, what string) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpError(http.StatusRequestEntityTooLarge, "the upload is larger than %d MiB", maxAPIBody>>20)
		}
		return httpError(http.StatusBadRequest, "%s: %v", what, err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, httpError(http.StatusBadRequest, "malformed multipart body: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, fieldError("file", `no file in the form: send the file in the field "file"`)
		}
		if err != nil {
			return nil, tooLarge(err, "malformed multipart body")
		}
		if p.FileName() == "" && p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, tooLarge(err, "could not read the uploaded file")
		}
		return data, nil
	}
}

// --- delete, edit, reveal ------------------------------------------------------------

// apiDeleteKeys is the seed's DELETE /api/keys {"keys": [...]}: entries are
// raw keys or key ids; {"ids": [...]} works too. Keys go for good.
func (a *App) apiDeleteKeys(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Keys []string `json:"keys"`
		IDs  []string `json:"ids"`
	}
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	field, list := "keys", in.Keys
	switch {
	case in.Keys != nil && in.IDs != nil:
		return fieldError("ids", `send "keys" or "ids", not both`)
	case in.IDs != nil:
		field, list = "ids", in.IDs
	}
	ids, err := idList(field, list, `"AIza…" or "k0123456789abcdef"`)
	if err != nil {
		return err
	}
	res, err := a.DeleteKeys(r.Context(), ids)
	if err != nil && res.Deleted == 0 {
		return err
	}
	msg := fmt.Sprintf("%d keys deleted", res.Deleted)
	if res.NotFound > 0 {
		msg += fmt.Sprintf(", %d not found", res.NotFound)
	}
	if res.Pending > 0 {
		msg += fmt.Sprintf(", %d pending (%s)", res.Pending, res.Error)
	}
	return answer(w, struct {
		Message string `json:"message"`
		vault.DeleteResult
	}{msg, res})
}

func (a *App) apiPatchKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Label   *string `json:"label"`
		Enabled *bool   `json:"enabled"`
	}
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	if in.Label == nil && in.Enabled == nil {
		return httpError(http.StatusBadRequest, `nothing to change: send "label" and/or "enabled"`)
	}
	if in.Label != nil && len(strings.TrimSpace(*in.Label)) > vault.MaxLabel {
		return fieldError("label", "label too long (%d bytes, at most %d)", len(strings.TrimSpace(*in.Label)), vault.MaxLabel)
	}
	k, err := a.UpdateKey(r.Context(), r.PathValue("id"), KeyChange{Label: in.Label, Enabled: in.Enabled})
	if err != nil {
		return err
	}
	return answer(w, itemOf(k))
}

func (a *App) apiRevealKey(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	raw, err := a.RevealKey(r.Context(), id)
	if err != nil {
		return err
	}
	return answer(w, struct {
		ID      string `json:"id"`
		Key     string `json:"key"`
		Preview string `json:"preview"`
	}{id, raw, apikey.Mask(raw)})
}

// --- export ---------------------------------------------------------------------------

// exportWarning is sent with every export.
const exportWarning = "This file holds your Gemini API keys in plain text. Keep it private and delete it when you no longer need it."

// apiExport answers every usable key, one per line, as a download.
func (a *App) apiExport(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	text, err := a.ExportKeys(r.Context())
	if err != nil {
		return err
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
	return nil
}

// apiExportFile (the window only: a webview cannot download) writes the
// export to a file the user picks in the save dialog and answers its path
// ("" when the user canceled).
func (a *App) apiExportFile(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	path, err := a.ExportKeysToFile(r.Context())
	if err != nil {
		return err
	}
	return answer(w, map[string]string{"path": path, "warning": exportWarning})
}
