package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Targets of issue 9 (figures 1 and 3).
const (
	maxImageRSSGrowthMiB = 50.0  // figure 1: RSS growth for the 20-image request
	maxFloodRSSMiB       = 300.0 // figure 3: peak RSS while the key-less connections come
	maxFloodProbeMS      = 1000  // figure 3: authenticated request latency meanwhile
)

// AbuseReport holds the figures of issue 9: the proxy child process under
// an image-fetch request that asks for far too much, and under a flood of
// key-less connections that announce a body and never send it.
type AbuseReport struct {
	Skipped string `json:"skipped,omitempty"`

	// Figure 1.
	ImageRequestBytes int     `json:"imageRequestBytes"`
	ImageParts        int     `json:"imageParts"`
	ImageFileMB       float64 `json:"imageFileMB"`
	ImageStatus       int     `json:"imageStatus"`
	ImageMessage      string  `json:"imageMessage"`
	ImageMS           float64 `json:"imageMs"`
	ImageHits         int64   `json:"imageServerHits"`
	ImageServedMiB    float64 `json:"imageServedMiB"`
	ImageBeforeMiB    float64 `json:"imageRssBeforeMiB"`
	ImagePeakMiB      float64 `json:"imageRssPeakMiB"`
	ImageGrowthMiB    float64 `json:"imageRssGrowthMiB"`
	// The same without Content-Length (the cap is enforced while reading).
	ChunkedStatus    int     `json:"chunkedStatus"`
	ChunkedGrowthMiB float64 `json:"chunkedRssGrowthMiB"`

	// Figure 3.
	FloodConns       int     `json:"floodConnections"`
	FloodParallel    int     `json:"floodParallel"`
	FloodAnswered401 int     `json:"floodAnswered401"`
	FloodClosed      int     `json:"floodClosedByServer"`
	FloodFailed      int     `json:"floodFailed"`
	FloodFirstErr    string  `json:"floodFirstError,omitempty"`
	FloodMaxOpen     int64   `json:"floodMaxOpenAtOnce"`
	FloodSeconds     float64 `json:"floodSeconds"`
	FloodAnswerP99MS float64 `json:"floodAnswerP99Ms"`
	ProbeCount       int     `json:"probeCount"`
	ProbeFailed      int     `json:"probeFailed"`
	ProbeMaxMS       float64 `json:"probeMaxMs"`
	ProbeP50MS       float64 `json:"probeP50Ms"`
	FloodBeforeMiB   float64 `json:"floodRssBeforeMiB"`
	FloodPeakMiB     float64 `json:"floodRssPeakMiB"`
	// Slow headers (slowloris): held open until ReadHeaderTimeout.
	SlowConns      int     `json:"slowHeaderConnections"`
	SlowHeld       int     `json:"slowHeaderHeld"`
	SlowPeakMiB    float64 `json:"slowHeaderRssPeakMiB"`
	SlowProbeMaxMS float64 `json:"slowHeaderProbeMaxMs"`
	SlowClosedS    float64 `json:"slowHeaderClosedAfterS"`
	SlowEarly      int64   `json:"slowHeaderClosedEarly"` // closed well before ReadHeaderTimeout
	FDLimit        string  `json:"fdLimit"`
	LoadAverage    string  `json:"loadAverage"`
}

// abuse measures figures 1 and 3 of issue 9 against a proxy child of its
// own, with the pool keys and the fake upstream of the other parts.
func (b *bench) abuse(ctx context.Context, upstream, keysFile string) *AbuseReport {
	rep := &AbuseReport{}
	if _, err := memStatus(os.Getpid()); err != nil {
		rep.Skipped = "skipped: no /proc memory figures on this system"
		return rep
	}
	rep.FDLimit = fdLimit()
	proxy, err := startChild(ctx, roleProxy, []string{"-upstream", upstream, "-keys-file", keysFile, "-access-key", b.access,
		"-log", b.cfg.logMode, "-image-allow", "127.0.0.1"}, b.cfg.verbose)
	if err != nil {
		rep.Skipped = "skipped: " + err.Error()
		return rep
	}
	defer proxy.stop()
	base := "http://" + proxy.addr
	pid := proxy.cmd.Process.Pid
	if err := b.warmAbuse(ctx, base); err != nil {
		rep.Skipped = "skipped: the proxy does not answer: " + err.Error()
		return rep
	}
	// The floods first: the image request leaves garbage that the Go
	// runtime returns to the OS only slowly, which would count as theirs.
	fmt.Fprintf(b.log, "bench: abuse 1/3: %d key-less connections announcing a body they never send (%d at once)\n", b.cfg.floodConns, b.cfg.floodParallel)
	b.floodFigure(ctx, rep, base, proxy.addr, pid)
	if b.cfg.slowConns > 0 {
		fmt.Fprintf(b.log, "bench: abuse 2/3: %d connections sending half their headers, held until the server closes them\n", b.cfg.slowConns)
		b.slowHeaderFigure(ctx, rep, base, proxy.addr, pid)
	}
	fmt.Fprintln(b.log, "bench: abuse 3/3: 20 image_url parts pointing at a 20 MB file")
	b.imageFigure(ctx, rep, base, pid)
	rep.LoadAverage = loadAverage()
	return rep
}

func fdLimit() string {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max open files") {
			f := strings.Fields(l)
			if len(f) >= 5 {
				return f[3] + " soft / " + f[4] + " hard"
			}
		}
	}
	return ""
}

// warmAbuse makes one authenticated request (and so the first allocations).
func (b *bench) warmAbuse(ctx context.Context, base string) error {
	_, err := authProbe(ctx, newClient(), base, b.access)
	return err
}

// authProbe sends one authenticated generateContent and returns its latency.
func authProbe(ctx context.Context, c *http.Client, base, access string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1beta/models/gemini-2.5-flash:generateContent",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("x-goog-api-key", access)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

// imageFigure: a ~1.7 KB chat request with 20 image_url parts, each the
// same 20 MB file on a loopback server (allowed for the bench).
func (b *bench) imageFigure(ctx context.Context, rep *AbuseReport, base string, pid int) {
	const fileSize = 20_000_000
	file := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, fileSize/4)
	var hits, served atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rep.ImageMessage = err.Error()
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		cw := &countingWriter{w: w, n: &served}
		if strings.HasSuffix(r.URL.Path, "-chunked.jpg") {
			w.Header().Set("Content-Type", "image/jpeg")
			for i := 0; i < len(file); i += 256 << 10 {
				if _, err := cw.Write(file[i:min(i+256<<10, len(file))]); err != nil {
					return
				}
			}
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", fmt.Sprint(len(file)))
		cw.Write(file)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	one := func(path string) (status int, msg string, growth, before, peak float64) {
		parts := make([]string, 20)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"type":"image_url","image_url":{"url":"http://%s/%s?n=%d"}}`, ln.Addr(), path, i)
		}
		body := `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"text","text":"Describe these photos."},` + strings.Join(parts, ",") + `]}]}`
		rep.ImageRequestBytes, rep.ImageParts = len(body), len(parts)
		m0, err := memStatus(pid)
		if err != nil {
			return 0, err.Error(), 0, 0, 0
		}
		resetPeak(pid)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+b.access)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := newClient().Do(req)
		if err != nil {
			return 0, err.Error(), 0, 0, 0
		}
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		rep.ImageMS = ms(time.Since(start))
		time.Sleep(200 * time.Millisecond)
		m1, _ := memStatus(pid)
		return resp.StatusCode, string(bytes.TrimSpace(out)), mib(m1.HWM - m0.RSS), mib(m0.RSS), mib(m1.HWM)
	}
	rep.ImageStatus, rep.ImageMessage, rep.ImageGrowthMiB, rep.ImageBeforeMiB, rep.ImagePeakMiB = one("photo.jpg")
	ms1 := rep.ImageMS
	rep.ImageFileMB = fileSize / 1e6
	rep.ImageHits, rep.ImageServedMiB = hits.Load(), float64(served.Load())/(1<<20)
	rep.ChunkedStatus, _, rep.ChunkedGrowthMiB, _, _ = one("photo-chunked.jpg")
	rep.ImageMS = ms1
}

// countingWriter counts the bytes an image handler wrote.
type countingWriter struct {
	w http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// floodFigure opens b.cfg.floodConns connections (at most floodParallel at
// once), each sending a key-less POST head with Content-Length: 100 and no
// body, and holding its side open until the server answers and closes.
// Meanwhile an authenticated request is timed every 50 ms.
func (b *bench) floodFigure(ctx context.Context, rep *AbuseReport, base, addr string, pid int) {
	m0, _ := memStatus(pid)
	resetPeak(pid)
	rep.FloodBeforeMiB = mib(m0.RSS)
	head := []byte("POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	total, par := b.cfg.floodConns, min(b.cfg.floodParallel, b.cfg.floodConns)
	rep.FloodConns, rep.FloodParallel = total, par

	stop := make(chan struct{})
	probes := b.probeLoop(ctx, base, stop)

	var (
		next, open, maxOpen   atomic.Int64
		mu                    sync.Mutex
		answered, closed, bad int
		firstErr              string
		answerTimes           []time.Duration
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) && ctx.Err() == nil {
				t0 := time.Now()
				got401, gotEOF, err := floodOne(addr, head, &open, &maxOpen)
				d := time.Since(t0)
				mu.Lock()
				if got401 {
					answered++
					answerTimes = append(answerTimes, d)
				}
				if gotEOF {
					closed++
				}
				if err != nil {
					bad++
					if firstErr == "" {
						firstErr = err.Error()
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.FloodSeconds = time.Since(start).Seconds()
	close(stop)
	pr := <-probes
	m1, _ := memStatus(pid)
	rep.FloodAnswered401, rep.FloodClosed, rep.FloodFailed, rep.FloodFirstErr = answered, closed, bad, firstErr
	rep.FloodMaxOpen = maxOpen.Load()
	rep.FloodPeakMiB = mib(m1.HWM)
	slices.Sort(pr.lat)
	slices.Sort(answerTimes)
	rep.ProbeCount, rep.ProbeFailed, rep.ProbeMaxMS, rep.ProbeP50MS = len(pr.lat)+pr.failed, pr.failed, ms(pr.max()), ms(percentile(pr.lat, 50))
	rep.FloodAnswerP99MS = ms(percentile(answerTimes, 99))
}

// floodOne is one abusive connection.
func floodOne(addr string, head []byte, open, maxOpen *atomic.Int64) (got401, gotEOF bool, err error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return false, false, err
	}
	defer c.Close()
	n := open.Add(1)
	defer open.Add(-1)
	for {
		m := maxOpen.Load()
		if n <= m || maxOpen.CompareAndSwap(m, n) {
			break
		}
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(head); err != nil {
		return false, false, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, false, fmt.Errorf("no answer without the body: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	got401 = resp.StatusCode == http.StatusUnauthorized
	// The server must close: the body never comes.
	if _, err := br.ReadByte(); err == io.EOF {
		gotEOF = true
	} else if err != nil && !isReset(err) {
		return got401, false, fmt.Errorf("connection not closed after the answer: %w", err)
	} else {
		gotEOF = err != nil
	}
	return got401, gotEOF, nil
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset by peer")
}

// probeResult is what probeLoop saw.
type probeResult struct {
	lat    []time.Duration
	failed int
}

func (p probeResult) max() time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	return slices.Max(p.lat)
}

// probeLoop times an authenticated request every 50 ms until stop.
func (b *bench) probeLoop(ctx context.Context, base string, stop <-chan struct{}) <-chan probeResult {
	out := make(chan probeResult, 1)
	go func() {
		var pr probeResult
		c := newClient()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				out <- pr
				return
			case <-ctx.Done():
				out <- pr
				return
			case <-t.C:
			}
			d, err := authProbe(ctx, c, base, b.access)
			if err != nil {
				pr.failed++
				continue
			}
			pr.lat = append(pr.lat, d)
		}
	}()
	return out
}

// slowHeaderFigure holds b.cfg.slowConns connections that send a request
// line and one header and then nothing, times authenticated requests
// meanwhile, and waits for the server to close them (ReadHeaderTimeout).
func (b *bench) slowHeaderFigure(ctx context.Context, rep *AbuseReport, base, addr string, pid int) {
	resetPeak(pid)
	n := b.cfg.slowConns
	rep.SlowConns = n
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			break
		}
		if _, err := io.WriteString(c, "POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
			c.Close()
			break
		}
		conns = append(conns, c)
	}
	rep.SlowHeld = len(conns)
	stop := make(chan struct{})
	probes := b.probeLoop(ctx, base, stop)
	start := time.Now()
	// Wait for the server to close them all (bounded: 30 s).
	var wg sync.WaitGroup
	var last, early atomic.Int64
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			io.Copy(io.Discard, c)
			d := int64(time.Since(start))
			if time.Duration(d) < 5*time.Second {
				early.Add(1)
			}
			for {
				m := last.Load()
				if d <= m || last.CompareAndSwap(m, d) {
					break
				}
			}
		}(c)
	}
	wg.Wait()
	close(stop)
	pr := <-probes
	m1, _ := memStatus(pid)
	rep.SlowPeakMiB = mib(m1.HWM)
	rep.SlowProbeMaxMS = ms(pr.max())
	rep.SlowClosedS = time.Duration(last.Load()).Seconds()
	rep.SlowEarly = early.Load()
}

// checkAbuse evaluates the targets of issue 9.
func (rep *Report) checkAbuse() {
	a := rep.Abuse
	if a == nil {
		return
	}
	if a.Skipped != "" {
		rep.add(Check{Issue: 9, Name: "abuse figures", Result: "SKIP", Detail: a.Skipped})
		return
	}
	rep.add(Check{Issue: 9, Name: fmt.Sprintf("%d-byte chat request, %d image_url parts → one %.0f MB file: RSS growth", a.ImageRequestBytes, a.ImageParts, a.ImageFileMB),
		Value: a.ImageGrowthMiB, Unit: "MiB", Target: fmt.Sprintf("4xx, ≤ %.0f MiB", maxImageRSSGrowthMiB),
		Result: verdict(a.ImageStatus >= 400 && a.ImageStatus < 500 && a.ImageGrowthMiB <= maxImageRSSGrowthMiB),
		Detail: fmt.Sprintf("HTTP %d %q; image server hits %d, %.1f MiB served; RSS %.1f → peak %.1f MiB; the same without Content-Length: HTTP %d, growth %.1f MiB",
			a.ImageStatus, truncate(a.ImageMessage, 160), a.ImageHits, a.ImageServedMiB, a.ImageBeforeMiB, a.ImagePeakMiB, a.ChunkedStatus, a.ChunkedGrowthMiB)})
	rep.add(Check{Issue: 9, Name: fmt.Sprintf("%d key-less connections (Content-Length: 100, no body): authenticated request max latency", a.FloodConns),
		Value: a.ProbeMaxMS / 1000, Unit: "s", Target: fmt.Sprintf("≤ %.1f s", float64(maxFloodProbeMS)/1000),
		Result: verdict(a.ProbeMaxMS <= maxFloodProbeMS && a.ProbeFailed == 0 && a.ProbeCount > 0 && a.FloodAnswered401 == a.FloodConns),
		Detail: fmt.Sprintf("%d probes (p50 %.1f ms, %d failed) during %.1f s; %d answered 401 (p99 %.1f ms after connecting), %d closed by the server, %d failed (%s); up to %d open at once (-flood-parallel %d); fd limit %s; load average %s",
			a.ProbeCount, a.ProbeP50MS, a.ProbeFailed, a.FloodSeconds, a.FloodAnswered401, a.FloodAnswerP99MS, a.FloodClosed, a.FloodFailed, a.FloodFirstErr, a.FloodMaxOpen, a.FloodParallel, a.FDLimit, a.LoadAverage)})
	rep.add(Check{Issue: 9, Name: fmt.Sprintf("%d key-less connections: proxy peak RSS", a.FloodConns),
		Value: a.FloodPeakMiB, Unit: "MiB", Target: fmt.Sprintf("≤ %.0f MiB", maxFloodRSSMiB), Result: verdict(a.FloodPeakMiB <= maxFloodRSSMiB),
		Detail: fmt.Sprintf("VmHWM during the flood; VmRSS before %.1f MiB", a.FloodBeforeMiB)})
	if a.SlowConns == 0 {
		return
	}
	rep.add(Check{Issue: 9, Name: fmt.Sprintf("%d connections holding half-sent headers: peak RSS", a.SlowHeld),
		Value: a.SlowPeakMiB, Unit: "MiB", Target: "INFO", Result: "INFO",
		Detail: fmt.Sprintf("%d closed at once (past the 4096 connections not serving a request, the oldest are closed), the rest within %.1f s (ReadHeaderTimeout 10 s); authenticated request max latency meanwhile %.1f ms; fd limit %s",
			a.SlowEarly, a.SlowClosedS, a.SlowProbeMaxMS, a.FDLimit)})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
