// Package proxy is the Gemini API load balancer: an HTTP server, meant for
// 127.0.0.1, that accepts the native Gemini REST API, the OpenAI Chat and
// Responses APIs and the Anthropic Messages API, and forwards every request
// upstream with a key from the pool.
//
// A request passes the Host check, the CORS handling, the body limit and the
// access-key check, then one attempt loop (exchange) picks a key, calls
// Google, classifies the answer with gemini.Classify, reports it to the pool
// and retries on another key while nothing has reached the client yet.
// Each client API is a dialect (dialect.go: how it reads its request and
// writes the proxy's own errors, Google's errors and a broken stream),
// chosen once per request; the attempt loop, pool, statistics and logs are
// shared by all of them.
//
// The package knows nothing of the desktop shell or of storage: the app gives
// it a key pool, a Recorder for finished requests and an http.Handler for the
// management API and UI. It builds with CGO_ENABLED=0.
package proxy
