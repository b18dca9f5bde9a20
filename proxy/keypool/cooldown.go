package keypool

import (
	"fmt"
	"time"
)

// EventKind is what an upstream answer means for the key that served it.
type EventKind int

const (
	// Success clears the backoff of (key, model) and updates the key's last
	// use. A cooldown already running is left to run: the success may come
	// from a request that started before it.
	Success EventKind = iota
	// Neutral is not the key's fault (client error, region, transient
	// upstream trouble): no penalty.
	Neutral
	// Cooldown cools (key, model) for Delay. With Delay 0 the cooldown grows
	// with each rate limit of (key, model): 5s, 10s, 20s, … capped at 5m; the
	// level is forgotten on Success or 5m after the cooldown ends.
	Cooldown
	// DailyQuota parks (key, model) until the next midnight, US Pacific time.
	DailyQuota
	// Disable takes the key out of rotation for every model; Reason is kept.
	Disable
)

// String returns the lower-case name of the kind.
func (k EventKind) String() string {
	switch k {
	case Success:
		return "success"
	case Neutral:
		return "neutral"
	case Cooldown:
		return "cooldown"
	case DailyQuota:
		return "daily_quota"
	case Disable:
		return "disable"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is the outcome of an upstream call, reported with Pool.Report.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Delay is the cooldown of a Cooldown event (0: growing backoff).
	Delay time.Duration
	// Reason says why a key is disabled (Disable); never a key.
	Reason string
}

// rec is the state of one (key, model): a running cooldown and/or a
// remembered backoff level.
type rec struct {
	e      *entry
	until  int64 // end of the cooldown (unix ns), while hidx >= 0
	forget int64 // the backoff level is dropped after this (unix ns)
	level  int   // backoff level: the last growing cooldown was BackoffMin<<(level-1)
	hidx   int   // index in modelState.heap; -1 when not cooling
}

// modelState is the per-model state: the (key, model) records, a min-heap of
// the running cooldowns by end, and the cooling keys as bitsets by slot and
// by position in the order of use. It exists only while it has records.
type modelState struct {
	name        string
	recs        map[*entry]*rec
	heap        []*rec
	cool        bitset // by slot
	coolPos     bitset // by position in Pool.lru
	coolEnabled int    // enabled keys cooling for this model
	nextSweep   int64
}

// Report records the outcome of a call made with key id for model. Unknown
// IDs are ignored.
func (p *Pool) Report(id, model string, ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.byID[id]
	if e == nil {
		return
	}
	now := p.nowNano()
	p.expireAll(now)
	switch ev.Kind {
	case Success:
		e.lastUsed = now
		if ms := p.models[model]; ms != nil {
			if r := ms.recs[e]; r != nil {
				r.level = 0
				if r.hidx < 0 {
					p.dropRec(ms, r)
				}
			}
		}
	case Cooldown:
		ms := p.model(model, now)
		r := ms.rec(e)
		d := ev.Delay
		if d <= 0 {
			if r.hidx >= 0 {
				return // already cooling: the same incident, seen by a parallel request
			}
			if r.level < maxLevel {
				r.level++
			}
			d = backoff(r.level)
		}
		p.coolUntil(ms, r, now+int64(d))
	case DailyQuota:
		ms := p.model(model, now)
		p.coolUntil(ms, ms.rec(e), p.nextPacificMidnight(now))
	case Disable:
		p.disable(e, ev.Reason)
	}
}

// backoff returns the cooldown for a backoff level ≥ 1.
func backoff(level int) time.Duration {
	d := BackoffMin
	for i := 1; i < level && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

// nextPacificMidnight returns the next midnight in America/Los_Angeles after
// now, when Google resets daily quotas.
func (p *Pool) nextPacificMidnight(now int64) int64 {
	_, end := QuotaDay(time.Unix(0, now))
	return end.UnixNano()
}

// quotaZone is where Google's free-tier daily quotas reset.
var quotaZone = loadQuotaZone()

func loadQuotaZone() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil { // cannot happen with time/tzdata linked in
		return time.FixedZone("PST", -8*60*60)
	}
	return loc
}

// QuotaDay returns the free-tier quota day that contains t: from the last
// midnight in America/Los_Angeles (when Google resets daily quotas) to the
// next one. A day is 23, 24 or 25 hours long (DST). The pool parks a
// (key, model) whose daily quota is gone until end; the statistics count
// today's requests from start.
func QuotaDay(t time.Time) (start, end time.Time) {
	l := t.In(quotaZone)
	y, m, d := l.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, quotaZone), time.Date(y, m, d+1, 0, 0, 0, 0, quotaZone)
}

// model returns the state of model, creating it.
func (p *Pool) model(name string, now int64) *modelState {
	if ms := p.models[name]; ms != nil {
		return ms
	}
	ms := &modelState{name: name, recs: make(map[*entry]*rec), nextSweep: now + int64(sweepEvery)}
	p.models[name] = ms
	p.modelList = append(p.modelList, ms)
	return ms
}

func (p *Pool) dropModel(ms *modelState) {
	delete(p.models, ms.name)
	for i, m := range p.modelList {
		if m == ms {
			last := len(p.modelList) - 1
			p.modelList[i] = p.modelList[last]
			p.modelList[last] = nil
			p.modelList = p.modelList[:last]
			return
		}
	}
}

// rec returns the record of e, creating it.
func (ms *modelState) rec(e *entry) *rec {
	r := ms.recs[e]
	if r == nil {
		r = &rec{e: e, hidx: -1}
		ms.recs[e] = r
	}
	return r
}

// coolUntil makes r cool until the later of its current end and until.
func (p *Pool) coolUntil(ms *modelState, r *rec, until int64) {
	if r.hidx >= 0 {
		if until > r.until {
			r.until = until
			ms.fix(r.hidx)
		}
	} else {
		r.until = until
		ms.push(r)
		e := r.e
		ms.cool.set(e.slot)
		ms.coolPos.set(e.pos)
		e.cooling++
		if !e.disabled {
			ms.coolEnabled++
			if e.cooling == 1 {
				p.nCooling++
			}
		}
	}
	if r.level > 0 {
		r.forget = max(r.forget, r.until+int64(backoffMemory))
	}
}

// stopCooling ends the cooldown of r; r stays in ms.recs.
func (p *Pool) stopCooling(ms *modelState, r *rec) {
	ms.remove(r.hidx)
	e := r.e
	ms.cool.unset(e.slot)
	ms.coolPos.unset(e.pos)
	e.cooling--
	if !e.disabled {
		ms.coolEnabled--
		if e.cooling == 0 {
			p.nCooling--
		}
	}
}

// dropRec forgets r entirely, and ms too if it has no records left.
func (p *Pool) dropRec(ms *modelState, r *rec) {
	if r.hidx >= 0 {
		p.stopCooling(ms, r)
	}
	delete(ms.recs, r.e)
	if len(ms.recs) == 0 {
		p.dropModel(ms)
	}
}

// expire ends the cooldowns of ms that are over, now and then forgets old
// backoff levels, and drops ms when nothing is left. It returns ms, or nil
// when it was dropped. Cost: O(1) when nothing expired.
func (p *Pool) expire(ms *modelState, now int64) *modelState {
	for len(ms.heap) > 0 && ms.heap[0].until <= now {
		r := ms.heap[0]
		p.stopCooling(ms, r)
		if r.level == 0 || r.forget <= now {
			delete(ms.recs, r.e)
		}
	}
	if now >= ms.nextSweep {
		for e, r := range ms.recs {
			if r.hidx < 0 && r.forget <= now {
				delete(ms.recs, e)
			}
		}
		ms.nextSweep = now + int64(sweepEvery)
	}
	if len(ms.recs) == 0 {
		p.dropModel(ms)
		return nil
	}
	return ms
}

func (p *Pool) expireAll(now int64) {
	for i := len(p.modelList) - 1; i >= 0; i-- {
		p.expire(p.modelList[i], now)
	}
}

// soonest returns the earliest end of a cooldown of an enabled key in ms.
func (ms *modelState) soonest() (int64, bool) {
	if len(ms.heap) == 0 {
		return 0, false
	}
	if !ms.heap[0].e.disabled {
		return ms.heap[0].until, true
	}
	var best int64
	ok := false
	for _, r := range ms.heap {
		if !r.e.disabled && (!ok || r.until < best) {
			best, ok = r.until, true
		}
	}
	return best, ok
}

// The heap of running cooldowns, by end.

func (ms *modelState) less(i, j int) bool { return ms.heap[i].until < ms.heap[j].until }

func (ms *modelState) swap(i, j int) {
	h := ms.heap
	h[i], h[j] = h[j], h[i]
	h[i].hidx = i
	h[j].hidx = j
}

func (ms *modelState) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !ms.less(j, i) {
			break
		}
		ms.swap(i, j)
		j = i
	}
}

func (ms *modelState) down(i0 int) bool {
	i, n := i0, len(ms.heap)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && ms.less(j2, j) {
			j = j2
		}
		if !ms.less(j, i) {
			break
		}
		ms.swap(i, j)
		i = j
	}
	return i > i0
}

func (ms *modelState) push(r *rec) {
	r.hidx = len(ms.heap)
	ms.heap = append(ms.heap, r)
	ms.up(r.hidx)
}

func (ms *modelState) remove(i int) {
	last := len(ms.heap) - 1
	r := ms.heap[i]
	if i != last {
		ms.swap(i, last)
	}
	ms.heap[last] = nil
	ms.heap = ms.heap[:last]
	r.hidx = -1
	if i != last {
		ms.fix(i)
	}
}

func (ms *modelState) fix(i int) {
	if !ms.down(i) {
		ms.up(i)
	}
}

// RecoversIn returns how long until the soonest cooldown of an enabled key
// for model ends, rounded up to whole seconds; 0 when none is cooling.
// The proxy uses it for the Retry-After of a 429 that Google sent without
// a delay.
func (p *Pool) RecoversIn(model string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.nowNano()
	ms := p.models[model]
	if ms != nil {
		ms = p.expire(ms, now)
	}
	if ms == nil {
		return 0
	}
	until, ok := ms.soonest()
	if !ok {
		return 0
	}
	return ceilSecond(time.Duration(until - now))
}
