package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gemini-balance/desktop/app/keychain"
	"github.com/gemini-balance/desktop/app/store"
	"github.com/gemini-balance/desktop/app/vault"
)

// The management API's plumbing: handlers return an error, and one
// adapter (serveAPI) writes it. The routes live in api_keys.go,
// api_checks.go, api_stats.go and api_settings.go; authentication and the
// window's in-process way in in admin.go.
//
// Every answer is JSON. An error answer is
//
//	{"error": "<message>", "field": "<JSON name of the field it is about>", …}
//
// where "field" is there for validation errors only, and some errors add
// the entries they refused ("malformed", "bad", "unknown").

// apiFunc is a management API handler: it writes a successful answer
// itself and returns an error for serveAPI to write.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// HTTPError is an error with the status the management API answers it
// with and, for a validation error, the request field it is about.
type HTTPError struct {
	Status int
	// Field is the JSON name of the field (or query parameter) at fault.
	Field string
	Err   error
	// Extra are more fields of the answer (lists of refused entries).
	Extra map[string]any
}

func (e *HTTPError) Error() string { return e.Err.Error() }
func (e *HTTPError) Unwrap() error { return e.Err }

// httpError is an HTTPError with a formatted message.
func httpError(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Err: fmt.Errorf(format, args...)}
}

// fieldError is a 400 about one field.
func fieldError(field, format string, args ...any) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Field: field, Err: fmt.Errorf(format, args...)}
}

// with adds an entry to the answer.
func (e *HTTPError) with(name string, v any) *HTTPError {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[name] = v
	return e
}

// asHTTPError maps an error of an App operation to its answer. Error texts
// never hold a key (the vault and the store see to that).
func asHTTPError(err error) *HTTPError {
	var he *HTTPError
	var qe *QueryError
	var ie *InvalidSettingsError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ie):
		return &HTTPError{Status: http.StatusBadRequest, Field: ie.Field, Err: err}
	case errors.As(err, &qe):
		return &HTTPError{Status: http.StatusBadRequest, Field: qe.Param, Err: err}
	case errors.Is(err, vault.ErrKeyNotFound):
		return httpError(http.StatusNotFound, "no such key")
	case errors.Is(err, vault.ErrKeyState), errors.Is(err, ErrCheckRunning), errors.Is(err, ErrNothingToRestore):
		return &HTTPError{Status: http.StatusConflict, Err: err}
	case errors.Is(err, keychain.ErrNotFound):
		return httpError(http.StatusConflict, "the keychain has no secret for this key (shown as \"secret missing\"); add the key again")
	case errors.Is(err, keychain.ErrUnavailable):
		return httpError(http.StatusServiceUnavailable, "%s", vault.KeychainProblem(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return httpError(http.StatusServiceUnavailable, "the operation was interrupted: %v", err)
	}
	return &HTTPError{Status: http.StatusInternalServerError, Err: err}
}

// writeAPIError writes err as the API's error answer.
func writeAPIError(w http.ResponseWriter, err error) {
	he := asHTTPError(err)
	body := make(map[string]any, len(he.Extra)+2)
	for k, v := range he.Extra {
		body[k] = v
	}
	body["error"] = he.Error()
	if he.Field != "" {
		body["field"] = he.Field
	}
	writeAPIJSON(w, he.Status, body)
}

// serveAPI adapts h: the error it returns is written as the answer.
func serveAPI(h apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeAPIError(w, err)
		}
	}
}

func writeAPIJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// answer writes v with status 200.
func answer(w http.ResponseWriter, v any) error {
	writeAPIJSON(w, http.StatusOK, v)
	return nil
}

// answerOr writes v, or returns the error of the operation that made it.
func answerOr(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	return answer(w, v)
}

// bodyTooLarge is the answer to a body over maxAPIBody.
func bodyTooLarge() *HTTPError {
	return httpError(http.StatusRequestEntityTooLarge, "request body is larger than %d MiB", maxAPIBody>>20)
}

// decodeAPIBody reads a JSON body strictly: unknown fields, trailing data,
// wrong types and oversize bodies are a 400/413 with a message that names
// the problem (and the field, where there is one).
func decodeAPIBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge()
		}
		if errors.Is(err, io.EOF) {
			return httpError(http.StatusBadRequest, "request body is empty; send JSON")
		}
		return jsonError(err)
	}
	if dec.More() {
		return httpError(http.StatusBadRequest, "unexpected data after the JSON value")
	}
	return nil
}

// jsonError is the 400 for a JSON decoding error.
func jsonError(err error) *HTTPError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fieldError(te.Field, "field %q must be %s, not %s", te.Field, te.Type.String(), te.Value)
	case errors.As(err, &se):
		return httpError(http.StatusBadRequest, "malformed JSON at byte %d: %v", se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fieldError(name, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return httpError(http.StatusBadRequest, "invalid JSON: %v", err)
}

// readOptionalBody reads a request body that may be absent: nil when empty
// or only whitespace.
func readOptionalBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, bodyTooLarge()
		}
		return nil, httpError(http.StatusBadRequest, "could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// decodeOptionalBody decodes a JSON body strictly (see decodeAPIBody) when
// there is one; an empty body leaves v alone.
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readOptionalBody(w, r)
	if err != nil || b == nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeAPIBody(w, r, v)
}

// noBody accepts an empty body or {}.
func noBody(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	return decodeOptionalBody(w, r, &in)
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fieldError(name, "query parameter %s=%q: use a whole number from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// queryBool parses an optional true/false query parameter.
func queryBool(q url.Values, name string) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fieldError(name, "%s=%q: use true or false", name, s)
	}
	return b, nil
}

// queryPage reads offset and limit (or the seed's page and pageSize).
func queryPage(q url.Values) (offset, limit int, err error) {
	if limit, err = queryInt(q, "limit", store.DefaultPageSize, 1, store.MaxPageSize); err != nil {
		return
	}
	if q.Has("pageSize") {
		if limit, err = queryInt(q, "pageSize", store.DefaultPageSize, 1, store.MaxPageSize); err != nil {
			return
		}
	}
	if offset, err = queryInt(q, "offset", 0, 0, 1<<31-1); err != nil {
		return
	}
	if q.Has("page") {
		var page int
		if page, err = queryInt(q, "page", 1, 1, 1<<31/store.MaxPageSize); err != nil {
			return
		}
		offset = (page - 1) * limit
	}
	return offset, limit, nil
}

// apiRoutes registers the key, check, statistics, log and settings routes
// of the management API.
func (a *App) apiRoutes(mux *http.ServeMux) {
	routes := []struct {
		path     string
		handlers map[string]apiFunc
	}{
		{"/api/keys", map[string]apiFunc{
			http.MethodGet: a.apiListKeys, http.MethodPost: a.apiAddKeys, http.MethodDelete: a.apiDeleteKeys,
		}},
		{"/api/keys/{id}", map[string]apiFunc{
			http.MethodGet: a.apiGetKey, http.MethodPatch: a.apiPatchKey,
		}},
		{"/api/keys/{id}/reveal", map[string]apiFunc{http.MethodPost: a.apiRevealKey}},
		{"/api/keys/check", map[string]apiFunc{
			http.MethodGet: a.apiCheckStatus, http.MethodPost: a.apiStartCheck, http.MethodDelete: a.apiCancelCheck,
		}},
		{"/api/keys/bulk", map[string]apiFunc{http.MethodPost: a.apiBulkAdd}},
		{"/api/keys/import", map[string]apiFunc{http.MethodPost: a.apiImport}},
		{"/api/keys/export", map[string]apiFunc{http.MethodPost: a.apiExport}},
		{"/api/keys/export-file", map[string]apiFunc{http.MethodPost: localOnly(a.apiExportFile)}},
		{"/api/keys/prune", map[string]apiFunc{http.MethodPost: a.apiPrune}},
		{"/api/keys/restore", map[string]apiFunc{http.MethodPost: a.apiRestore}},
		{"/api/keys/purge", map[string]apiFunc{http.MethodPost: a.apiPurge}},
		{"/api/stats", map[string]apiFunc{http.MethodGet: a.apiStats}},
		{"/api/stats/series", map[string]apiFunc{http.MethodGet: a.apiSeries}},
		{"/api/stats/today", map[string]apiFunc{http.MethodGet: a.apiToday}},
		{"/api/log", map[string]apiFunc{http.MethodGet: a.apiLog, http.MethodDelete: a.apiWipeLog}},
		{"/api/pool", map[string]apiFunc{http.MethodGet: a.apiPool}},
		{"/api/server/start", map[string]apiFunc{http.MethodPost: a.apiStartServer}},
		{"/api/settings", map[string]apiFunc{
			http.MethodGet: a.apiGetSettings, http.MethodPut: a.apiPutSettings, http.MethodPatch: a.apiPatchSettings,
		}},
		{"/api/settings/access-key", map[string]apiFunc{http.MethodPost: a.apiRegenerateAccessKey}},
		{"/api/settings/admin-password", map[string]apiFunc{http.MethodPost: a.apiRegenerateAdminPassword}},
		{"/api/secret-store", map[string]apiFunc{http.MethodGet: a.apiSecretStore}},
		{"/api/secret-store/move", map[string]apiFunc{http.MethodPost: a.apiMoveSecretStore}},
		{"/api/test-request", map[string]apiFunc{http.MethodPost: a.apiTestRequest}},
		{"/api/clients", map[string]apiFunc{http.MethodGet: a.apiClients}},
		{"/api/clients/{tool}", map[string]apiFunc{http.MethodGet: a.apiClient}},
		{"/api/clients/{tool}/write", map[string]apiFunc{http.MethodPost: a.apiWriteClient}},
	}
	for _, rt := range routes {
		for method, h := range rt.handlers {
			mux.HandleFunc(method+" "+rt.path, a.authed(serveAPI(h)))
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
		writeAPIError(w, httpError(http.StatusMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
	}
}
