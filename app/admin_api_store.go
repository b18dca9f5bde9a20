package app

import (
	"errors"
	"net/http"
)

// The secret store routes of the management API:
//
//	GET  /api/secret-store        where the keys are kept, how safe that is
//	POST /api/secret-store/move   {"to": "keychain"|"file", "passphrase"?: "..."} → {"copied", "missing", "store"}
//	POST /api/settings/admin-password  (admin_api.go) sets a new random admin password and answers it once
func (a *App) secretStoreRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/secret-store", a.authed(a.apiSecretStore))
	mux.HandleFunc("POST /api/secret-store/move", a.authed(a.apiMoveSecretStore))
}

func (a *App) apiSecretStore(w http.ResponseWriter, r *http.Request) {
	writeAPIJSON(w, http.StatusOK, a.SecretStore())
}

func (a *App) apiMoveSecretStore(w http.ResponseWriter, r *http.Request) {
	var in MoveRequest
	if !decodeAPIBody(w, r, &in) {
		return
	}
	res, err := a.MoveSecretStore(r.Context(), in)
	if errors.Is(err, ErrMoveRefused) {
		writeAPIError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err != nil {
		writeAPIError(w, http.StatusServiceUnavailable, "%v; the keys stay where they were", err)
		return
	}
	writeAPIJSON(w, http.StatusOK, res)
}
