package keypool

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // America/Los_Angeles must load on Windows too

	"github.com/gemini-balance/desktop/proxy/apikey"
)

// Key is a key of the pool.
type Key struct {
	// ID identifies the key (apikey.ID of the raw key). Add and Replace fill
	// an empty ID from the Secret.
	ID string
	// Secret is the key itself.
	Secret apikey.Secret
}

// Strategy is how Acquire chooses among the usable keys.
type Strategy int

const (
	// Random picks a usable key uniformly at random (the default).
	Random Strategy = iota
	// RoundRobin walks the keys in a fixed order, skipping unusable ones.
	RoundRobin
	// LeastRecentlyUsed picks the usable key handed out longest ago (keys
	// never used first).
	LeastRecentlyUsed
)

// String returns "random", "round_robin" or "lru".
func (s Strategy) String() string {
	switch s {
	case Random:
		return "random"
	case RoundRobin:
		return "round_robin"
	case LeastRecentlyUsed:
		return "lru"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy parses "random", "round_robin" or "lru" (case-insensitive;
// "round-robin", "roundrobin" and "least_recently_used" are accepted too).
// The empty string is Random.
func ParseStrategy(s string) (Strategy, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_") {
	case "", "random":
		return Random, nil
	case "round_robin", "roundrobin", "rr":
		return RoundRobin, nil
	case "lru", "least_recently_used":
		return LeastRecentlyUsed, nil
	}
	return Random, fmt.Errorf("keypool: unknown strategy %q (want random, round_robin or lru)", s)
}

// MarshalText implements encoding.TextMarshaler with String.
func (s Strategy) MarshalText() ([]byte, error) {
	if s < Random || s > LeastRecentlyUsed {
		return nil, fmt.Errorf("keypool: invalid strategy %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStrategy.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Options configure a Pool.
type Options struct {
	// Strategy is the initial selection strategy (default Random).
	Strategy Strategy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Seed seeds the random strategy; 0 picks a random seed.
	Seed uint64
}

// Backoff bounds for Cooldown events without a Delay.
const (
	// BackoffMin is the first cooldown of a (key, model) that reports rate
	// limits without a retry delay; each further one doubles it.
	BackoffMin = 5 * time.Second
	// BackoffMax caps the growing backoff.
	BackoffMax = 5 * time.Minute
	// backoffMemory is how long after a cooldown ends its backoff level is
	// remembered; a new rate limit within it cools for twice as long.
	backoffMemory = BackoffMax
	// sweepEvery bounds how often forgotten backoff levels are swept.
	sweepEvery = time.Minute
	// randomProbes is how many random slots Random tries before counting.
	randomProbes = 16
	maxLevel     = 16
)

// Pool holds the API keys and their per-(key, model) state and hands out
// usable keys. All methods are safe for concurrent use.
type Pool struct {
	mu       sync.Mutex
	now      func() time.Time
	rng      *rand.Rand
	strategy Strategy

	byID      map[string]*entry
	slots     []*entry // slot → entry; nil for a free slot
	free      []int32  // free slots
	enabled   bitset   // slots holding a key that is not disabled
	nDisabled int
	nCooling  int // enabled keys cooling for at least one model
	rrNext    int // next slot for RoundRobin

	// lru is the order of use, oldest first, with nil holes left by keys
	// that moved to the back; livePos marks the positions of enabled keys.
	lru     []*entry
	lruHead int // no key before this position
	livePos bitset

	models    map[string]*modelState
	modelList []*modelState
}

type entry struct {
	key      Key
	slot     int
	pos      int // in Pool.lru
	disabled bool
	reason   string
	lastUsed int64 // unix ns; 0 never
	cooling  int   // number of models this key is cooling for
}

// New returns an empty pool.
func New(opts Options) *Pool {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s1, s2 := opts.Seed, opts.Seed*0x9e3779b97f4a7c15+1
	if opts.Seed == 0 {
		s1, s2 = rand.Uint64(), rand.Uint64()
	}
	return &Pool{
		now:      now,
		rng:      rand.New(rand.NewPCG(s1, s2)),
		strategy: opts.Strategy,
		byID:     make(map[string]*entry),
		models:   make(map[string]*modelState),
	}
}

// SetStrategy changes the selection strategy.
func (p *Pool) SetStrategy(s Strategy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.strategy = s
}

// Strategy returns the selection strategy.
func (p *Pool) Strategy() Strategy {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.strategy
}

// Replace makes keys the whole set of the pool. Keys whose ID stays keep
// their state (disabled, cooldowns, last use) and get the new Secret; the
// others are removed; new ones are added as by Add.
func (p *Pool) Replace(keys []Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k, ok := normalize(k); ok {
			want[k.ID] = true
		}
	}
	var gone []string
	for id := range p.byID {
		if !want[id] {
			gone = append(gone, id)
		}
	}
	p.remove(gone)
	p.add(keys)
}

// Add adds keys to the pool. A key whose ID is already present only gets
// its Secret updated. An empty ID is filled with apikey.ID of the Secret;
// keys with a zero Secret are ignored. New keys count as never used.
func (p *Pool) Add(keys ...Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.add(keys)
}

// Remove removes the keys with the given IDs and all their state.
func (p *Pool) Remove(ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.remove(ids)
}

// SetDisabled disables (with reason) or enables a key by hand. A disabled
// key is out of rotation for every model; enabling clears the reason and
// brings it back (its per-model cooldowns, if any, still run). Unknown IDs
// are ignored.
func (p *Pool) SetDisabled(id string, disabled bool, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.byID[id]
	if e == nil {
		return
	}
	if disabled {
		p.disable(e, reason)
	} else {
		p.enable(e)
	}
}

// Get returns the key with the given ID, whatever its state (for key
// affinity: the caller checks usability by other means).
func (p *Pool) Get(id string) (Key, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.byID[id]; e != nil {
		return e.key, true
	}
	return Key{}, false
}

// Counts are the numbers of keys by state.
type Counts struct {
	// Total is the number of keys.
	Total int `json:"total"`
	// Active keys are enabled and not cooling for any model.
	Active int `json:"active"`
	// Cooling keys are enabled and cooling for at least one model.
	Cooling int `json:"cooling"`
	// Disabled keys are out of rotation.
	Disabled int `json:"disabled"`
}

// Counts returns the numbers of keys by state. It costs O(number of models
// with cooldowns), cheap enough to call on every request.
func (p *Pool) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireAll(p.nowNano())
	return Counts{
		Total:    len(p.byID),
		Active:   len(p.byID) - p.nDisabled - p.nCooling,
		Cooling:  p.nCooling,
		Disabled: p.nDisabled,
	}
}

// KeyState is the state of one key, for display.
type KeyState struct {
	// ID is the key's ID.
	ID string
	// Disabled keys are out of rotation for every model.
	Disabled bool
	// Reason says why the key is disabled.
	Reason string
	// Cooling maps each model the key is cooling down for to the end of the
	// cooldown; nil when it is cooling for none.
	Cooling map[string]time.Time
	// LastUsed is when the key was last handed out or reported a success;
	// zero if never.
	LastUsed time.Time
}

// States returns the state of every key, sorted by ID.
func (p *Pool) States() []KeyState {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireAll(p.nowNano())
	out := make([]KeyState, 0, len(p.byID))
	for _, e := range p.byID {
		ks := KeyState{ID: e.key.ID, Disabled: e.disabled, Reason: e.reason}
		if e.lastUsed != 0 {
			ks.LastUsed = time.Unix(0, e.lastUsed)
		}
		if e.cooling > 0 {
			ks.Cooling = make(map[string]time.Time, e.cooling)
			for _, ms := range p.modelList {
				if r := ms.recs[e]; r != nil && r.hidx >= 0 {
					ks.Cooling[ms.name] = time.Unix(0, r.until)
				}
			}
		}
		out = append(out, ks)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (p *Pool) nowNano() int64 { return p.now().UnixNano() }

func normalize(k Key) (Key, bool) {
	if k.Secret.IsZero() {
		return k, false
	}
	if k.ID == "" {
		k.ID = k.Secret.ID()
	}
	return k, true
}

func (p *Pool) add(keys []Key) {
	var fresh []*entry
	for _, k := range keys {
		k, ok := normalize(k)
		if !ok {
			continue
		}
		if e := p.byID[k.ID]; e != nil {
			e.key.Secret = k.Secret
			continue
		}
		e := &entry{key: k}
		if n := len(p.free); n > 0 {
			e.slot = int(p.free[n-1])
			p.free = p.free[:n-1]
			p.slots[e.slot] = e
		} else {
			e.slot = len(p.slots)
			p.slots = append(p.slots, e)
		}
		p.byID[k.ID] = e
		p.enabled.set(e.slot)
		fresh = append(fresh, e)
	}
	if len(fresh) == 0 {
		return
	}
	// New keys go to the front of the order of use: never used.
	lru := make([]*entry, 0, 2*len(p.byID)+64)
	lru = append(lru, fresh...)
	for _, e := range p.lru {
		if e != nil {
			lru = append(lru, e)
		}
	}
	clear(p.lru)
	p.lru = lru
	p.reindexLRU()
}

func (p *Pool) remove(ids []string) {
	for _, id := range ids {
		e := p.byID[id]
		if e == nil {
			continue
		}
		for i := len(p.modelList) - 1; i >= 0; i-- {
			ms := p.modelList[i]
			if r := ms.recs[e]; r != nil {
				p.dropRec(ms, r)
			}
		}
		if e.disabled {
			p.nDisabled--
		} else {
			p.enabled.unset(e.slot)
			p.livePos.unset(e.pos)
		}
		p.lru[e.pos] = nil
		p.slots[e.slot] = nil
		p.free = append(p.free, int32(e.slot))
		delete(p.byID, id)
	}
	for p.lruHead < len(p.lru) && p.lru[p.lruHead] == nil {
		p.lruHead++
	}
}

func (p *Pool) disable(e *entry, reason string) {
	if reason == "" {
		reason = "disabled"
	}
	e.reason = reason
	if e.disabled {
		return
	}
	e.disabled = true
	p.nDisabled++
	p.enabled.unset(e.slot)
	p.livePos.unset(e.pos)
	if e.cooling > 0 {
		p.nCooling--
		for _, ms := range p.modelList {
			if ms.cool.has(e.slot) {
				ms.coolEnabled--
			}
		}
	}
}

func (p *Pool) enable(e *entry) {
	e.reason = ""
	if !e.disabled {
		return
	}
	e.disabled = false
	p.nDisabled--
	p.enabled.set(e.slot)
	p.livePos.set(e.pos)
	if e.cooling > 0 {
		p.nCooling++
		for _, ms := range p.modelList {
			if ms.cool.has(e.slot) {
				ms.coolEnabled++
			}
		}
	}
}

// use records that e was handed out or succeeded now, moving it to the back
// of the order of use.
func (p *Pool) use(e *entry, now int64) {
	e.lastUsed = now
	if len(p.lru) >= 2*len(p.byID)+64 {
		p.compactLRU()
	}
	old := e.pos
	p.lru[old] = nil
	p.livePos.unset(old)
	if e.cooling > 0 {
		for _, ms := range p.modelList {
			if ms.cool.has(e.slot) {
				ms.coolPos.unset(old)
			}
		}
	}
	e.pos = len(p.lru)
	p.lru = append(p.lru, e)
	if !e.disabled {
		p.livePos.set(e.pos)
	}
	if e.cooling > 0 {
		for _, ms := range p.modelList {
			if ms.cool.has(e.slot) {
				ms.coolPos.set(e.pos)
			}
		}
	}
	for p.lruHead < len(p.lru) && p.lru[p.lruHead] == nil {
		p.lruHead++
	}
}

// compactLRU closes the holes of p.lru in place (no allocation).
func (p *Pool) compactLRU() {
	j := 0
	for _, e := range p.lru {
		if e != nil {
			p.lru[j] = e
			j++
		}
	}
	clear(p.lru[j:])
	p.lru = p.lru[:j]
	p.reindexLRU()
}

// reindexLRU recomputes positions and the position bitsets from p.lru.
func (p *Pool) reindexLRU() {
	p.lruHead = 0
	p.livePos.reset()
	for i, e := range p.lru {
		e.pos = i
		if !e.disabled {
			p.livePos.set(i)
		}
	}
	for _, ms := range p.modelList {
		ms.coolPos.reset()
		for _, r := range ms.heap {
			ms.coolPos.set(r.e.pos)
		}
	}
}
