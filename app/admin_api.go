package app

import "net/http"

// apiRoutes registers the key, check, statistics, log and settings routes
// of the management API.
func (a *App) apiRoutes(mux *http.ServeMux) {}
