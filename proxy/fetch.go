package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// The image fetcher turns the http(s) image URLs of client requests into
// inline data. A client can make the proxy fetch any URL, so the fetcher
// is hardened as a server-side request forger would test it:
//
//   - Only public addresses: loopback, private, link-local, CGNAT,
//     multicast, unspecified and reserved addresses (IPv4 and IPv6, also
//     v4-mapped and v4-embedded) are refused at connect time, in the
//     dialer's Control (the address actually connected to, so a name that
//     resolves differently the second time does not get through), unless
//     the user allowed the host (Config.ImageFetchAllowHosts).
//   - Through an upstream proxy the proxy connects, not us: the target's
//     name is resolved and every address checked before the request is
//     sent to the proxy.
//   - At most maxImageRedirects redirects, each checked the same way.
//   - Errors say "not allowed", the HTTP status or "timed out", never what
//     the network said (a "connection refused" would map open ports).
//   - Per request: at most ImageFetchMaxCount images and
//     ImageFetchTotalBytes in all (ImageFetchMaxBytes each), base64-encoded
//     while they stream in, so an image is held once, encoded.

// maxImageRedirects bounds the redirects one image fetch follows.
const maxImageRedirects = 3

// errNotAllowed is the error of a fetch to an address the policy refuses.
var errNotAllowed = errors.New("the address is not allowed (local or private network; allow the host in Settings → image fetch allowed hosts)")

var errTooManyRedirects = fmt.Errorf("more than %d redirects", maxImageRedirects)

// fetchPolicy says which hosts the image fetcher may reach besides public
// addresses.
type fetchPolicy struct {
	names    map[string]bool // lower-case host names allowed as given
	prefixes []netip.Prefix  // addresses and ranges allowed
}

// parseFetchAllowList reads the ImageFetchAllowHosts setting: host names,
// IP addresses or CIDR ranges.
func parseFetchAllowList(list []string) (fetchPolicy, error) {
	p := fetchPolicy{names: map[string]bool{}}
	for _, e := range list {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case strings.Contains(e, "/"):
			pr, err := netip.ParsePrefix(e)
			if err != nil {
				return p, fmt.Errorf("image fetch allowed host %q: not a valid address range (e.g. 192.168.1.0/24)", e)
			}
			p.prefixes = append(p.prefixes, pr.Masked())
		default:
			if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				p.prefixes = append(p.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if strings.ContainsAny(e, ":@?#*") || !validHostName(e) {
				return p, fmt.Errorf("image fetch allowed host %q: use a host name, an IP address or a range, without scheme or port", e)
			}
			p.names[strings.ToLower(strings.TrimSuffix(e, "."))] = true
		}
	}
	return p, nil
}

func validHostName(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// nameAllowed reports whether the user allowed host by name.
func (p *fetchPolicy) nameAllowed(host string) bool {
	return p.names[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// addrAllowed reports whether the fetcher may connect to a.
func (p *fetchPolicy) addrAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.prefixes {
		if pr.Contains(a) {
			return true
		}
	}
	return publicAddr(a)
}

// notPublic are ranges netip has no predicate for.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),         // IPv4-compatible (deprecated)
	netip.MustParsePrefix("100::/64"),      // discard-only
	netip.MustParsePrefix("fec0::/10"),     // site-local (deprecated)
}

// embeddedV4 are IPv6 ranges that carry an IPv4 address: NAT64 (in the
// last 32 bits) and 6to4 (bits 16–47).
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	nat64L = netip.MustParsePrefix("64:ff9b:1::/48")
	sixTo4 = netip.MustParsePrefix("2002::/16")
	teredo = netip.MustParsePrefix("2001::/32")
)

// publicAddr reports whether a is a public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, pr := range notPublic {
		if pr.Contains(a) {
			return false
		}
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return publicAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case nat64L.Contains(a), teredo.Contains(a):
			return false // local-use NAT64 and Teredo: no business here
		case sixTo4.Contains(a):
			return publicAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}

// checkTarget resolves the host of u (unless it is an address or a name
// the user allowed) and refuses it when any of its addresses is not
// allowed. It guards fetches that go through an upstream proxy, where the
// proxy connects and our dialer never sees the target's address.
func (p *fetchPolicy) checkTarget(ctx context.Context, u *url.URL) error {
	host := u.Hostname()
	if p.nameAllowed(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.addrAllowed(a) {
			return errNotAllowed
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return errNotAllowed
	}
	for _, a := range addrs {
		if !p.addrAllowed(a) {
			return errNotAllowed
		}
	}
	return nil
}

// newFetchClient returns the HTTP client of the image fetcher: its own
// transport (never the one that carries pool keys to Google), through the
// upstream proxy setting, with the policy enforced at connect time.
func newFetchClient(upstreamProxy string, pol fetchPolicy) (*http.Client, error) {
	pf, err := proxyFunc(upstreamProxy)
	if err != nil {
		return nil, err
	}
	guarded := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !pol.addrAllowed(ap.Addr()) {
			return errNotAllowed
		}
		return nil
	}}
	plain := &net.Dialer{Timeout: 10 * time.Second}
	var proxies sync.Map // host:port of the upstream proxies the transport dials
	t := &http.Transport{
		Proxy: func(req *http.Request) (*url.URL, error) {
			if err := pol.checkTarget(req.Context(), req.URL); err != nil {
				return nil, err
			}
			if pf == nil {
				return nil, nil
			}
			pu, err := pf(req)
			if pu != nil {
				proxies.Store(proxyAddr(pu), true)
			}
			return pu, err
		},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, ok := proxies.Load(addr); ok {
				return plain.DialContext(ctx, network, addr) // the user's own proxy, wherever it is
			}
			if host, _, err := net.SplitHostPort(addr); err == nil && pol.nameAllowed(host) {
				return plain.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        16,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxImageRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}, nil
}

// proxyAddr is the host:port the transport dials for proxy URL u.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// imageFetch fetches the image URLs of one client request within the
// request's limits.
type imageFetch struct {
	client *http.Client
	cfg    *Config
	count  int
	total  int64
}

// imageFetcher returns the fetcher of image URLs for one request.
func (s *Server) imageFetcher(cfg *Config) gemini.FetchFunc {
	f := &imageFetch{client: s.fetchClient.Load(), cfg: cfg}
	return f.fetch
}

// fetchError is a failed fetch, described without network details.
func fetchError(u *url.URL, format string, args ...any) error {
	return fmt.Errorf("%s: %s", u.Redacted(), fmt.Sprintf(format, args...))
}

// fetch fetches one image URL of the request as a Blob: admitted within
// the request's count and byte limits, fetched with the fetch timeout, read
// into base64 once, typed by the server or by its first bytes.
func (f *imageFetch) fetch(ctx context.Context, raw string) (*gemini.Blob, error) {
	u, limit, err := f.admit(raw)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.ImageFetchTimeout)
	defer cancel()
	resp, err := f.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, f.tooLarge(u) // refused before reading a byte
	}
	data, head, size, err := f.read(ctx, u, resp, limit)
	if err != nil {
		return nil, err
	}
	f.total += size
	return &gemini.Blob{MIMEType: blobType(resp.Header, head), Data: data}, nil
}

// admit checks raw and counts it against the request's limits; limit is
// the most this image may weigh.
func (f *imageFetch) admit(raw string) (u *url.URL, limit int64, err error) {
	u, err = url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, 0, fmt.Errorf("image URL must be an absolute http(s) URL")
	}
	u.User = nil
	if f.count >= f.cfg.ImageFetchMaxCount {
		return nil, 0, fmt.Errorf("more than %d image URLs in one request (setting: image fetch max count); send the others as data URIs", f.cfg.ImageFetchMaxCount)
	}
	f.count++
	limit = min(f.cfg.ImageFetchMaxBytes, f.cfg.ImageFetchTotalBytes-f.total)
	if limit <= 0 {
		return nil, 0, f.tooLarge(u)
	}
	return u, limit, nil
}

// tooLarge is the error for an image over its limit: the request's total
// when that is what is left, else the per-image limit.
func (f *imageFetch) tooLarge(u *url.URL) error {
	if f.cfg.ImageFetchTotalBytes-f.total < f.cfg.ImageFetchMaxBytes {
		return fmt.Errorf("the images fetched for one request are larger than %s in all; send them as data URIs or in several requests", humanBytes(f.cfg.ImageFetchTotalBytes))
	}
	return fetchError(u, "larger than %s", humanBytes(f.cfg.ImageFetchMaxBytes))
}

// get sends the GET for u and returns a 200 answer, or an error that
// names no network details.
func (f *imageFetch) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("image URL is not valid")
	}
	req.Header.Set("User-Agent", "gemini-balance-desktop")
	req.Header.Set("Accept", "image/*,application/pdf;q=0.9,*/*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, errNotAllowed):
			return nil, fetchError(u, "%s", errNotAllowed)
		case errors.Is(err, errTooManyRedirects):
			return nil, fetchError(u, "%s", errTooManyRedirects)
		case ctx.Err() != nil || isTimeout(err):
			return nil, fetchError(u, "timed out after %s", f.cfg.ImageFetchTimeout)
		}
		return nil, fetchError(u, "the host could not be reached")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fetchError(u, "HTTP %d", resp.StatusCode)
	}
	return resp, nil
}

// read reads resp's body, at most limit bytes, as base64; head is its
// first bytes (for sniffing the type) and size its decoded length.
func (f *imageFetch) read(ctx context.Context, u *url.URL, resp *http.Response, limit int64) (data string, head []byte, size int64, err error) {
	// Sniff the type from the first bytes, then stream the rest through
	// the base64 encoder: the image exists once, encoded.
	var buf [512]byte
	n, err := io.ReadFull(io.LimitReader(resp.Body, limit+1), buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", nil, 0, readFailure(ctx, u, f.cfg, err)
	}
	if n == 0 {
		return "", nil, 0, fetchError(u, "the URL returned no data")
	}
	// One allocation for the whole encoded image: its exact size when the
	// server said it, else the most it may be (pages that are never
	// written are never resident), so the buffer is never copied to grow.
	var out strings.Builder
	if resp.ContentLength > 0 {
		out.Grow(base64.StdEncoding.EncodedLen(int(resp.ContentLength)))
	} else if n == len(buf) {
		out.Grow(base64.StdEncoding.EncodedLen(int(limit)))
	}
	enc := base64.NewEncoder(base64.StdEncoding, &out)
	enc.Write(buf[:n])
	rest := int64(0)
	if n == len(buf) {
		rest, err = io.Copy(enc, io.LimitReader(resp.Body, limit-int64(n)+1))
		if err != nil {
			return "", nil, 0, readFailure(ctx, u, f.cfg, err)
		}
	}
	size = int64(n) + rest
	if size > limit {
		return "", nil, 0, f.tooLarge(u)
	}
	enc.Close()
	return out.String(), buf[:n], size, nil
}

// blobType is the image's media type: the server's, or sniffed from head
// when the server gave none or a generic one.
func blobType(h http.Header, head []byte) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream" {
		mt, _, _ = strings.Cut(http.DetectContentType(head), ";")
	}
	return mt
}

func readFailure(ctx context.Context, u *url.URL, cfg *Config, err error) error {
	if ctx.Err() != nil || isTimeout(err) {
		return fetchError(u, "timed out after %s", cfg.ImageFetchTimeout)
	}
	return fetchError(u, "the connection broke off")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
