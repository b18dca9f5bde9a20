package app

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// throttle slows down password guessing per client address: after each
// failed admin login or Bearer token from an address, that address must
// wait before its next try — 250 ms after the first failure, doubling up to
// maxThrottleDelay — and a try within the wait is refused unread (429 with
// Retry-After). A success resets the address. Only the guessing address
// waits: the owner's right password from another address is never refused,
// and even from the same address it is refused for at most
// maxThrottleDelay. IPv6 clients are grouped by /64 (one host usually owns
// a whole /64).
type throttle struct {
	mu    sync.Mutex
	now   func() time.Time // read with mu held (tests swap it)
	addrs map[netip.Prefix]*throttleEntry
}

type throttleEntry struct {
	fails int
	until time.Time // no try before this
	last  time.Time // the latest failure
}

// Throttle parameters.
const (
	minThrottleDelay = 250 * time.Millisecond
	maxThrottleDelay = 5 * time.Second
	// throttleForget: an address without failures for this long starts
	// afresh.
	throttleForget = 10 * time.Minute
	// maxThrottleAddrs bounds the memory: beyond it, the entries longest
	// without a failure go first.
	maxThrottleAddrs = 4096
)

func newThrottle(now func() time.Time) *throttle {
	if now == nil {
		now = time.Now
	}
	return &throttle{now: now, addrs: map[netip.Prefix]*throttleEntry{}}
}

// clientPrefix is the throttled unit of r's client: its IPv4 address or
// its IPv6 /64.
func clientPrefix(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// wait returns how long the client of r must still wait before its next
// try (0: it may try now).
func (t *throttle) wait(r *http.Request) time.Duration {
	p := clientPrefix(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.addrs[p]
	if e == nil {
		return 0
	}
	return max(e.until.Sub(t.now()), 0)
}

// failed records a failed try of r's client and returns its wait.
func (t *throttle) failed(r *http.Request) time.Duration {
	p := clientPrefix(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e := t.addrs[p]
	if e == nil || now.Sub(e.last) > throttleForget {
		if e == nil && len(t.addrs) >= maxThrottleAddrs {
			t.evict(now)
		}
		e = &throttleEntry{}
		t.addrs[p] = e
	}
	e.fails++
	d := minThrottleDelay
	for i := 1; i < e.fails && d < maxThrottleDelay; i++ {
		d *= 2
	}
	d = min(d, maxThrottleDelay)
	e.last, e.until = now, now.Add(d)
	return d
}

// succeeded forgets the failures of r's client.
func (t *throttle) succeeded(r *http.Request) {
	p := clientPrefix(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.addrs, p)
}

// evict drops forgotten entries, or, when none is, the one longest without
// a failure. Called with t.mu held.
func (t *throttle) evict(now time.Time) {
	var oldest netip.Prefix
	var oldestT time.Time
	for p, e := range t.addrs {
		if now.Sub(e.last) > throttleForget {
			delete(t.addrs, p)
			continue
		}
		if oldestT.IsZero() || e.last.Before(oldestT) {
			oldest, oldestT = p, e.last
		}
	}
	if len(t.addrs) >= maxThrottleAddrs {
		delete(t.addrs, oldest)
	}
}
