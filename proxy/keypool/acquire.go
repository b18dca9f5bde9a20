package keypool

import (
	"fmt"
	"strings"
	"time"
)

// Acquire picks a usable key for model: enabled, not cooling down for model,
// and not in skip (the IDs already tried in this request). It marks the key
// used now. When no key qualifies the error is an *ExhaustedError saying why
// and when the soonest cooldown ends.
//
// Acquire does not allocate unless it fails. Its cost does not grow with
// the number of keys in the common case; when most keys are unusable for
// model it scans bitsets, O(keys/64).
func (p *Pool) Acquire(model string, skip []string) (Key, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.nowNano()
	ms := p.models[model]
	if ms != nil {
		ms = p.expire(ms, now)
	}
	var cool, coolPos bitset
	coolEnabled := 0
	if ms != nil {
		cool, coolPos, coolEnabled = ms.cool, ms.coolPos, ms.coolEnabled
	}
	if len(p.byID)-p.nDisabled-coolEnabled > 0 {
		var e *entry
		switch p.strategy {
		case RoundRobin:
			if e = p.scanSlots(p.rrNext, cool, skip); e != nil {
				p.rrNext = e.slot + 1
			}
		case LeastRecentlyUsed:
			e = p.pickLRU(coolPos, skip)
		default:
			e = p.pickRandom(cool, skip)
		}
		if e != nil {
			p.use(e, now)
			return e.key, nil
		}
	}
	return Key{}, p.exhausted(model, ms, now)
}

func skipped(id string, skip []string) bool {
	for _, s := range skip {
		if s == id {
			return true
		}
	}
	return false
}

// scanSlots returns the first usable key at or after slot start, wrapping.
func (p *Pool) scanSlots(start int, cool bitset, skip []string) *entry {
	n := len(p.slots)
	if start >= n {
		start = 0
	}
	from, to := start, n
	for pass := 0; pass < 2; pass++ {
		for {
			i := nextAndNot(p.enabled, cool, from, to)
			if i < 0 {
				break
			}
			if e := p.slots[i]; !skipped(e.key.ID, skip) {
				return e
			}
			from = i + 1
		}
		from, to = 0, start
	}
	return nil
}

// pickRandom picks a usable key uniformly at random: a few random probes
// (enough when most keys are usable), then by rank among the usable ones.
func (p *Pool) pickRandom(cool bitset, skip []string) *entry {
	n := len(p.slots)
	for range randomProbes {
		i := p.rng.IntN(n)
		if p.enabled.has(i) && !cool.has(i) {
			if e := p.slots[i]; !skipped(e.key.ID, skip) {
				return e
			}
		}
	}
	u := countAndNot(p.enabled, cool)
	if u == 0 {
		return nil
	}
	for range 4 {
		if e := p.slots[selectAndNot(p.enabled, cool, p.rng.IntN(u))]; !skipped(e.key.ID, skip) {
			return e
		}
	}
	return p.scanSlots(p.rng.IntN(n), cool, skip)
}

// pickLRU returns the usable key used longest ago.
func (p *Pool) pickLRU(coolPos bitset, skip []string) *entry {
	for from := p.lruHead; ; {
		i := nextAndNot(p.livePos, coolPos, from, len(p.lru))
		if i < 0 {
			return nil
		}
		if e := p.lru[i]; !skipped(e.key.ID, skip) {
			return e
		}
		from = i + 1
	}
}

func (p *Pool) exhausted(model string, ms *modelState, now int64) *ExhaustedError {
	err := &ExhaustedError{Model: model, Total: len(p.byID), Disabled: p.nDisabled}
	if ms != nil {
		err.Cooling = ms.coolEnabled
		if until, ok := ms.soonest(); ok {
			err.RetryAfter = ceilSecond(time.Duration(until - now))
		}
	}
	err.Tried = err.Total - err.Disabled - err.Cooling
	return err
}

// ceilSecond rounds d up to whole seconds, at least one.
func ceilSecond(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second
	return max(s, 1) * time.Second
}

// ExhaustedError is the error of Acquire when no key is usable.
type ExhaustedError struct {
	// Model is the model asked for.
	Model string
	// Total is the number of keys in the pool.
	Total int
	// Disabled keys are out of rotation.
	Disabled int
	// Cooling is the number of enabled keys cooling down for Model.
	Cooling int
	// Tried is the number of the other keys, usable but already tried in
	// this request (in skip).
	Tried int
	// RetryAfter is when the soonest cooldown for Model ends, rounded up to
	// whole seconds (at least 1s); 0 if no cooldown will bring a key back
	// (no keys, all disabled, or none cooling).
	RetryAfter time.Duration
}

// Error says why no key is usable. It never contains a key.
func (e *ExhaustedError) Error() string {
	var b strings.Builder
	forModel := ""
	if e.Model != "" {
		forModel = " for model " + e.Model
	}
	switch {
	case e.Total == 0:
		return "no API keys configured"
	case e.Disabled == e.Total:
		if e.Total == 1 {
			return "the only API key is disabled (invalid or revoked)"
		}
		return fmt.Sprintf("all %d keys are disabled (invalid or revoked)", e.Total)
	case e.Tried == 0:
		if e.Cooling == 1 {
			fmt.Fprintf(&b, "the only usable key is cooling down%s", forModel)
		} else {
			fmt.Fprintf(&b, "all %d usable keys are cooling down%s", e.Cooling, forModel)
		}
		if e.Disabled > 0 {
			fmt.Fprintf(&b, " (%d more disabled)", e.Disabled)
		}
	default:
		if e.Tried == 1 {
			b.WriteString("the only remaining key was already tried in this request")
		} else {
			fmt.Fprintf(&b, "all %d remaining keys were already tried in this request", e.Tried)
		}
		if e.Cooling > 0 {
			fmt.Fprintf(&b, "; %d more cooling down%s", e.Cooling, forModel)
		}
		if e.Disabled > 0 {
			fmt.Fprintf(&b, "; %d disabled", e.Disabled)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; soonest recovery in %s", e.RetryAfter)
	}
	return b.String()
}
