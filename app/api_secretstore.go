package app

import (
	"errors"
	"net/http"
)

// The management API's secret store routes:
//
//	GET  /api/secret-store        where the keys are kept, how safe that is
//	POST /api/secret-store/move   {"to": "keychain"|"file", "passphrase"?: "..."} → {"copied", "missing", "store"}

func (a *App) apiSecretStore(w http.ResponseWriter, r *http.Request) error {
	return answer(w, a.SecretStore())
}

func (a *App) apiMoveSecretStore(w http.ResponseWriter, r *http.Request) error {
	var in MoveRequest
	if err := decodeAPIBody(w, r, &in); err != nil {
		return err
	}
	res, err := a.MoveSecretStore(r.Context(), in)
	if errors.Is(err, ErrMoveRefused) {
		return httpError(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return httpError(http.StatusServiceUnavailable, "%v; the keys stay where they were", err)
	}
	return answer(w, res)
}
