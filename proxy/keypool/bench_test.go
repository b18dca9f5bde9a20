package keypool

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchPool returns a pool of n keys, a third of them (chosen at random)
// cooling down for pro for an hour, on the real clock.
func benchPool(b *testing.B, n int, s Strategy) *Pool {
	b.Helper()
	p := New(Options{Strategy: s, Seed: 1})
	keys := fakeKeys(n)
	p.Replace(keys)
	r := rand.New(rand.NewPCG(3, 4))
	for _, i := range r.Perm(n)[:n/3] {
		p.Report(keys[i].ID, pro, Event{Kind: Cooldown, Delay: time.Hour})
	}
	return p
}

func BenchmarkAcquire(b *testing.B) {
	for _, s := range []Strategy{Random, RoundRobin, LeastRecentlyUsed} {
		b.Run(fmt.Sprintf("%s/keys=10000", s), func(b *testing.B) {
			p := benchPool(b, 10000, s)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Acquire(pro, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/keys=10000/skip=2", s), func(b *testing.B) {
			p := benchPool(b, 10000, s)
			skip := []string{"k00001", "k00002"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Acquire(pro, skip); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/keys=10000/3-usable", s), func(b *testing.B) {
			// Nearly every key parked for the model: the worst common case.
			p := New(Options{Strategy: s, Seed: 1})
			keys := fakeKeys(10000)
			p.Replace(keys)
			for _, k := range keys[3:] {
				p.Report(k.ID, pro, Event{Kind: DailyQuota})
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Acquire(pro, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAcquireParallel(b *testing.B) {
	p := benchPool(b, 10000, Random)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Acquire(pro, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCounts(b *testing.B) {
	p := benchPool(b, 10000, Random)
	p.Report("k00000", flash, Event{Kind: Cooldown, Delay: time.Hour})
	b.ReportAllocs()
	for b.Loop() {
		p.Counts()
	}
}

func BenchmarkReport(b *testing.B) {
	p := benchPool(b, 10000, Random)
	b.ReportAllocs()
	for b.Loop() {
		p.Report("k00005", flash, Event{Kind: Success})
	}
}
