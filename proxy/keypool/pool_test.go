package keypool

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/apikey"
)

const (
	pro   = "gemini-2.5-pro"
	flash = "gemini-2.5-flash"
)

// fakeKeys returns n well-formed, made-up keys.
func fakeKeys(n int) []Key {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
	r := rand.New(rand.NewPCG(uint64(n), 42))
	keys := make([]Key, n)
	for i := range keys {
		b := []byte("AIza")
		for range 35 {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		s := apikey.NewSecret(string(b))
		keys[i] = Key{ID: fmt.Sprintf("k%05d", i), Secret: s}
	}
	return keys
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newPool(t testing.TB, n int, s Strategy) (*Pool, *clock, []Key) {
	t.Helper()
	c := newClock(t0)
	p := New(Options{Strategy: s, Now: c.Now, Seed: 1})
	keys := fakeKeys(n)
	p.Replace(keys)
	mustCheck(t, p)
	return p, c, keys
}

func mustCheck(t testing.TB, p *Pool) {
	t.Helper()
	if err := p.check(); err != nil {
		t.Fatalf("pool invariants: %v", err)
	}
}

func exhausted(t *testing.T, err error) *ExhaustedError {
	t.Helper()
	var ee *ExhaustedError
	if !errors.As(err, &ee) {
		t.Fatalf("Acquire error = %v, want *ExhaustedError", err)
	}
	return ee
}

// usableIDs drains the pool for model: the IDs Acquire hands out before it
// is exhausted (each key once, thanks to skip).
func usableIDs(t *testing.T, p *Pool, model string) map[string]bool {
	t.Helper()
	var skip []string
	for {
		k, err := p.Acquire(model, skip)
		if err != nil {
			exhausted(t, err)
			break
		}
		skip = append(skip, k.ID)
	}
	got := map[string]bool{}
	for _, id := range skip {
		if got[id] {
			t.Fatalf("Acquire(%q, skip) returned %s twice", model, id)
		}
		got[id] = true
	}
	return got
}

func TestParseStrategy(t *testing.T) {
	tests := []struct {
		in      string
		want    Strategy
		wantErr bool
	}{
		{"random", Random, false},
		{"", Random, false},
		{"round_robin", RoundRobin, false},
		{"Round-Robin", RoundRobin, false},
		{"lru", LeastRecentlyUsed, false},
		{"LRU", LeastRecentlyUsed, false},
		{"least_recently_used", LeastRecentlyUsed, false},
		{"weighted", Random, true},
	}
	for _, tt := range tests {
		got, err := ParseStrategy(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseStrategy(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText() error %v", s, err)
		}
		var back Strategy
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, s)
		}
		if got, _ := ParseStrategy(s.String()); got != s {
			t.Errorf("ParseStrategy(%v.String()) = %v", s, got)
		}
	}
	if _, err := Strategy(9).MarshalText(); err == nil {
		t.Errorf("Strategy(9).MarshalText() error = nil, want error")
	}
}

func TestEmptyPool(t *testing.T) {
	p := New(Options{})
	_, err := p.Acquire(pro, nil)
	ee := exhausted(t, err)
	if got, want := ee.Error(), "no API keys configured"; got != want {
		t.Errorf("Acquire on empty pool: error %q, want %q", got, want)
	}
	if ee.RetryAfter != 0 {
		t.Errorf("Acquire on empty pool: RetryAfter = %v, want 0", ee.RetryAfter)
	}
	if got := p.Counts(); got != (Counts{}) {
		t.Errorf("Counts() = %+v, want zero", got)
	}
}

func TestEvents(t *testing.T) {
	type step struct {
		advance time.Duration
		id      int // key index
		model   string
		ev      Event
	}
	type want struct {
		model      string
		usable     []int // key indexes usable for model
		retryAfter time.Duration
		counts     Counts
	}
	tests := []struct {
		name  string
		steps []step
		want  []want
	}{
		{
			name:  "success keeps everything usable",
			steps: []step{{id: 0, model: pro, ev: Event{Kind: Success}}, {id: 1, model: pro, ev: Event{Kind: Neutral}}},
			want:  []want{{model: pro, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Active: 3}}},
		},
		{
			name:  "cooldown is per model",
			steps: []step{{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: 30 * time.Second}}},
			want: []want{
				{model: pro, usable: []int{1, 2}, counts: Counts{Total: 3, Active: 2, Cooling: 1}},
				{model: flash, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Active: 2, Cooling: 1}},
			},
		},
		{
			name: "cooldown ends",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: 30 * time.Second}},
				{advance: 30 * time.Second, id: 1, model: pro, ev: Event{Kind: Neutral}},
			},
			want: []want{{model: pro, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Active: 3}}},
		},
		{
			name: "all cooling",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: 30 * time.Second}},
				{id: 1, model: pro, ev: Event{Kind: Cooldown, Delay: 1500 * time.Millisecond}},
				{id: 2, model: pro, ev: Event{Kind: Cooldown, Delay: 2 * time.Minute}},
			},
			want: []want{
				{model: pro, usable: nil, retryAfter: 2 * time.Second, counts: Counts{Total: 3, Cooling: 3}},
				{model: flash, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Cooling: 3}},
			},
		},
		{
			name: "retry after rounds up to at least a second",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: 100 * time.Millisecond}},
				{id: 1, model: pro, ev: Event{Kind: Cooldown, Delay: time.Hour}},
				{id: 2, model: pro, ev: Event{Kind: Disable, Reason: "API key expired"}},
			},
			want: []want{{model: pro, usable: nil, retryAfter: time.Second, counts: Counts{Total: 3, Cooling: 2, Disabled: 1}}},
		},
		{
			name: "shorter cooldown does not shorten a running one",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: time.Minute}},
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: time.Second}},
				{advance: 30 * time.Second, id: 1, model: pro, ev: Event{Kind: Neutral}},
			},
			want: []want{{model: pro, usable: []int{1, 2}, counts: Counts{Total: 3, Active: 2, Cooling: 1}}},
		},
		{
			name: "success does not end a running cooldown",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: time.Minute}},
				{id: 0, model: pro, ev: Event{Kind: Success}},
			},
			want: []want{{model: pro, usable: []int{1, 2}, counts: Counts{Total: 3, Active: 2, Cooling: 1}}},
		},
		{
			name: "daily quota parks until pacific midnight",
			steps: []step{ // t0 is 2025-06-01 12:00 UTC = 05:00 PDT: midnight is 19h away
				{id: 0, model: pro, ev: Event{Kind: DailyQuota}},
				{id: 1, model: pro, ev: Event{Kind: DailyQuota}},
				{id: 2, model: pro, ev: Event{Kind: DailyQuota}},
			},
			want: []want{
				{model: pro, usable: nil, retryAfter: 19 * time.Hour, counts: Counts{Total: 3, Cooling: 3}},
				{model: flash, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Cooling: 3}},
			},
		},
		{
			name: "daily quota ends at pacific midnight",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: DailyQuota}},
				{advance: 19*time.Hour - time.Second, id: 1, model: flash, ev: Event{Kind: Neutral}},
			},
			want: []want{{model: pro, usable: []int{1, 2}, retryAfter: 0, counts: Counts{Total: 3, Active: 2, Cooling: 1}}},
		},
		{
			name: "daily quota over",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: DailyQuota}},
				{advance: 19 * time.Hour, id: 1, model: flash, ev: Event{Kind: Neutral}},
			},
			want: []want{{model: pro, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Active: 3}}},
		},
		{
			name: "disable is for every model",
			steps: []step{
				{id: 1, model: pro, ev: Event{Kind: Disable, Reason: "API key not valid"}},
			},
			want: []want{
				{model: pro, usable: []int{0, 2}, counts: Counts{Total: 3, Active: 2, Disabled: 1}},
				{model: flash, usable: []int{0, 2}, counts: Counts{Total: 3, Active: 2, Disabled: 1}},
			},
		},
		{
			name: "all disabled",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Disable}},
				{id: 1, model: pro, ev: Event{Kind: Disable}},
				{id: 2, model: flash, ev: Event{Kind: Cooldown, Delay: time.Minute}},
				{id: 2, model: flash, ev: Event{Kind: Disable}},
			},
			want: []want{
				{model: pro, usable: nil, retryAfter: 0, counts: Counts{Total: 3, Disabled: 3}},
				{model: flash, usable: nil, retryAfter: 0, counts: Counts{Total: 3, Disabled: 3}},
			},
		},
		{
			name: "cooling key disabled then its cooldown ends",
			steps: []step{
				{id: 0, model: pro, ev: Event{Kind: Cooldown, Delay: time.Minute}},
				{id: 0, model: pro, ev: Event{Kind: Disable}},
				{advance: time.Minute, id: 1, model: pro, ev: Event{Kind: Neutral}},
			},
			want: []want{{model: pro, usable: []int{1, 2}, counts: Counts{Total: 3, Active: 2, Disabled: 1}}},
		},
		{
			name: "unknown key and kind ignored",
			steps: []step{
				{id: -1, model: pro, ev: Event{Kind: Disable}},
				{id: 0, model: pro, ev: Event{Kind: EventKind(42)}},
			},
			want: []want{{model: pro, usable: []int{0, 1, 2}, counts: Counts{Total: 3, Active: 3}}},
		},
	}
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		for _, tt := range tests {
			t.Run(s.String()+"/"+tt.name, func(t *testing.T) {
				p, c, keys := newPool(t, 3, s)
				for _, st := range tt.steps {
					c.Advance(st.advance)
					id := "nope"
					if st.id >= 0 {
						id = keys[st.id].ID
					}
					p.Report(id, st.model, st.ev)
					mustCheck(t, p)
				}
				for _, w := range tt.want {
					if got := p.Counts(); got != w.counts {
						t.Errorf("Counts() = %+v, want %+v", got, w.counts)
					}
					got := usableIDs(t, p, w.model)
					if len(got) != len(w.usable) {
						t.Errorf("usable for %s = %v, want key indexes %v", w.model, got, w.usable)
					}
					for _, i := range w.usable {
						if !got[keys[i].ID] {
							t.Errorf("usable for %s = %v, missing %s", w.model, got, keys[i].ID)
						}
					}
					if len(w.usable) == 0 {
						_, err := p.Acquire(w.model, nil)
						if ee := exhausted(t, err); ee.RetryAfter != w.retryAfter {
							t.Errorf("Acquire(%s).RetryAfter = %v, want %v (%v)", w.model, ee.RetryAfter, w.retryAfter, ee)
						}
					}
					mustCheck(t, p)
				}
			})
		}
	}
}

// cooldownFor reports a Delay-0 cooldown for key and returns how long it is.
func cooldownFor(t *testing.T, p *Pool, c *clock, key Key, model string) time.Duration {
	t.Helper()
	p.Report(key.ID, model, Event{Kind: Cooldown})
	mustCheck(t, p)
	_, err := p.Acquire(model, nil)
	return exhausted(t, err).RetryAfter
}

func TestBackoff(t *testing.T) {
	p, c, keys := newPool(t, 1, Random)
	k := keys[0]
	var got []time.Duration
	for range 9 {
		d := cooldownFor(t, p, c, k, pro)
		got = append(got, d)
		c.Advance(d)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("growing backoff = %v, want %v", got, want)
	}

	// Another model has its own level.
	if d := cooldownFor(t, p, c, k, flash); d != 5*time.Second {
		t.Errorf("backoff on another model = %v, want 5s", d)
	}
	c.Advance(5 * time.Second)

	// A parallel rate limit while cooling is the same incident.
	d1 := cooldownFor(t, p, c, k, flash)
	d2 := cooldownFor(t, p, c, k, flash)
	if d1 != 10*time.Second || d2 != 10*time.Second {
		t.Errorf("backoff with a report while cooling = %v then %v, want 10s twice", d1, d2)
	}
	c.Advance(10 * time.Second)

	// Success resets the level.
	p.Report(k.ID, pro, Event{Kind: Success})
	if d := cooldownFor(t, p, c, k, pro); d != 5*time.Second {
		t.Errorf("backoff after Success = %v, want 5s", d)
	}
	c.Advance(5 * time.Second)
	if d := cooldownFor(t, p, c, k, pro); d != 10*time.Second {
		t.Errorf("backoff after Success, second = %v, want 10s", d)
	}

	// The level is forgotten after a quiet while.
	c.Advance(10*time.Second + backoffMemory)
	if d := cooldownFor(t, p, c, k, pro); d != 5*time.Second {
		t.Errorf("backoff after a quiet while = %v, want 5s", d)
	}

	// An explicit delay does not change the level.
	c.Advance(5 * time.Second)
	p.Report(k.ID, pro, Event{Kind: Cooldown, Delay: 47 * time.Second})
	c.Advance(47 * time.Second)
	if d := cooldownFor(t, p, c, k, pro); d != 10*time.Second {
		t.Errorf("backoff after an explicit delay = %v, want 10s", d)
	}
}

func TestDailyQuotaPacificMidnight(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"summer morning", time.Date(2025, 6, 1, 5, 0, 0, 0, la), time.Date(2025, 6, 2, 0, 0, 0, 0, la)},
		{"winter evening", time.Date(2025, 1, 15, 23, 59, 59, 0, la), time.Date(2025, 1, 16, 0, 0, 0, 0, la)},
		{"at midnight", time.Date(2025, 1, 15, 0, 0, 0, 0, la), time.Date(2025, 1, 16, 0, 0, 0, 0, la)},
		{"utc date ahead", time.Date(2025, 1, 15, 20, 0, 0, 0, la), time.Date(2025, 1, 16, 0, 0, 0, 0, la)},
		// 2025-03-09 is 23 hours long in Los Angeles (PST → PDT at 02:00).
		{"spring forward day", time.Date(2025, 3, 9, 1, 0, 0, 0, la), time.Date(2025, 3, 10, 0, 0, 0, 0, la)},
		{"day before spring forward", time.Date(2025, 3, 8, 12, 0, 0, 0, la), time.Date(2025, 3, 9, 0, 0, 0, 0, la)},
		// 2025-11-02 is 25 hours long (PDT → PST at 02:00).
		{"fall back day", time.Date(2025, 11, 2, 0, 30, 0, 0, la), time.Date(2025, 11, 3, 0, 0, 0, 0, la)},
		{"fall back repeated hour", time.Date(2025, 11, 2, 8, 30, 0, 0, time.UTC), time.Date(2025, 11, 3, 0, 0, 0, 0, la)},
		{"year end", time.Date(2025, 12, 31, 18, 0, 0, 0, la), time.Date(2026, 1, 1, 0, 0, 0, 0, la)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock(tt.now.In(time.UTC))
			p := New(Options{Now: c.Now})
			k := fakeKeys(1)[0]
			p.Add(k)
			p.Report(k.ID, pro, Event{Kind: DailyQuota})
			want := tt.want.Sub(tt.now)
			_, err := p.Acquire(pro, nil)
			if got := exhausted(t, err).RetryAfter; got != want {
				t.Errorf("DailyQuota at %v: RetryAfter = %v, want %v (until %v)", tt.now, got, want, tt.want)
			}
			st := p.States()
			if got := st[0].Cooling[pro]; !got.Equal(tt.want) {
				t.Errorf("DailyQuota at %v: States cooling until %v, want %v", tt.now, got, tt.want)
			}
			c.Advance(want - time.Nanosecond)
			if _, err := p.Acquire(pro, nil); err == nil {
				t.Errorf("Acquire 1ns before midnight succeeded, want parked")
			}
			c.Advance(time.Nanosecond)
			if _, err := p.Acquire(pro, nil); err != nil {
				t.Errorf("Acquire at midnight = %v, want a key", err)
			}
		})
	}
	// The naive "24h after the previous midnight" would be an hour off here.
	if d := time.Date(2025, 3, 10, 0, 0, 0, 0, la).Sub(time.Date(2025, 3, 9, 0, 0, 0, 0, la)); d != 23*time.Hour {
		t.Fatalf("tzdata: 2025-03-09 in Los Angeles lasts %v, want 23h", d)
	}
}

func TestDisableAndEnable(t *testing.T) {
	p, _, keys := newPool(t, 3, RoundRobin)
	p.Report(keys[0].ID, pro, Event{Kind: Disable, Reason: "API key not valid. Please pass a valid API key."})
	p.SetDisabled(keys[1].ID, true, "")
	mustCheck(t, p)
	st := p.States()
	if !st[0].Disabled || st[0].Reason != "API key not valid. Please pass a valid API key." {
		t.Errorf("States()[0] = %+v, want disabled with the reported reason", st[0])
	}
	if !st[1].Disabled || st[1].Reason != "disabled" {
		t.Errorf("States()[1] = %+v, want disabled with reason %q", st[1], "disabled")
	}
	if got, want := p.Counts(), (Counts{Total: 3, Active: 1, Disabled: 2}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	for range 5 {
		k, err := p.Acquire(flash, nil)
		if err != nil || k.ID != keys[2].ID {
			t.Fatalf("Acquire = %v, %v; want the only enabled key", k.ID, err)
		}
	}
	p.SetDisabled(keys[2].ID, true, "revoked")
	_, err := p.Acquire(flash, nil)
	if got, want := exhausted(t, err).Error(), "all 3 keys are disabled (invalid or revoked)"; got != want {
		t.Errorf("Acquire error = %q, want %q", got, want)
	}
	p.SetDisabled(keys[0].ID, false, "")
	p.SetDisabled("unknown", false, "")
	mustCheck(t, p)
	if st := p.States(); st[0].Disabled || st[0].Reason != "" {
		t.Errorf("States()[0] after enable = %+v, want enabled without reason", st[0])
	}
	if k, err := p.Acquire(flash, nil); err != nil || k.ID != keys[0].ID {
		t.Errorf("Acquire after enable = %v, %v; want %s", k.ID, err, keys[0].ID)
	}
	// Disabling twice keeps the count and updates the reason.
	p.SetDisabled(keys[1].ID, true, "leaked")
	mustCheck(t, p)
	if st := p.States(); st[1].Reason != "leaked" {
		t.Errorf("reason after second disable = %q, want %q", st[1].Reason, "leaked")
	}
}

func TestExhaustedMessages(t *testing.T) {
	tests := []struct {
		err  ExhaustedError
		want string
	}{
		{ExhaustedError{Model: pro}, "no API keys configured"},
		{ExhaustedError{Model: pro, Total: 1, Disabled: 1}, "the only API key is disabled (invalid or revoked)"},
		{ExhaustedError{Model: pro, Total: 3, Disabled: 3}, "all 3 keys are disabled (invalid or revoked)"},
		{ExhaustedError{Model: pro, Total: 5, Cooling: 5, RetryAfter: 12 * time.Second}, "all 5 usable keys are cooling down for model gemini-2.5-pro; soonest recovery in 12s"},
		{ExhaustedError{Model: pro, Total: 1, Cooling: 1, RetryAfter: 19 * time.Hour}, "the only usable key is cooling down for model gemini-2.5-pro; soonest recovery in 19h0m0s"},
		{ExhaustedError{Model: pro, Total: 7, Cooling: 5, Disabled: 2, RetryAfter: time.Second}, "all 5 usable keys are cooling down for model gemini-2.5-pro (2 more disabled); soonest recovery in 1s"},
		{ExhaustedError{Model: pro, Total: 2, Tried: 2}, "all 2 remaining keys were already tried in this request"},
		{ExhaustedError{Model: pro, Total: 1, Tried: 1}, "the only remaining key was already tried in this request"},
		{ExhaustedError{Model: pro, Total: 6, Tried: 2, Cooling: 3, Disabled: 1, RetryAfter: 3 * time.Second}, "all 2 remaining keys were already tried in this request; 3 more cooling down for model gemini-2.5-pro; 1 disabled; soonest recovery in 3s"},
		{ExhaustedError{Total: 2, Cooling: 2, RetryAfter: 5 * time.Second}, "all 2 usable keys are cooling down; soonest recovery in 5s"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(%+v).Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSkip(t *testing.T) {
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		t.Run(s.String(), func(t *testing.T) {
			p, _, keys := newPool(t, 4, s)
			p.Report(keys[3].ID, pro, Event{Kind: Cooldown, Delay: 10 * time.Second})
			skip := []string{keys[0].ID, keys[2].ID}
			for range 20 {
				k, err := p.Acquire(pro, skip)
				if err != nil || k.ID != keys[1].ID {
					t.Fatalf("Acquire(pro, skip 0 and 2) = %v, %v; want %s", k.ID, err, keys[1].ID)
				}
			}
			_, err := p.Acquire(pro, append(skip, keys[1].ID))
			ee := exhausted(t, err)
			want := ExhaustedError{Model: pro, Total: 4, Cooling: 1, Tried: 3, RetryAfter: 10 * time.Second}
			if *ee != want {
				t.Errorf("Acquire with all tried = %+v, want %+v", *ee, want)
			}
			if !strings.Contains(ee.Error(), "already tried") {
				t.Errorf("error %q does not say the keys were tried", ee)
			}
		})
	}
}

func TestRoundRobinVisitsAll(t *testing.T) {
	p, _, keys := newPool(t, 7, RoundRobin)
	p.Report(keys[3].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	p.SetDisabled(keys[5].ID, true, "x")
	counts := map[string]int{}
	var order []string
	for range 5 * 5 {
		k, err := p.Acquire(pro, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[k.ID]++
		order = append(order, k.ID)
	}
	for i, k := range keys {
		want := 5
		if i == 3 || i == 5 {
			want = 0
		}
		if counts[k.ID] != want {
			t.Errorf("round robin: key %d used %d times, want %d", i, counts[k.ID], want)
		}
	}
	for i := 5; i < len(order); i++ {
		if order[i] != order[i-5] {
			t.Errorf("round robin order %v does not repeat with period 5", order)
			break
		}
	}
}

func TestRandomSpreads(t *testing.T) {
	p, _, keys := newPool(t, 10, Random)
	p.Report(keys[0].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	counts := map[string]int{}
	const n = 9000
	for range n {
		k, err := p.Acquire(pro, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[k.ID]++
	}
	if counts[keys[0].ID] != 0 {
		t.Errorf("random: cooling key used %d times", counts[keys[0].ID])
	}
	for _, k := range keys[1:] {
		// Expected 1000 each; the seed is fixed, the bounds are loose.
		if c := counts[k.ID]; c < 800 || c > 1200 {
			t.Errorf("random: key %s used %d times of %d, want about %d", k.ID, c, n, n/9)
		}
	}
}

func TestRandomFewUsable(t *testing.T) {
	// With most keys cooling, random probing gives way to rank selection:
	// still uniform over the few usable keys.
	p, _, keys := newPool(t, 1000, Random)
	for _, k := range keys[3:] {
		p.Report(k.ID, pro, Event{Kind: DailyQuota})
	}
	counts := map[string]int{}
	for range 3000 {
		k, err := p.Acquire(pro, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[k.ID]++
	}
	if len(counts) != 3 {
		t.Fatalf("random with 3 usable keys used %d distinct keys: %v", len(counts), counts)
	}
	for id, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("random: key %s used %d times of 3000, want about 1000", id, c)
		}
	}
	mustCheck(t, p)
}

func TestLeastRecentlyUsed(t *testing.T) {
	p, c, keys := newPool(t, 4, LeastRecentlyUsed)
	acquire := func(model string) string {
		t.Helper()
		c.Advance(time.Second)
		k, err := p.Acquire(model, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	// First round: every key once.
	seen := map[string]bool{}
	var first []string
	for range 4 {
		id := acquire(pro)
		seen[id] = true
		first = append(first, id)
	}
	if len(seen) != 4 {
		t.Fatalf("LRU first round used %v, want all 4 keys", first)
	}
	// Second round repeats the order.
	for i := range 4 {
		if id := acquire(flash); id != first[i] {
			t.Errorf("LRU second round key %d = %s, want %s", i, id, first[i])
		}
	}
	// A key cooling for pro keeps its place for flash.
	p.Report(first[0], pro, Event{Kind: Cooldown, Delay: time.Hour})
	if id := acquire(pro); id != first[1] {
		t.Errorf("LRU with %s cooling for pro = %s, want %s", first[0], id, first[1])
	}
	if id := acquire(flash); id != first[0] {
		t.Errorf("LRU for flash = %s, want the cooling-for-pro key %s", id, first[0])
	}
	// A new key has never been used: it comes first.
	extra := fakeKeys(5)[4]
	p.Add(extra)
	mustCheck(t, p)
	if id := acquire(pro); id != extra.ID {
		t.Errorf("LRU after Add = %s, want the new key %s", id, extra.ID)
	}
	// LastUsed follows the clock.
	for _, st := range p.States() {
		if st.ID == extra.ID && !st.LastUsed.Equal(c.Now()) {
			t.Errorf("States LastUsed = %v, want %v", st.LastUsed, c.Now())
		}
	}
	_ = keys
}

func TestLRUManyCoolingKeys(t *testing.T) {
	// Cooling keys accumulate at the front of the order of use; LRU must
	// still hand out the others in order, and the log must stay compact.
	p, _, keys := newPool(t, 300, LeastRecentlyUsed)
	for i, k := range keys {
		if i%3 == 0 {
			p.Report(k.ID, pro, Event{Kind: Cooldown, Delay: time.Hour})
		}
	}
	counts := map[string]int{}
	for range 200 * 10 {
		k, err := p.Acquire(pro, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[k.ID]++
	}
	for i, k := range keys {
		want := 10
		if i%3 == 0 {
			want = 0
		}
		if counts[k.ID] != want {
			t.Fatalf("LRU: key %d used %d times, want %d", i, counts[k.ID], want)
		}
	}
	if len(p.lru) > 2*len(p.byID)+64 {
		t.Errorf("LRU log length %d for %d keys, want compaction", len(p.lru), len(p.byID))
	}
	mustCheck(t, p)
}

func TestReplaceKeepsState(t *testing.T) {
	p, c, keys := newPool(t, 4, RoundRobin)
	p.SetDisabled(keys[0].ID, true, "revoked")
	p.Report(keys[1].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	p.Report(keys[2].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	k, _ := p.Acquire(flash, nil)
	used := c.Now()
	c.Advance(time.Second)

	newKey := fakeKeys(5)[4]
	rotated := Key{ID: keys[1].ID, Secret: apikey.NewSecret(fakeKeys(6)[5].Secret.Reveal())}
	p.Replace([]Key{keys[0], rotated, keys[3], newKey})
	mustCheck(t, p)

	if _, ok := p.Get(keys[2].ID); ok {
		t.Errorf("Get(removed key) ok = true, want false")
	}
	if got, ok := p.Get(keys[1].ID); !ok || !got.Secret.Equal(rotated.Secret) {
		t.Errorf("Get(%s) after Replace = %v, %v; want the new secret", keys[1].ID, got.Secret, ok)
	}
	st := map[string]KeyState{}
	for _, s := range p.States() {
		st[s.ID] = s
	}
	if len(st) != 4 {
		t.Fatalf("States() after Replace has %d keys, want 4", len(st))
	}
	if s := st[keys[0].ID]; !s.Disabled || s.Reason != "revoked" {
		t.Errorf("disabled key after Replace = %+v, want disabled, revoked", s)
	}
	if s := st[keys[1].ID]; s.Cooling[pro].IsZero() {
		t.Errorf("cooling key after Replace = %+v, want still cooling for %s", s, pro)
	}
	if s := st[k.ID]; !s.LastUsed.Equal(used) {
		t.Errorf("last use of %s after Replace = %v, want %v", k.ID, s.LastUsed, used)
	}
	if got, want := p.Counts(), (Counts{Total: 4, Active: 2, Cooling: 1, Disabled: 1}); got != want {
		t.Errorf("Counts() after Replace = %+v, want %+v", got, want)
	}
	if got := usableIDs(t, p, pro); len(got) != 2 || !got[keys[3].ID] || !got[newKey.ID] {
		t.Errorf("usable for pro after Replace = %v, want %s and %s", got, keys[3].ID, newKey.ID)
	}
	// Replacing with nothing empties the pool and the model state.
	p.Replace(nil)
	mustCheck(t, p)
	if got := p.Counts(); got != (Counts{}) || len(p.models) != 0 {
		t.Errorf("after Replace(nil): Counts() = %+v, %d models; want empty", got, len(p.models))
	}
}

func TestAddAndRemove(t *testing.T) {
	p, _, keys := newPool(t, 3, RoundRobin)
	// Add with an existing ID updates the secret only.
	s := apikey.NewSecret(fakeKeys(9)[8].Secret.Reveal())
	p.Add(Key{ID: keys[0].ID, Secret: s}, Key{ID: "zero"})
	if got, _ := p.Get(keys[0].ID); !got.Secret.Equal(s) {
		t.Errorf("Add(existing ID) did not update the secret")
	}
	if _, ok := p.Get("zero"); ok {
		t.Errorf("Add(key with zero Secret) added it")
	}
	// An empty ID is derived from the key.
	raw := fakeKeys(10)[9].Secret.Reveal()
	p.Add(Key{Secret: apikey.NewSecret(raw)})
	if _, ok := p.Get(apikey.ID(raw)); !ok {
		t.Errorf("Add(key without ID): Get(apikey.ID(raw)) not found")
	}
	p.Report(keys[1].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	p.Remove(keys[1].ID, keys[2].ID, "unknown")
	mustCheck(t, p)
	if got, want := p.Counts(), (Counts{Total: 2, Active: 2}); got != want {
		t.Errorf("Counts() after Remove = %+v, want %+v", got, want)
	}
	if len(p.models) != 0 {
		t.Errorf("model state kept after its only cooling key was removed")
	}
	for range 10 {
		k, err := p.Acquire(pro, nil)
		if err != nil || k.ID == keys[1].ID || k.ID == keys[2].ID {
			t.Fatalf("Acquire after Remove = %v, %v", k.ID, err)
		}
	}
	// Freed slots are reused.
	p.Add(fakeKeys(20)[10:15]...)
	mustCheck(t, p)
	if len(p.slots) != 7 {
		t.Errorf("slots after remove 2, add 5 on 4 = %d, want 7", len(p.slots))
	}
}

func TestStates(t *testing.T) {
	p, c, keys := newPool(t, 3, Random)
	p.Report(keys[2].ID, pro, Event{Kind: Cooldown, Delay: time.Minute})
	p.Report(keys[2].ID, flash, Event{Kind: Cooldown, Delay: 2 * time.Minute})
	p.Report(keys[1].ID, flash, Event{Kind: Success})
	st := p.States()
	if len(st) != 3 || st[0].ID != keys[0].ID || st[1].ID != keys[1].ID || st[2].ID != keys[2].ID {
		t.Fatalf("States() = %+v, want 3 keys sorted by ID", st)
	}
	if st[0].Cooling != nil || !st[0].LastUsed.IsZero() {
		t.Errorf("States()[0] = %+v, want no cooling, never used", st[0])
	}
	if !st[1].LastUsed.Equal(c.Now()) {
		t.Errorf("States()[1].LastUsed = %v, want %v", st[1].LastUsed, c.Now())
	}
	want := map[string]time.Time{pro: c.Now().Add(time.Minute), flash: c.Now().Add(2 * time.Minute)}
	if len(st[2].Cooling) != 2 || !st[2].Cooling[pro].Equal(want[pro]) || !st[2].Cooling[flash].Equal(want[flash]) {
		t.Errorf("States()[2].Cooling = %v, want %v", st[2].Cooling, want)
	}
	c.Advance(time.Minute)
	if st := p.States(); len(st[2].Cooling) != 1 {
		t.Errorf("States()[2].Cooling after 1m = %v, want only %s", st[2].Cooling, flash)
	}
}

func TestModelStateIsCleanedUp(t *testing.T) {
	p, c, keys := newPool(t, 10, Random)
	for i := range 1000 {
		model := fmt.Sprintf("model-%d", i)
		p.Report(keys[i%10].ID, model, Event{Kind: Cooldown, Delay: time.Duration(1+i%30) * time.Second})
		p.Report(keys[(i+1)%10].ID, model, Event{Kind: Cooldown}) // remembers a backoff level
	}
	if got := len(p.models); got != 1000 {
		t.Fatalf("models with cooldowns = %d, want 1000", got)
	}
	mustCheck(t, p)
	c.Advance(time.Minute)
	p.Counts()
	mustCheck(t, p)
	if got := len(p.models); got != 1000 {
		t.Errorf("models remembering backoff = %d, want 1000", got)
	}
	c.Advance(backoffMemory + sweepEvery)
	if got := p.Counts(); got != (Counts{Total: 10, Active: 10}) {
		t.Errorf("Counts() = %+v, want all active", got)
	}
	mustCheck(t, p)
	if got := len(p.models); got != 0 {
		t.Errorf("models after every cooldown and backoff ended = %d, want 0", got)
	}
}

func TestSetStrategy(t *testing.T) {
	p, _, _ := newPool(t, 5, Random)
	for _, s := range []Strategy{RoundRobin, LeastRecentlyUsed, Random} {
		p.SetStrategy(s)
		if got := p.Strategy(); got != s {
			t.Errorf("Strategy() = %v, want %v", got, s)
		}
		if got := usableIDs(t, p, pro); len(got) != 5 {
			t.Errorf("%v: usable = %d keys, want 5", s, len(got))
		}
	}
}

// TestRandomOperations runs random operations against the pool and checks
// its invariants and its answers against a naive model after each.
func TestRandomOperations(t *testing.T) {
	models := []string{pro, flash, "m3"}
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		t.Run(s.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(s)))
			all := fakeKeys(80)
			p, c, _ := newPool(t, 0, s)
			type naive struct {
				disabled bool
				until    map[string]time.Time
			}
			ref := map[string]*naive{}
			var okN, exhaustedN int
			defer func() { t.Logf("%d acquired, %d exhausted", okN, exhaustedN) }()
			for step := range 4000 {
				k := all[r.IntN(len(all))]
				model := models[r.IntN(len(models))]
				switch op := r.IntN(100); {
				case op < 5:
					p.Add(k)
					if ref[k.ID] == nil {
						ref[k.ID] = &naive{until: map[string]time.Time{}}
					}
				case op < 7:
					p.Remove(k.ID)
					delete(ref, k.ID)
				case op < 8:
					var ks []Key
					for _, k := range all {
						if r.IntN(2) == 0 {
							ks = append(ks, k)
						}
					}
					p.Replace(ks)
					old := ref
					ref = map[string]*naive{}
					for _, k := range ks {
						if old[k.ID] != nil {
							ref[k.ID] = old[k.ID]
						} else {
							ref[k.ID] = &naive{until: map[string]time.Time{}}
						}
					}
				case op < 10:
					d := r.IntN(2) == 0
					p.SetDisabled(k.ID, d, "x")
					if n := ref[k.ID]; n != nil {
						n.disabled = d
					}
				case op < 30:
					d := time.Duration(1+r.IntN(60000)) * time.Millisecond
					p.Report(k.ID, model, Event{Kind: Cooldown, Delay: d})
					if n := ref[k.ID]; n != nil {
						if u := c.Now().Add(d); u.After(n.until[model]) {
							n.until[model] = u
						}
					}
				case op < 32:
					p.Report(k.ID, model, Event{Kind: DailyQuota})
					if n := ref[k.ID]; n != nil {
						n.until[model] = time.Unix(0, p.nextPacificMidnight(c.Now().UnixNano()))
					}
				case op < 40:
					p.Report(k.ID, model, Event{Kind: Success})
				case op < 41:
					p.Report(k.ID, model, Event{Kind: Disable, Reason: "r"})
					if n := ref[k.ID]; n != nil {
						n.disabled = true
					}
				case op < 50:
					c.Advance(time.Duration(r.IntN(20000)) * time.Millisecond)
				case op < 52:
					c.Advance(time.Duration(r.IntN(48)) * time.Hour)
				case op < 53:
					p.SetStrategy(Strategy(r.IntN(3)))
				default:
					var skip []string
					for range r.IntN(3) {
						skip = append(skip, all[r.IntN(len(all))].ID)
					}
					got, err := p.Acquire(model, skip)
					now := c.Now()
					usable, disabled, cooling := 0, 0, 0
					var soonest time.Time
					for id, n := range ref {
						switch {
						case n.disabled:
							disabled++
						case now.Before(n.until[model]):
							cooling++
							if soonest.IsZero() || n.until[model].Before(soonest) {
								soonest = n.until[model]
							}
						case !slicesContains(skip, id):
							usable++
						}
					}
					if err != nil {
						exhaustedN++
						ee := exhausted(t, err)
						want := ExhaustedError{Model: model, Total: len(ref), Disabled: disabled, Cooling: cooling, Tried: len(ref) - disabled - cooling}
						if !soonest.IsZero() {
							want.RetryAfter = ceilSecond(soonest.Sub(now))
						}
						if usable != 0 || *ee != want {
							t.Fatalf("step %d: Acquire(%s) = %+v with %d usable, want %+v", step, model, *ee, usable, want)
						}
					} else {
						okN++
						n := ref[got.ID]
						if n == nil || n.disabled || now.Before(n.until[model]) || slicesContains(skip, got.ID) {
							t.Fatalf("step %d: Acquire(%s) returned unusable %s", step, model, got.ID)
						}
					}
				}
				if err := p.check(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				cnt := p.Counts()
				dis := 0
				for _, n := range ref {
					if n.disabled {
						dis++
					}
				}
				if cnt.Total != len(ref) || cnt.Disabled != dis {
					t.Fatalf("step %d: Counts() = %+v, want total %d disabled %d", step, cnt, len(ref), dis)
				}
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestConcurrentUse(t *testing.T) {
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		t.Run(s.String(), func(t *testing.T) {
			c := newClock(t0)
			p := New(Options{Strategy: s, Now: c.Now})
			keys := fakeKeys(50)
			p.Replace(keys)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					models := []string{pro, flash}
					for i := range 500 {
						model := models[(g+i)%2]
						k, err := p.Acquire(model, nil)
						if err != nil {
							continue
						}
						switch i % 7 {
						case 0:
							p.Report(k.ID, model, Event{Kind: Cooldown})
						case 1:
							p.Report(k.ID, model, Event{Kind: Cooldown, Delay: time.Second})
						case 2:
							p.Report(k.ID, model, Event{Kind: Success})
						case 3:
							c.Advance(100 * time.Millisecond)
						case 4:
							p.Counts()
						case 5:
							if g == 0 && i%70 == 5 {
								p.Replace(keys[i%10:])
							}
						default:
							p.SetDisabled(k.ID, i%2 == 0, "x")
							p.States()
						}
					}
				}()
			}
			wg.Wait()
			mustCheck(t, p)
		})
	}
}

func TestQuotaDay(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		t          time.Time
		start, end time.Time
		hours      float64
	}{
		{"DST ends: 25 hours", time.Date(2026, 11, 1, 23, 30, 0, 0, la), time.Date(2026, 11, 1, 0, 0, 0, 0, la), time.Date(2026, 11, 2, 0, 0, 0, 0, la), 25},
		{"DST starts: 23 hours", time.Date(2026, 3, 8, 12, 0, 0, 0, la), time.Date(2026, 3, 8, 0, 0, 0, 0, la), time.Date(2026, 3, 9, 0, 0, 0, 0, la), 23},
		{"UTC evening is the same Pacific day", time.Date(2026, 6, 2, 6, 59, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, la), time.Date(2026, 6, 2, 0, 0, 0, 0, la), 24},
		{"midnight starts a day", time.Date(2026, 6, 2, 0, 0, 0, 0, la), time.Date(2026, 6, 2, 0, 0, 0, 0, la), time.Date(2026, 6, 3, 0, 0, 0, 0, la), 24},
	} {
		start, end := QuotaDay(tt.t)
		if !start.Equal(tt.start) || !end.Equal(tt.end) || end.Sub(start).Hours() != tt.hours {
			t.Errorf("%s: QuotaDay(%v) = %v, %v, want %v, %v (%v h)", tt.name, tt.t, start, end, tt.start, tt.end, tt.hours)
		}
	}
}
