package responses

import (
	"container/list"
	"encoding/json"
	"sync"
	"time"
)

// Default bounds of a Store.
const (
	// DefaultStoreEntries is how many responses a Store keeps by default.
	DefaultStoreEntries = 1000
	// DefaultStoreBytes bounds the bytes a Store holds by default.
	DefaultStoreBytes = 64 << 20
	// DefaultStoreTTL is how long a stored response can be continued.
	DefaultStoreTTL = time.Hour
)

// storeEntryOverhead approximates what an entry costs besides its bytes.
const storeEntryOverhead = 256

// StoreOptions bound a Store. Zero values take the defaults.
type StoreOptions struct {
	MaxEntries int
	MaxBytes   int64
	TTL        time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Store keeps recent responses in memory so that a request with
// previous_response_id can continue them: each entry is the whole
// conversation as input items (the history the response answered, then its
// output items). It is bounded by entry count, by bytes and by age (from
// when the response was stored); the least recently used entry goes first.
// Nothing survives a restart. A nil *Store holds nothing. Safe for
// concurrent use.
type Store struct {
	maxEntries int
	maxBytes   int64
	ttl        time.Duration
	now        func() time.Time

	mu    sync.Mutex
	byID  map[string]*list.Element
	lru   list.List // front: most recently used
	bytes int64
}

type storeEntry struct {
	id    string
	items []json.RawMessage // slices of data
	size  int64
	at    time.Time
}

// NewStore returns an empty store with the given bounds.
func NewStore(opts StoreOptions) *Store {
	s := &Store{maxEntries: opts.MaxEntries, maxBytes: opts.MaxBytes, ttl: opts.TTL, now: opts.Now, byID: map[string]*list.Element{}}
	if s.maxEntries <= 0 {
		s.maxEntries = DefaultStoreEntries
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultStoreBytes
	}
	if s.ttl <= 0 {
		s.ttl = DefaultStoreTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Put stores the conversation of response id: history (its input items)
// followed by output. The bytes are copied. A conversation larger than the
// byte bound is not stored.
func (s *Store) Put(id string, history []json.RawMessage, output []OutputItem) {
	if s == nil || id == "" {
		return
	}
	var data []byte
	ends := make([]int, 0, len(history)+len(output))
	for _, h := range history {
		data = append(data, h...)
		ends = append(ends, len(data))
	}
	for i := range output {
		data = output[i].AppendJSON(data)
		ends = append(ends, len(data))
	}
	items := make([]json.RawMessage, len(ends))
	start := 0
	for i, end := range ends {
		items[i] = data[start:end:end]
		start = end
	}
	e := &storeEntry{id: id, items: items, size: int64(len(data)+len(id)+24*len(items)) + storeEntryOverhead, at: s.now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[id]; ok {
		s.remove(old)
	}
	if e.size > s.maxBytes {
		return
	}
	s.byID[id] = s.lru.PushFront(e)
	s.bytes += e.size
	for s.lru.Len() > 0 && (s.lru.Len() > s.maxEntries || s.bytes > s.maxBytes ||
		e.at.Sub(s.lru.Back().Value.(*storeEntry).at) > s.ttl) {
		s.remove(s.lru.Back())
	}
}

// Get returns the conversation stored for response id. The items must not
// be modified.
func (s *Store) Get(id string) ([]json.RawMessage, bool) {
	if s == nil || id == "" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	e := el.Value.(*storeEntry)
	if s.now().Sub(e.at) > s.ttl {
		s.remove(el)
		return nil, false
	}
	s.lru.MoveToFront(el)
	return e.items, true
}

// Len returns the number of responses held.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// Bytes returns the bytes accounted to the responses held.
func (s *Store) Bytes() int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

func (s *Store) remove(el *list.Element) {
	e := s.lru.Remove(el).(*storeEntry)
	delete(s.byID, e.id)
	s.bytes -= e.size
}
