package openai

import (
	"strings"
	"sync"
	"time"
)

// Default bounds of a SignatureCache.
const (
	// DefaultSignatureEntries is how many tool calls a SignatureCache
	// remembers by default.
	DefaultSignatureEntries = 50_000
	// DefaultSignatureBytes bounds the memory a SignatureCache holds by
	// default (ids, signatures and a fixed per-entry overhead).
	DefaultSignatureBytes = 64 << 20
	// DefaultSignatureTTL is how long a SignatureCache keeps a signature
	// that is not used by default.
	DefaultSignatureTTL = 24 * time.Hour
)

// sigEntryOverhead approximates what one entry costs besides its strings:
// the map slot, the entry struct and the string headers.
const sigEntryOverhead = 128

// SignatureCacheOptions bound a SignatureCache. Zero values take the
// defaults.
type SignatureCacheOptions struct {
	// MaxEntries bounds the number of tool calls remembered
	// (DefaultSignatureEntries).
	MaxEntries int
	// MaxBytes bounds the bytes held: len(id) + len(signature) + a fixed
	// overhead per entry (DefaultSignatureBytes). A signature too large to
	// fit on its own is not remembered.
	MaxBytes int64
	// TTL is how long an entry lives after its last use, Remember or a
	// Lookup hit (DefaultSignatureTTL).
	TTL time.Duration
	// Now is the clock; nil is time.Now. Tests inject a fake one.
	Now func() time.Time
}

// SignatureCache remembers the thought signature of each tool call the
// proxy returned, by tool call id, so that ToGemini can send it back to
// Gemini when a client replays the call without extra_content (the OpenAI
// SDK's runTools, LangChain and most agent loops keep only the standard
// fields). Gemini 3 rejects a replayed function call without its signature,
// and the "skip" placeholder makes it lose the reasoning that led to the
// call.
//
// It is a least-recently-used table bounded by entry count, by bytes and by
// idle age; every method is safe for concurrent use. A nil *SignatureCache
// is valid and remembers nothing.
type SignatureCache struct {
	maxEntries int
	maxBytes   int64
	ttl        time.Duration
	now        func() time.Time

	mu    sync.Mutex
	byID  map[string]*sigEntry
	head  *sigEntry // most recently used
	tail  *sigEntry // least recently used: evicted first
	bytes int64
}

type sigEntry struct {
	id, sig    string
	at         time.Time // last use
	prev, next *sigEntry
}

func (e *sigEntry) size() int64 { return int64(len(e.id)+len(e.sig)) + sigEntryOverhead }

// NewSignatureCache returns an empty cache with the given bounds.
func NewSignatureCache(opts SignatureCacheOptions) *SignatureCache {
	c := &SignatureCache{
		maxEntries: opts.MaxEntries,
		maxBytes:   opts.MaxBytes,
		ttl:        opts.TTL,
		now:        opts.Now,
		byID:       make(map[string]*sigEntry),
	}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultSignatureEntries
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultSignatureBytes
	}
	if c.ttl <= 0 {
		c.ttl = DefaultSignatureTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Remember records sig as the thought signature of tool call id, replacing
// an earlier one, and evicts what no longer fits. Empty ids or signatures
// are ignored. The strings are copied, so they never pin a larger buffer.
func (c *SignatureCache) Remember(id, sig string) {
	if c == nil || id == "" || sig == "" {
		return
	}
	size := int64(len(id)+len(sig)) + sigEntryOverhead
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[id]
	if size > c.maxBytes {
		if e != nil {
			c.remove(e) // do not keep a stale signature for this id
		}
		return
	}
	if e != nil {
		if e.sig != sig {
			c.bytes += int64(len(sig) - len(e.sig))
			e.sig = strings.Clone(sig)
		}
		e.at = now
		c.moveToFront(e)
	} else {
		e = &sigEntry{id: strings.Clone(id), sig: strings.Clone(sig), at: now}
		c.byID[e.id] = e
		c.pushFront(e)
		c.bytes += size
	}
	for c.tail != nil && (len(c.byID) > c.maxEntries || c.bytes > c.maxBytes || c.expired(c.tail, now)) {
		c.remove(c.tail)
	}
}

// Lookup returns the signature remembered for tool call id. A hit counts as
// a use: the entry becomes the most recent and its age starts over.
func (c *SignatureCache) Lookup(id string) (string, bool) {
	if c == nil || id == "" {
		return "", false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[id]
	if e == nil {
		return "", false
	}
	if c.expired(e, now) {
		c.remove(e)
		return "", false
	}
	e.at = now
	c.moveToFront(e)
	return e.sig, true
}

// Len returns the number of entries held (some may have expired but not
// yet been dropped).
func (c *SignatureCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

// Bytes returns the bytes accounted to the entries held.
func (c *SignatureCache) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *SignatureCache) expired(e *sigEntry, now time.Time) bool {
	return now.Sub(e.at) > c.ttl
}

func (c *SignatureCache) pushFront(e *sigEntry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *SignatureCache) unlink(e *sigEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (c *SignatureCache) moveToFront(e *sigEntry) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *SignatureCache) remove(e *sigEntry) {
	c.unlink(e)
	delete(c.byID, e.id)
	c.bytes -= e.size()
}
