// Command bench measures the proxy against a baseline built in the same run
// and prints the ratios the issues set as targets.
//
//	go run ./build/bench            # full run: 3 rounds, a few minutes
//	go run ./build/bench -quick     # one short round, under a minute
//	go run ./build/bench -json      # machine-readable results on stdout
//	go run ./build/bench -strict    # exit 1 when a target is missed
//	go run ./build/bench -only rss  # one part: load, keypool, rss, stats, add, startup, check
//	go run ./build/bench -only vault  # the four parts of issue 4
//	go run ./build/bench -only abuse  # issue 9: oversized image fetch, connection floods
//	go run ./build/bench -only desktop  # issue 7: the window's memory shown and hidden (xvfb-run, dbus-run-session)
//	go run ./build/bench -cpuprofile /tmp/prof   # pprof of each server
//
// Other flags set the counts (-n1, -n64, -nstream, -nrss, -rounds, -c,
// -vault-keys, -reps, -flood, -flood-parallel, -slow-headers),
// the fake (-latency, -events, -interval, -check-latency) and the time limits (-run-timeout,
// -timeout); -baseline-full-duplex lets the baseline call EnableFullDuplex,
// without which httputil.ReverseProxy cuts some SSE streams
// (golang/go#40747); -json-file writes the JSON next to the table.
//
// Three servers run as child processes of this command (it re-executes
// itself with a role argument), so that the CPU time each one spends can be
// read from the process itself (getrusage of the child, asked over its stdin):
//
//	bench serve-fake      the fake Gemini (proxy/proxytest) on loopback
//	bench serve-baseline  httputil.ReverseProxy, a random pool key in
//	                      x-goog-api-key, FlushInterval -1
//	bench serve-proxy     proxy.Server with the same keys in a keypool
//	bench serve-app       the whole app (app.New: SQLite, file secret
//	                      store, the real statistics Recorder) with the
//	                      same keys, the fake as upstream (part "stats")
//
// The load generator runs in this (the parent) process. Every scenario is
// run in rounds; the order of the servers rotates from round to round and
// the median of the per-round figures is reported. Children exit when their
// stdin closes (the parent ended) and, on Linux, by the parent-death signal.
//
// Definitions used in the report:
//   - CPU µs/req: user+system CPU time the server process spent during the
//     measured run divided by the requests it served.
//   - added p99: p99 end-to-end latency through the server minus the p99 of
//     the same load sent straight to the fake in the same round (the fake's
//     own service time plus the client's); the ratio is ours/baseline. For
//     the stream scenario the latency is the time to the first text event.
//   - TTFT: time from sending the request to having received the whole first
//     SSE event that carries text ("chunk 1 "), i.e. the first event of a
//     native stream, the first content chunk of an OpenAI stream, the first
//     response.output_text.delta of a Responses stream (response.created
//     and the item events before it are written together with it).
//   - cut stream: a native stream that ends without its last event (the one
//     with finishReason), an OpenAI stream that ends without data: [DONE] or
//     with an error event, a Responses stream that ends without
//     response.completed or with response.failed, or any stream broken by a
//     transport error.
//
// The OpenAI Chat and Responses scenarios (POST /v1/chat/completions and
// /v1/responses; Responses with input items, store false and include, as
// Codex sends them) run against ours only and are compared with ours' native
// scenario of the same shape in the same round (issue 3 and issue 10: CPU
// per request ≤ 1.5× native, TTFT within 1 ms of native).
//
// The RSS part builds the headless binary (CGO_ENABLED=0 go build .), adds
// the keys with "keys add -" into a file secret store (GBD_PASSPHRASE),
// writes the fake's URL as upstream into the stored settings (the binary
// has no flag for it), runs "serve --addr 127.0.0.1:PORT" and reads VmRSS
// three seconds after start, then resets VmHWM (/proc/PID/clear_refs) and
// reads it again after a concurrency-64 stream run.
//
// The keypool part times Acquire on 10,000 keys with a third cooling, in
// CPU time (best of three), for every strategy.
//
// The parts of issue 4 (the key vault), with -vault-keys keys (1,000):
//   - stats: the app's throughput, native generateContent at the high
//     concurrency, with statistics recording on and off
//     (Recorder.SetEnabled), runs of the two modes alternating each round;
//     the ratio is the median of the per-round on ÷ off throughput. The
//     store's request count is read back afterwards to show that the
//     results were written.
//   - add: Vault.AddBulk of one paste into an empty vault, in this process,
//     with the file secret store (-reps times) and the OS keychain (once;
//     the keys are deleted again and that time is shown too).
//   - startup: the headless binary with the keys stored ("keys add"), from
//     exec of "serve" until a generateContent through it answers 200
//     (polled every 5 ms), -reps times per secret store; the keychain's
//     keys are deleted at the end.
//   - check: App.StartCheck of every key against a second fake that waits
//     -check-latency (100 ms) before every answer, with the check
//     concurrency setting (default 8), until the job is done.
//
// The keychain timings run when a Secret Service answers on the session
// bus, otherwise they are skipped. For a throwaway one (XDG_DATA_HOME
// keeps its keyring file out of your own):
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- sh -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; go run ./build/bench -only vault'
//
// The abuse part (issue 9) runs a proxy child of its own and reads its
// memory from /proc:
//   - 20 key-less connections … at a time: -flood (20,000) connections, at
//     most -flood-parallel (1,024) open at once, each sending a POST head
//     with Content-Length: 100, no key and no body, and holding its side
//     open until the server answers and closes; meanwhile an authenticated
//     generateContent every 50 ms on a kept-alive connection (its max
//     latency is the figure), and the proxy's VmHWM.
//   - -slow-headers (10,000) connections that send a request line and one
//     header and then nothing, held until the server closes them
//     (ReadHeaderTimeout), or sooner when more than 4096 connections are
//     not serving a request (the oldest are closed): peak RSS, how many
//     were closed at once, time until the last closed, probe latency.
//   - a ~1.9 KB /v1/chat/completions with 20 image_url parts pointing at a
//     20 MB file on a loopback server (allowed for the image fetcher with
//     -image-allow): its status and the proxy's RSS growth (VmHWM after −
//     VmRSS before); then the same file without Content-Length.
//
// Only loopback addresses are used; every run is bounded in requests and
// time (the file-descriptor limit bounds the connection counts too).
package main
