package kernels

import (
	"math"
	"testing"
)

// FuzzAttention draws an attention problem (shapes, options, layout) from
// the fuzzer's bytes and checks it against the float64 reference on the
// active tier, within attnTol (the run never errors: the problems are valid).
func FuzzAttention(f *testing.F) {
	f.Add([]byte{2, 1, 3, 5, 2, 1, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 17, 40, 4, 1, 1, 2, 1, 1, 1, 3})
	f.Add([]byte{4, 1, 1, 200, 8, 1, 1, 1, 0, 0, 1, 9})
	f.Add([]byte{2, 2, 33, 33, 16, 0, 0, 0, 1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		at := func(i int) int {
			if i < len(b) {
				return int(b[i])
			}
			return 0
		}
		g := 1 + at(0)%4
		hkv := 1 + at(1)%3
		c := attnCase{B: 1 + at(11)%2, Hq: g * hkv, Hkv: hkv, Tq: 1 + at(2)%40, D: 8 * (1 + at(4)%16)}
		c.Causal = at(5)%2 == 1
		c.F16 = at(6)%2 == 1
		c.Mask = at(7) % 3
		c.Softcap = at(8)%2 == 1
		c.BTHD = at(9)%2 == 1
		c.Scale = at(10)%2 == 1
		if c.Causal {
			c.Past = at(3) % 100
			c.Tk = c.Past + c.Tq
			c.Window = at(11) % 7
			c.MaxSeq = c.Tk + at(3)%5
		} else {
			c.Tk = 1 + at(3)%150
		}
		if at(4)%3 == 0 {
			c.Dv = 8 * (1 + at(9)%8)
		}
		a, _ := c.build(rng(uint64(len(b)) + uint64(at(0))<<8))
		want := naiveAttention(a)
		if err := a.Run(goRunner{2}); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		var num, den float64
		for i, w := range want {
			num = math.Max(num, math.Abs(float64(a.Out[i])-w))
			den = math.Max(den, math.Abs(w))
		}
		if e := num / math.Max(den, 1e-30); e > attnTol(a) || math.IsNaN(e) {
			t.Fatalf("%v: rel err %g", c, e)
		}
	})
}
