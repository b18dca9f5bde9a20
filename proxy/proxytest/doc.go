// Package proxytest is a scripted fake of the Gemini API
// (generativelanguage.googleapis.com) for tests across the repository. It is
// a regular package so that tests of any package, benchmarks and tools can
// use it; production code never imports it.
//
// The fake answers with real captured bodies (testdata/, see
// testdata/SOURCES.md): generateContent, streamGenerateContent (SSE with
// alt=sse, a JSON array without), countTokens, embedContent and
// batchEmbedContents (built per request), the models list (two pages) and
// get, the Files API (resumable upload, get, list, delete) and
// cachedContents. Files and cached contents belong to the key that created
// them; another key gets Google's 403, which lets tests check key affinity.
//
// Keys come from the x-goog-api-key header (or ?key=, which is recorded so
// tests can assert the proxy never puts a key in a URL). Script queues
// answers (Steps) per key; ScriptAll queues answers for any key without its
// own; Always makes a step permanent. Requests records everything.
//
//	fake := proxytest.New(t)
//	fake.Script(key1, proxytest.RateLimited("26s"))
//	fake.ScriptAll(proxytest.Always(proxytest.Unavailable()))
package proxytest
