package tensor

import (
	"math"
	"math/big"
	"testing"
)

// TestF16RoundTripAll checks every binary16 bit pattern survives f16→f32→f16.
func TestF16RoundTripAll(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToF32(h)
		if f != f { // NaN: only require NaN back
			if g := F32ToF16(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, g)
			}
			continue
		}
		if g := F32ToF16(f); g != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, g)
		}
	}
}

// f16Exact computes the binary16 value of bits h with big.Float, independent of F16ToF32.
func f16Exact(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := int64(h & 0x3ff)
	var v float64
	if exp == 0 {
		v = math.Ldexp(float64(mant), -24)
	} else {
		v = math.Ldexp(float64(mant|0x400), exp-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}

// TestF32ToF16Nearest checks rounding against an exhaustive nearest search on
// random inputs across the whole range, including subnormals and ties.
func TestF32ToF16Nearest(t *testing.T) {
	var finite []uint16
	for i := 0; i < 1<<15; i++ {
		if i>>10 != 0x1f {
			finite = append(finite, uint16(i))
		}
	}
	seed := uint32(12345)
	for n := 0; n < 200000; n++ {
		seed = seed*1664525 + 1013904223
		f := math.Float32frombits(seed)
		if f != f || math.IsInf(float64(f), 0) {
			continue
		}
		got := F32ToF16(f)
		a := math.Abs(float64(f))
		if a >= 65520 { // rounds to infinity
			if got&0x7fff != 0x7c00 {
				t.Fatalf("%v: want inf, got %#04x", f, got)
			}
			continue
		}
		// Binary search the nearest magnitude among the sorted finite codes.
		lo, hi := 0, len(finite)-1
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if f16Exact(finite[mid]) <= a {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		best := finite[lo]
		if lo+1 < len(finite) {
			up := finite[lo+1]
			dl := new(big.Float).Sub(big.NewFloat(a), big.NewFloat(f16Exact(best)))
			du := new(big.Float).Sub(big.NewFloat(f16Exact(up)), big.NewFloat(a))
			switch dl.Cmp(du) {
			case 1:
				best = up
			case 0:
				if up&1 == 0 {
					best = up
				}
			}
		}
		if got&0x7fff != best {
			t.Fatalf("%v (%#08x): got %#04x want %#04x", f, math.Float32bits(f), got&0x7fff, best)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81},
		{float32(math.Inf(1)), 0x7f80},
	}
	for _, c := range cases {
		if got := F32ToBF16(c.in); got != c.want {
			t.Errorf("F32ToBF16(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
		if c.in == c.in && BF16ToF32(F32ToBF16(c.in)) != BF16ToF32(c.want) {
			t.Errorf("round trip %v", c.in)
		}
	}
	if nan := F32ToBF16(float32(math.NaN())); BF16ToF32(nan) == BF16ToF32(nan) {
		t.Errorf("NaN lost: %#04x", nan)
	}
}
