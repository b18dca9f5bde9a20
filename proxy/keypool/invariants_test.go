package keypool

import (
	"fmt"
	"slices"
)

// check recomputes everything the pool maintains incrementally and reports
// the first mismatch.
func (p *Pool) check() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	nDisabled, nCooling := 0, 0
	for id, e := range p.byID {
		if e.key.ID != id {
			return fmt.Errorf("byID[%s] holds key %s", id, e.key.ID)
		}
		if e.slot >= len(p.slots) || p.slots[e.slot] != e {
			return fmt.Errorf("key %s: slot %d does not hold it", id, e.slot)
		}
		if e.pos >= len(p.lru) || p.lru[e.pos] != e {
			return fmt.Errorf("key %s: lru[%d] does not hold it", id, e.pos)
		}
		if e.pos < p.lruHead {
			return fmt.Errorf("key %s at lru %d before head %d", id, e.pos, p.lruHead)
		}
		if p.enabled.has(e.slot) == e.disabled {
			return fmt.Errorf("key %s: enabled bit %v, disabled %v", id, p.enabled.has(e.slot), e.disabled)
		}
		if p.livePos.has(e.pos) == e.disabled {
			return fmt.Errorf("key %s: livePos bit %v, disabled %v", id, p.livePos.has(e.pos), e.disabled)
		}
		cooling := 0
		for _, ms := range p.modelList {
			if r := ms.recs[e]; r != nil && r.hidx >= 0 {
				cooling++
			}
		}
		if cooling != e.cooling {
			return fmt.Errorf("key %s: cooling %d, want %d", id, e.cooling, cooling)
		}
		if e.disabled {
			nDisabled++
		} else if e.cooling > 0 {
			nCooling++
		}
	}
	if nDisabled != p.nDisabled || nCooling != p.nCooling {
		return fmt.Errorf("nDisabled, nCooling = %d, %d, want %d, %d", p.nDisabled, p.nCooling, nDisabled, nCooling)
	}
	live := 0
	for i, e := range p.lru {
		if e != nil {
			live++
			if e.pos != i {
				return fmt.Errorf("lru[%d] = key %s with pos %d", i, e.key.ID, e.pos)
			}
		}
	}
	if live != len(p.byID) {
		return fmt.Errorf("lru holds %d keys, want %d", live, len(p.byID))
	}
	used := 0
	for i, e := range p.slots {
		if e != nil {
			used++
		} else if p.enabled.has(i) || !slices.Contains(p.free, int32(i)) {
			return fmt.Errorf("free slot %d: enabled %v, in free list %v", i, p.enabled.has(i), slices.Contains(p.free, int32(i)))
		}
	}
	if used != len(p.byID) || used+len(p.free) != len(p.slots) {
		return fmt.Errorf("slots: %d used, %d free, %d total, want %d used", used, len(p.free), len(p.slots), len(p.byID))
	}
	if n := countAndNot(p.enabled, nil); n != len(p.byID)-p.nDisabled {
		return fmt.Errorf("enabled bits = %d, want %d", n, len(p.byID)-p.nDisabled)
	}
	if n := countAndNot(p.livePos, nil); n != len(p.byID)-p.nDisabled {
		return fmt.Errorf("livePos bits = %d, want %d", n, len(p.byID)-p.nDisabled)
	}
	if len(p.models) != len(p.modelList) {
		return fmt.Errorf("%d models in map, %d in list", len(p.models), len(p.modelList))
	}
	for _, ms := range p.modelList {
		if p.models[ms.name] != ms {
			return fmt.Errorf("model %q not in map", ms.name)
		}
		if len(ms.recs) == 0 {
			return fmt.Errorf("model %q kept without records", ms.name)
		}
		coolEnabled := 0
		for i, r := range ms.heap {
			if r.hidx != i {
				return fmt.Errorf("model %q: heap[%d].hidx = %d", ms.name, i, r.hidx)
			}
			if i > 0 && ms.heap[(i-1)/2].until > r.until {
				return fmt.Errorf("model %q: heap order broken at %d", ms.name, i)
			}
			if ms.recs[r.e] != r || p.byID[r.e.key.ID] != r.e {
				return fmt.Errorf("model %q: heap rec of %s not in recs or pool", ms.name, r.e.key.ID)
			}
			if !ms.cool.has(r.e.slot) || !ms.coolPos.has(r.e.pos) {
				return fmt.Errorf("model %q: cooling key %s bits missing", ms.name, r.e.key.ID)
			}
			if !r.e.disabled {
				coolEnabled++
			}
		}
		if coolEnabled != ms.coolEnabled {
			return fmt.Errorf("model %q: coolEnabled %d, want %d", ms.name, ms.coolEnabled, coolEnabled)
		}
		if n := countAndNot(ms.cool, nil); n != len(ms.heap) {
			return fmt.Errorf("model %q: %d cool bits, want %d", ms.name, n, len(ms.heap))
		}
		if n := countAndNot(ms.coolPos, nil); n != len(ms.heap) {
			return fmt.Errorf("model %q: %d coolPos bits, want %d", ms.name, n, len(ms.heap))
		}
		for e, r := range ms.recs {
			if r.e != e || p.byID[e.key.ID] != e {
				return fmt.Errorf("model %q: stale record for %s", ms.name, e.key.ID)
			}
			if r.hidx < 0 && r.level == 0 {
				return fmt.Errorf("model %q: idle record without backoff for %s", ms.name, e.key.ID)
			}
		}
	}
	return nil
}
