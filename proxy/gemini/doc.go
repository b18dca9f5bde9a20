// Package gemini holds what the proxy knows about Google's Gemini REST API:
// its wire types, its error bodies (APIError, WriteError) and the one place
// that decides what an upstream answer means for a key and a request
// (Classify, ClassifyError).
//
// Classify follows the table in DESIGN §3: invalid or expired keys and keys
// the API refuses are taken out of rotation, daily quotas park a (key,
// model) pair until the next Pacific midnight, rate limits cool it for
// Google's retryDelay, transient failures and empty answers are retried on
// another key, a refused egress location and client errors are answered at
// once. Nothing this package returns or formats contains an API key: every
// upstream text passes through Redact.
package gemini
