// Command bench measures the proxy against a baseline built in the same run
// and prints the ratios the issues set as targets.
//
//	go run ./build/bench            # full run: 3 rounds, a few minutes
//	go run ./build/bench -quick     # one short round, under a minute
//	go run ./build/bench -json      # machine-readable results on stdout
//	go run ./build/bench -strict    # exit 1 when a target is missed
//
// Three servers run as child processes of this command (it re-executes
// itself with a role argument), so that the CPU time each one spends can be
// read from the process itself (getrusage of the child, asked over its stdin):
//
//	bench serve-fake      the fake Gemini (proxy/proxytest) on loopback
//	bench serve-baseline  httputil.ReverseProxy, a random pool key in
//	                      x-goog-api-key, FlushInterval -1
//	bench serve-proxy     proxy.Server with the same keys in a keypool
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
//     native stream, the first content chunk of an OpenAI stream.
//   - cut stream: a native stream that ends without its last event (the one
//     with finishReason), an OpenAI stream that ends without data: [DONE] or
//     with an error event, or any stream broken by a transport error.
//
// The RSS part builds the headless binary (CGO_ENABLED=0 go build .), adds
// the keys with a file secret store, points its upstream at the fake and
// reads VmRSS after start and VmHWM after a concurrency-64 stream run.
//
// Only loopback addresses are used; every run is bounded in requests and
// time.
package main
