//go:build !desktop

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gemini-balance/desktop/app"
)

// errNoDesktop says the binary has no window: it was built without the
// desktop tag (the headless, CGO_ENABLED=0 build).
var errNoDesktop = errors.New("built without desktop support")

func runDesktop(context.Context, *app.App, bool, *slog.Logger) error { return errNoDesktop }
