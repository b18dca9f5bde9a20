package keypool

import "math/bits"

// bitset is a growable set of small non-negative integers.
type bitset []uint64

func (b bitset) has(i int) bool {
	w := i >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) set(i int) {
	w := i >> 6
	if w >= len(*b) {
		if w < cap(*b) {
			*b = (*b)[:w+1]
		} else {
			nb := make(bitset, w+1, 2*(w+1))
			copy(nb, *b)
			*b = nb
		}
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

func (b bitset) unset(i int) {
	if w := i >> 6; w < len(b) {
		b[w] &^= 1 << (uint(i) & 63)
	}
}

func (b bitset) reset() { clear(b) }

// wordAndNot returns word w of a &^ m (m may be shorter than a or nil).
func wordAndNot(a, m bitset, w int) uint64 {
	x := a[w]
	if w < len(m) {
		x &^= m[w]
	}
	return x
}

// nextAndNot returns the smallest i in [from, to) that is in a and not in m,
// or -1.
func nextAndNot(a, m bitset, from, to int) int {
	if to > len(a)<<6 {
		to = len(a) << 6
	}
	if from >= to {
		return -1
	}
	w := from >> 6
	x := wordAndNot(a, m, w) &^ (1<<(uint(from)&63) - 1)
	for {
		if x != 0 {
			i := w<<6 + bits.TrailingZeros64(x)
			if i >= to {
				return -1
			}
			return i
		}
		w++
		if w<<6 >= to {
			return -1
		}
		x = wordAndNot(a, m, w)
	}
}

// countAndNot returns |a \ m|.
func countAndNot(a, m bitset) int {
	n := 0
	for w := range a {
		n += bits.OnesCount64(wordAndNot(a, m, w))
	}
	return n
}

// selectAndNot returns the element of rank r (0-based) of a \ m, or -1.
func selectAndNot(a, m bitset, r int) int {
	for w := range a {
		x := wordAndNot(a, m, w)
		c := bits.OnesCount64(x)
		if r >= c {
			r -= c
			continue
		}
		for ; r > 0; r-- {
			x &= x - 1
		}
		return w<<6 + bits.TrailingZeros64(x)
	}
	return -1
}
