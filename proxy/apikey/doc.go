// Package apikey handles Google AI Studio (Gemini) API keys as secrets.
//
// A key is held in a [Secret], which prints masked ("AIza…wxyz") through
// every path that could reach a log line, an error text or a JSON answer:
// fmt (all verbs), log/slog, encoding/json and encoding.TextMarshaler. Only
// [Secret.Reveal] returns the raw key, for the upstream request header and
// the OS keychain. A Secret keeps its key behind a function value, so even a
// struct that holds one in an unexported field prints an address, not the key.
//
// [Mask], [Fingerprint] and [ID] derive the display, comparison and storage
// forms of a key; [Valid] checks the shape ^AIza[0-9A-Za-z_-]{35}$.
//
// [Extract] is the parser behind "bulk add": it finds keys in whatever text a
// person pastes (one per line, comma or space separated, quoted, .env and
// shell assignments, JSON arrays and objects), removes duplicates and reports
// tokens that look like a key but are not one, with their line and a reason.
//
// The package uses the standard library only.
package apikey
