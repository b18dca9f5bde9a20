package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets from the issues.
const (
	maxCPURatio       = 1.3  // issue 2: CPU per request, ours ÷ baseline
	maxAddedP99Ratio  = 1.5  // issue 2: added p99 latency, ours ÷ baseline
	maxTTFTDiffMS     = 1.0  // issues 2 and 3: time to first event/chunk
	maxOpenAICPURatio = 1.5  // issue 3: CPU per request, OpenAI ÷ native
	maxPickNS         = 1000 // issue 2: keypool pick
	maxIdleMiB        = 25.0 // issue 2: headless RSS idle
	maxPeakMiB        = 80.0 // issue 2: headless RSS peak under the stream run
	// addedFloorMS is the smallest added latency a ratio divides by: below
	// it, loopback noise would make the ratio meaningless.
	addedFloorMS = 0.05
)

// Report is the command's output.
type Report struct {
	GoVersion     string           `json:"goVersion"`
	GOMAXPROCS    int              `json:"gomaxprocs"`
	NumCPU        int              `json:"numCPU"`
	Quick         bool             `json:"quick"`
	Rounds        int              `json:"rounds"`
	Concurrency   int              `json:"concurrency"`
	Events        int              `json:"streamEvents"`
	IntervalMS    float64          `json:"streamIntervalMs"`
	FakeLatencyMS float64          `json:"fakeLatencyMs"`
	ProxyLog      string           `json:"proxyLog"`
	Scenarios     []ScenarioReport `json:"scenarios"`
	Keypool       []KeypoolResult  `json:"keypool"`
	RSS           *RSSReport       `json:"rss"`
	Vault         *VaultReport     `json:"vault,omitempty"`
	Abuse         *AbuseReport     `json:"abuse,omitempty"`
	Desktop       *DesktopReport   `json:"desktop,omitempty"`
	Checks        []Check          `json:"checks"`
	Passed        int              `json:"passed"`
	Failed        int              `json:"failed"`
	Skipped       int              `json:"skipped"`
	Notes         []string         `json:"notes,omitempty"`
	Definitions   string           `json:"definitions"`

	res *results
}

// ScenarioReport is one load shape with the figures of every server.
type ScenarioReport struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Servers []ServerStats `json:"servers"`
}

// ServerStats are one server's figures in a scenario: sums over the rounds
// for counts, medians of the rounds for the rest.
type ServerStats struct {
	Server      string  `json:"server"` // direct (the fake itself), baseline, ours
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Cut         int     `json:"cutStreams"`
	CPUPerReqUS float64 `json:"cpuUsPerRequest"` // the server process; for direct, the fake
	FakeCPUUS   float64 `json:"fakeCpuUsPerRequest"`
	RPS         float64 `json:"requestsPerSecond"`
	P50MS       float64 `json:"p50Ms"`
	P99MS       float64 `json:"p99Ms"`
	TTFTP50MS   float64 `json:"ttftP50Ms,omitempty"`
	TTFTP99MS   float64 `json:"ttftP99Ms,omitempty"`
	FirstError  string  `json:"firstError,omitempty"`
}

// Check is one target of an issue.
type Check struct {
	Issue  int     `json:"issue"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target"`
	Result string  `json:"result"` // PASS, FAIL, SKIP, INFO (a figure without a target)
	Detail string  `json:"detail,omitempty"`
}

// definitions says what the figures mean (also in the package doc).
const definitions = "CPU µs/req = user+system CPU of the server process during the run ÷ requests (direct: the fake's);" +
	" added p99 = p99 through the server − p99 straight to the fake in the same round (streams: p99 of TTFT);" +
	" TTFT = from sending the request until the first event carrying text is whole;" +
	" cut = a stream that ended without its last event (native: finishReason; OpenAI: data: [DONE]);" +
	" ratios and differences are medians of per-round values; keypool ns = CPU time per pick, best of 3."

// median returns the median of v (the mean of the middle two for an even
// count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// perRound maps f over the runs of one server.
func perRound(runs []*run, f func(*run) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// addScenarios summarises the runs.
func (rep *Report) addScenarios(cfg config, res *results, openAI bool) {
	rep.res = res
	for _, sc := range res.scenarios {
		sr := ScenarioReport{ID: sc.ID, Title: sc.Title}
		for _, name := range []string{"direct", "baseline", "ours"} {
			runs := res.runs[sc.ID][name]
			if len(runs) == 0 {
				continue
			}
			st := ServerStats{Server: name}
			if sc.Kind.openAI() {
				st.Server = "ours/openai"
			}
			if sc.Kind.responses() {
				st.Server = "ours/responses"
			}
			if sc.Kind.anthropic() {
				st.Server = "ours/anthropic"
			}
			for _, r := range runs {
				st.Requests += r.Requests
				st.Errors += r.Errors
				st.Cut += r.Cut
				if st.FirstError == "" {
					st.FirstError = r.FirstError
				}
			}
			st.CPUPerReqUS = median(perRound(runs, (*run).cpuPerReq))
			st.FakeCPUUS = median(perRound(runs, (*run).fakeCPUPerReq))
			if name == "direct" {
				st.CPUPerReqUS = st.FakeCPUUS
			}
			st.RPS = median(perRound(runs, func(r *run) float64 { return float64(r.Requests) / r.Wall.Seconds() }))
			st.P50MS = median(perRound(runs, func(r *run) float64 { return ms(percentile(r.Lat, 50)) }))
			st.P99MS = median(perRound(runs, func(r *run) float64 { return ms(percentile(r.Lat, 99)) }))
			if sc.Kind.stream() {
				st.TTFTP50MS = median(perRound(runs, func(r *run) float64 { return ms(percentile(r.TTFT, 50)) }))
				st.TTFTP99MS = median(perRound(runs, func(r *run) float64 { return ms(percentile(r.TTFT, 99)) }))
			}
			sr.Servers = append(sr.Servers, st)
			if name == "baseline" && st.Cut > 0 && !cfg.fullDuplex {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: the baseline (plain httputil.ReverseProxy) cut %d of %d streams (unexpected EOF): the full-duplex pitfall golang/go#40747; -baseline-full-duplex gives a baseline without it", sc.Title, st.Cut, st.Requests))
			}
		}
		rep.Scenarios = append(rep.Scenarios, sr)
	}
}

// add records a check.
func (rep *Report) add(c Check) {
	switch c.Result {
	case "PASS":
		rep.Passed++
	case "FAIL":
		rep.Failed++
	case "INFO":
	default:
		rep.Skipped++
	}
	rep.Checks = append(rep.Checks, c)
}

// verdict says PASS when ok.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// fmtRounds lists per-round values for a detail line.
func fmtRounds(v []float64, format string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, " ")
}

// check evaluates every target.
func (rep *Report) check(cfg config) {
	if rep.res != nil {
		for _, sc := range rep.res.scenarios {
			if sc.Native == "" {
				rep.checkNative(sc)
			} else {
				rep.checkOpenAI(sc)
			}
		}
		if len(rep.res.scenarios) <= 3 {
			rep.add(Check{Issue: 3, Name: "OpenAI chat and stream vs native", Result: "SKIP", Detail: "OpenAI routes not answering (see notes)"})
		}
	}
	for _, k := range rep.Keypool {
		rep.add(Check{
			Issue: 2, Name: "keypool pick, " + k.Name, Value: k.NsPerOp, Unit: "ns",
			Target: fmt.Sprintf("≤ %d ns, 0 allocs", maxPickNS), Result: verdict(k.NsPerOp <= maxPickNS && k.AllocsPerOp == 0),
			Detail: fmt.Sprintf("CPU time per pick; wall %.0f ns; %d allocs/op, %d B/op", k.WallNsPerOp, k.AllocsPerOp, k.BytesPerOp),
		})
	}
	rep.checkRSS(cfg)
	rep.checkVault(cfg)
	rep.checkAbuse()
	rep.checkDesktop()
}

// checkRSS evaluates the memory targets of issue 2.
func (rep *Report) checkRSS(cfg config) {
	if rep.RSS == nil {
		return
	}
	if rep.RSS.Skipped != "" {
		rep.add(Check{Issue: 2, Name: "headless RSS idle / peak", Result: "SKIP", Detail: rep.RSS.Skipped})
		return
	}
	rep.add(Check{Issue: 2, Name: "headless RSS idle (VmRSS), file secret store", Value: rep.RSS.IdleMiB, Unit: "MiB",
		Target: fmt.Sprintf("≤ %.0f MiB", maxIdleMiB), Result: verdict(rep.RSS.IdleMiB <= maxIdleMiB),
		Detail: fmt.Sprintf("anonymous %.1f MiB, file-backed %.1f MiB; VmHWM before any request %.1f MiB", rep.RSS.IdleAnon, rep.RSS.IdleFile, rep.RSS.StartHWM)})
	detail := fmt.Sprintf("since start %.1f MiB; %d errors, %d cut streams during the run", rep.RSS.PeakAll, rep.RSS.Errors, rep.RSS.Cut)
	if rep.RSS.PeakNote != "" {
		detail += "; " + rep.RSS.PeakNote
	}
	rep.add(Check{Issue: 2, Name: fmt.Sprintf("headless RSS peak (VmHWM) during %d streams at c=%d", rep.RSS.Streams, cfg.conc), Value: rep.RSS.PeakMiB, Unit: "MiB",
		Target: fmt.Sprintf("≤ %.0f MiB", maxPeakMiB), Result: verdict(rep.RSS.PeakMiB <= maxPeakMiB), Detail: detail})
}

// checkVault evaluates the targets of issue 4 and lists its figures.
func (rep *Report) checkVault(cfg config) {
	v := rep.Vault
	if v == nil {
		return
	}
	if st := v.Stats; st != nil {
		name := fmt.Sprintf("statistics recording on ÷ off: throughput, native generateContent c=%d through the app", cfg.conc)
		if st.Skipped != "" {
			rep.add(Check{Issue: 4, Name: name, Result: "SKIP", Detail: st.Skipped})
		} else {
			ok := st.Ratio >= minStatsRatio && st.Errors == 0
			detail := fmt.Sprintf("on %.0f req/s, off %.0f req/s; per round %s; CPU on %.1f µs/req, off %.1f µs/req; the store counted %d requests of %d sent while on, %d dropped",
				st.OnRPS, st.OffRPS, fmtRounds(st.PerRound, "%.3f"), st.OnCPUUS, st.OffCPUUS, st.Recorded, st.SentOn, st.Dropped)
			if st.Errors > 0 {
				detail += fmt.Sprintf("; %d failed requests, first: %s", st.Errors, st.FirstErr)
			}
			rep.add(Check{Issue: 4, Name: name, Value: st.Ratio, Unit: "x", Target: fmt.Sprintf("≥ %.2fx", minStatsRatio), Result: verdict(ok), Detail: detail})
			if st.OnCPUUS > 0 {
				rep.add(Check{Issue: 4, Name: "statistics recording on ÷ off: capacity (CPU per request off ÷ on)", Value: st.OffCPUUS / st.OnCPUUS, Unit: "x", Target: "-", Result: "INFO",
					Detail: fmt.Sprintf("the throughput ratio an app that is the only busy process would see; on %.1f µs/req, off %.1f µs/req (medians)", st.OnCPUUS, st.OffCPUUS)})
			}
			if st.LogRows > 0 && st.OnCPUUS > 0 {
				rep.add(Check{Issue: 4, Name: "statistics recording: capacity counting the deferred request-log write-out (off ÷ (on + write-out))", Value: st.OffCPUUS / (st.OnCPUUS + st.LogCPUUS), Unit: "x", Target: "-", Result: "INFO",
					Detail: fmt.Sprintf("the app writes request-log rows out when the proxy is idle, or once a minute under continuous traffic: %d rows written after the runs, %.1f µs CPU per row", st.LogRows, st.LogCPUUS)})
			}
		}
	}
	for _, t := range v.Add {
		c := Check{Issue: 4, Name: fmt.Sprintf("add %d keys, %s", v.Keys, storeName(t.Store)), Value: t.MedianS, Unit: "s", Target: "-", Result: "INFO", Detail: t.Detail}
		if t.Skipped != "" {
			c.Result, c.Detail = "SKIP", t.Skipped
		}
		rep.add(c)
	}
	for _, t := range v.Startup {
		c := Check{Issue: 4, Name: fmt.Sprintf("start with %d keys to the first proxied answer, %s", v.Keys, storeName(t.Store)), Value: t.MedianS, Unit: "s", Detail: t.Detail}
		switch {
		case t.Skipped != "":
			c.Result, c.Detail = "SKIP", t.Skipped
		case t.Store == "keychain":
			c.Target, c.Result = fmt.Sprintf("≤ %.0f s", maxStartupS), verdict(t.MedianS <= maxStartupS)
		default:
			c.Target, c.Result = "- (the target is for the Secret Service)", "INFO"
		}
		rep.add(c)
	}
	if ck := v.Check; ck != nil {
		name := fmt.Sprintf("check %d keys, upstream answering in %.0f ms", v.Keys, ms(cfg.checkLatency))
		if ck.Skipped != "" {
			rep.add(Check{Issue: 4, Name: name, Result: "SKIP", Detail: ck.Skipped})
		} else {
			rep.add(Check{Issue: 4, Name: name, Value: ck.Seconds, Unit: "s", Target: fmt.Sprintf("≤ %.0f s", maxCheckS), Result: verdict(ck.Seconds <= maxCheckS),
				Detail: fmt.Sprintf("App.StartCheck of every key, concurrency %d (setting); %s; results %v", ck.Concurrency, ck.State, ck.ByResult)})
		}
	}
}

// storeName names a secret store for the report.
func storeName(st string) string {
	if st == "keychain" {
		return "OS keychain (Secret Service)"
	}
	return "file secret store"
}

// checkNative compares ours with the baseline (issue 2).
func (rep *Report) checkNative(sc scenario) {
	runs := rep.res.runs[sc.ID]
	ours, base, direct := runs["ours"], runs["baseline"], runs["direct"]
	n := min(len(ours), len(base), len(direct))
	if n == 0 {
		return
	}
	var cpu, added, ttft []float64
	var addedOurs, addedBase []float64
	floored := 0
	latency := func(r *run) []time.Duration {
		if sc.Kind.stream() {
			return r.TTFT
		}
		return r.Lat
	}
	for i := 0; i < n; i++ {
		cpu = append(cpu, ours[i].cpuPerReq()/base[i].cpuPerReq())
		d := ms(percentile(latency(direct[i]), 99))
		ao := ms(percentile(latency(ours[i]), 99)) - d
		ab := ms(percentile(latency(base[i]), 99)) - d
		addedOurs, addedBase = append(addedOurs, ao), append(addedBase, ab)
		added = append(added, max(ao, addedFloorMS)/max(ab, addedFloorMS))
		if ao < addedFloorMS || ab < addedFloorMS {
			floored++
		}
		if sc.Kind.stream() {
			ttft = append(ttft, ms(percentile(ours[i].TTFT, 50))-ms(percentile(base[i].TTFT, 50)))
		}
	}
	m := median(cpu)
	rep.add(Check{Issue: 2, Name: sc.Title + ": CPU/req ours ÷ baseline", Value: m, Unit: "x",
		Target: fmt.Sprintf("≤ %.2fx", maxCPURatio), Result: verdict(m <= maxCPURatio),
		Detail: fmt.Sprintf("ours %.1f µs, baseline %.1f µs; per round %s",
			median(perRound(ours, (*run).cpuPerReq)), median(perRound(base, (*run).cpuPerReq)), fmtRounds(cpu, "%.2f"))})
	what := "added p99"
	if sc.Kind.stream() {
		what = "added p99 of TTFT"
	}
	m = median(added)
	detail := fmt.Sprintf("added ours %.3f ms, baseline %.3f ms over direct p99; per round %s",
		median(addedOurs), median(addedBase), fmtRounds(added, "%.2f"))
	if floored > 0 {
		detail += fmt.Sprintf("; in %d round(s) an added value was below %.2f ms (within noise) and counted as %.2f ms", floored, addedFloorMS, addedFloorMS)
	}
	rep.add(Check{Issue: 2, Name: sc.Title + ": " + what + " ours ÷ baseline", Value: m, Unit: "x",
		Target: fmt.Sprintf("≤ %.2fx", maxAddedP99Ratio), Result: verdict(m <= maxAddedP99Ratio), Detail: detail})
	if sc.Kind.stream() {
		m = median(ttft)
		rep.add(Check{Issue: 2, Name: sc.Title + ": TTFT p50 ours − baseline", Value: m, Unit: "ms",
			Target: fmt.Sprintf("≤ %.1f ms", maxTTFTDiffMS), Result: verdict(m <= maxTTFTDiffMS),
			Detail: "per round " + fmtRounds(ttft, "%+.3f")})
		cut := 0
		for _, r := range ours {
			cut += r.Cut
		}
		rep.add(Check{Issue: 2, Name: sc.Title + ": cut streams (ours)", Value: float64(cut), Unit: "",
			Target: "0", Result: verdict(cut == 0), Detail: fmt.Sprintf("of %d streams", sumRequests(ours))})
	}
	rep.addErrors(2, sc, ours)
}

// checkOpenAI compares ours' OpenAI route with its native route (issue 3).
func (rep *Report) checkOpenAI(sc scenario) {
	oa := rep.res.runs[sc.ID]["ours"]
	nat := rep.res.runs[sc.Native]["ours"]
	n := min(len(oa), len(nat))
	if n == 0 {
		return
	}
	var cpu, ttft []float64
	for i := 0; i < n; i++ {
		cpu = append(cpu, oa[i].cpuPerReq()/nat[i].cpuPerReq())
		if sc.Kind.stream() {
			ttft = append(ttft, ms(percentile(oa[i].TTFT, 50))-ms(percentile(nat[i].TTFT, 50)))
		}
	}
	issue := 3
	if sc.Kind.responses() || sc.Kind.anthropic() {
		issue = 10
	}
	label := "OpenAI"
	if sc.Kind.anthropic() {
		label = "Anthropic"
	}
	m := median(cpu)
	rep.add(Check{Issue: issue, Name: sc.Title + ": CPU/req " + label + " ÷ native", Value: m, Unit: "x",
		Target: fmt.Sprintf("≤ %.2fx", maxOpenAICPURatio), Result: verdict(m <= maxOpenAICPURatio),
		Detail: fmt.Sprintf("%s %.1f µs, native %.1f µs; per round %s", label,
			median(perRound(oa, (*run).cpuPerReq)), median(perRound(nat, (*run).cpuPerReq)), fmtRounds(cpu, "%.2f"))})
	if sc.Kind.stream() {
		m = median(ttft)
		rep.add(Check{Issue: issue, Name: sc.Title + ": TTFT p50 " + label + " − native", Value: m, Unit: "ms",
			Target: fmt.Sprintf("≤ %.1f ms", maxTTFTDiffMS), Result: verdict(m <= maxTTFTDiffMS),
			Detail: "per round " + fmtRounds(ttft, "%+.3f")})
		cut := 0
		for _, r := range oa {
			cut += r.Cut
		}
		rep.add(Check{Issue: issue, Name: sc.Title + ": cut streams", Value: float64(cut), Unit: "",
			Target: "0", Result: verdict(cut == 0), Detail: fmt.Sprintf("of %d streams (no [DONE] / response.completed / message_stop at the end, or an error event)", sumRequests(oa))})
	}
	rep.addErrors(issue, sc, oa)
}

// addErrors checks that no request of ours failed.
func (rep *Report) addErrors(issue int, sc scenario, runs []*run) {
	errs := 0
	first := ""
	for _, r := range runs {
		errs += r.Errors
		if first == "" {
			first = r.FirstError
		}
	}
	c := Check{Issue: issue, Name: sc.Title + ": failed requests (ours)", Value: float64(errs), Target: "0", Result: verdict(errs == 0),
		Detail: fmt.Sprintf("of %d", sumRequests(runs)+errs)}
	if first != "" {
		c.Detail += "; first: " + first
	}
	rep.add(c)
}

func sumRequests(runs []*run) int {
	n := 0
	for _, r := range runs {
		n += r.Requests
	}
	return n
}

// print writes the human-readable report.
func (rep *Report) print(w io.Writer) {
	mode := "full"
	if rep.Quick {
		mode = "quick"
	}
	fmt.Fprintf(w, "\nProxy benchmark (%s run): %s, GOMAXPROCS=%d, %d CPUs, %d round(s), medians over rounds\n",
		mode, rep.GoVersion, rep.GOMAXPROCS, rep.NumCPU, rep.Rounds)
	fmt.Fprintf(w, "fake upstream: latency %.1f ms, streams of %d events %.1f ms apart; proxy request log: %s\n\n",
		rep.FakeLatencyMS, rep.Events, rep.IntervalMS, rep.ProxyLog)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(rep.Scenarios) > 0 {
		fmt.Fprintln(tw, "scenario\tserver\trequests\terrors\tcut\tCPU µs/req\tfake µs/req\treq/s\tp50 ms\tp99 ms\tTTFT p50\tTTFT p99\t")
	}
	for _, sc := range rep.Scenarios {
		for i, st := range sc.Servers {
			title := ""
			if i == 0 {
				title = sc.Title
			}
			ttft50, ttft99 := "-", "-"
			if st.TTFTP50MS > 0 {
				ttft50, ttft99 = fmt.Sprintf("%.3f", st.TTFTP50MS), fmt.Sprintf("%.3f", st.TTFTP99MS)
			}
			cpu := fmt.Sprintf("%.1f", st.CPUPerReqUS)
			if st.Server == "direct" {
				cpu = "(fake) " + cpu
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%.1f\t%.0f\t%.3f\t%.3f\t%s\t%s\t\n",
				title, st.Server, st.Requests, st.Errors, st.Cut, cpu, st.FakeCPUUS, st.RPS, st.P50MS, st.P99MS, ttft50, ttft99)
		}
	}
	tw.Flush()
	if len(rep.Scenarios) > 0 {
		fmt.Fprintln(w)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "issue\tcheck\tvalue\ttarget\tresult\tdetail")
	for _, c := range rep.Checks {
		val := "-"
		if c.Result != "SKIP" {
			switch c.Unit {
			case "x":
				val = fmt.Sprintf("%.2fx", c.Value)
			case "ms":
				val = fmt.Sprintf("%+.3f ms", c.Value)
			case "ns":
				val = fmt.Sprintf("%.0f ns", c.Value)
			case "MiB":
				val = fmt.Sprintf("%.1f MiB", c.Value)
			case "s":
				val = fmt.Sprintf("%.3f s", c.Value)
			case "KiB":
				val = fmt.Sprintf("%.1f KiB", c.Value)
			case "%":
				val = fmt.Sprintf("%.2f %%", c.Value)
			default:
				val = fmt.Sprintf("%.0f", c.Value)
			}
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\n", c.Issue, c.Name, val, c.Target, c.Result, c.Detail)
	}
	tw.Flush()
	if rep.RSS != nil && rep.RSS.Skipped == "" {
		fmt.Fprintf(w, "\nheadless binary: %.1f MiB on disk; VmRSS idle %.1f MiB, after the stream run %.1f MiB; VmHWM during the run %.1f MiB, since start %.1f MiB\n",
			rep.RSS.BinaryMiB, rep.RSS.IdleMiB, rep.RSS.AfterMiB, rep.RSS.PeakMiB, rep.RSS.PeakAll)
	}
	if v := rep.Vault; v != nil && v.Stats != nil && v.Stats.Skipped == "" {
		fmt.Fprintf(w, "\napp with statistics recording: on %.0f req/s (CPU %.1f µs/req), off %.0f req/s (CPU %.1f µs/req)\n",
			v.Stats.OnRPS, v.Stats.OnCPUUS, v.Stats.OffRPS, v.Stats.OffCPUUS)
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", rep.Passed, rep.Failed, rep.Skipped)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintln(w, "definitions:", definitions)
}
