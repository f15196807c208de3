package gemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// operands holds one random problem and its float64 reference.
type operands struct {
	m, n, k    int
	a          []float32
	lda        int
	b          B
	c0         []float32 // initial C (for accumulate)
	ldc        int
	bf         []float64 // B as float64, KN order: bf[p*n+j]
	accumulate bool
}

func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// newOperands makes a problem with padded strides (so stride bugs show).
func newOperands(r *rand.Rand, m, n, k int, layout Layout, dt tensor.DType, accumulate bool) *operands {
	o := &operands{m: m, n: n, k: k, lda: k + 3, ldc: n + 5, accumulate: accumulate}
	o.a = randF32(r, max(0, m*o.lda))
	o.c0 = randF32(r, max(0, m*o.ldc))
	o.bf = make([]float64, k*n)
	o.b = B{Layout: layout, DType: dt}
	rows, cols := k, n
	if layout == NK {
		rows, cols = n, k
	}
	o.b.Stride = cols + 2
	size := rows * o.b.Stride
	switch dt {
	case tensor.F32:
		o.b.F32 = randF32(r, size)
	default:
		o.b.U16 = make([]uint16, size)
		for i := range o.b.U16 {
			f := float32(r.NormFloat64())
			if dt == tensor.F16 {
				o.b.U16[i] = tensor.F32ToF16(f)
			} else {
				o.b.U16[i] = tensor.F32ToBF16(f)
			}
		}
	}
	for p := range k {
		for j := range n {
			idx := p*o.b.Stride + j
			if layout == NK {
				idx = j*o.b.Stride + p
			}
			var v float64
			switch dt {
			case tensor.F16:
				v = float64(tensor.F16ToF32(o.b.U16[idx]))
			case tensor.BF16:
				v = float64(tensor.BF16ToF32(o.b.U16[idx]))
			default:
				v = float64(o.b.F32[idx])
			}
			o.bf[p*n+j] = v
		}
	}
	return o
}

// check compares C with the float64 reference, relative to the size of
// the terms (sum |a||b|), which bounds float32 rounding for any K.
func (o *operands) check(t *testing.T, what string, c []float32) {
	t.Helper()
	bad := 0
	for i := range o.m {
		for j := range o.n {
			var s, mag float64
			for p := range o.k {
				x := float64(o.a[i*o.lda+p]) * o.bf[p*o.n+j]
				s += x
				mag += math.Abs(x)
			}
			if o.accumulate {
				s += float64(o.c0[i*o.ldc+j])
				mag += math.Abs(float64(o.c0[i*o.ldc+j]))
			}
			got := float64(c[i*o.ldc+j])
			tol := 1e-6*mag*math.Sqrt(float64(o.k)+1) + 1e-6
			if math.Abs(got-s) > tol || math.IsNaN(got) {
				if bad < 5 {
					t.Errorf("%s: C[%d,%d] = %g, want %g (tol %.3g)", what, i, j, got, s, tol)
				}
				bad++
			}
		}
		// Padding between rows must be untouched.
		for j := o.n; j < o.ldc && i*o.ldc+j < len(c); j++ {
			if c[i*o.ldc+j] != o.c0[i*o.ldc+j] {
				t.Fatalf("%s: C padding [%d,%d] overwritten", what, i, j)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements wrong", what, bad, o.m*o.n)
	}
}

func (o *operands) run(t *testing.T, p *parallel.Pool, tr *tier, packed bool) []float32 {
	t.Helper()
	return o.runMode(t, p, tr, map[bool]int{false: modeCall, true: modePack}[packed])
}

// How runMode prepares B.
const (
	modeCall = iota // per call
	modePack        // Pack (float32 panels)
	modeHalf        // PackHalf (16-bit strips)
)

func (o *operands) runMode(t *testing.T, p *parallel.Pool, tr *tier, mode int) []float32 {
	t.Helper()
	c := append([]float32(nil), o.c0...)
	var err error
	packed := mode == modePack
	if mode == modeHalf {
		var pb *PackedB
		pb, err = packHalfFor(p, tr, o.b, o.n, o.k)
		if err == nil {
			err = pb.MatMul(p, Matrix{c, o.ldc}, Matrix{o.a, o.lda}, o.m, o.accumulate)
		}
	} else if packed {
		var pb *PackedB
		pb, err = packFor(p, tr, o.b, o.n, o.k)
		if err == nil {
			err = pb.MatMul(p, Matrix{c, o.ldc}, Matrix{o.a, o.lda}, o.m, o.accumulate)
		}
	} else {
		pr, perr := newProblem(1, Matrix{c, o.ldc}, 0, Matrix{o.a, o.lda}, 0, o.b, 0, o.m, o.n, o.k)
		err = perr
		if err == nil {
			pr.accumulate = o.accumulate
			pr.run(p, tr)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allTiers lists the tiers this machine can run.
func allTiers() []*tier {
	var out []*tier
	for l := cpuinfo.Generic; l <= cpuinfo.Host.MaxLevel(); l++ {
		if tr, ok := tiers[l]; ok {
			out = append(out, tr)
		}
	}
	return out
}

var awkward = []int{1, 3, 7, 17, 31, 33, 127, 129}

func TestAgainstFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := parallel.New(2)
	defer p.Close()
	type shape struct{ m, n, k int }
	var shapes []shape
	for _, m := range awkward {
		shapes = append(shapes, shape{m, awkward[(m*7)%len(awkward)], awkward[(m*3+1)%len(awkward)]})
	}
	shapes = append(shapes, shape{2, 5, 300}, shape{4, 129, 513}, shape{5, 1000, 33}, shape{130, 67, 1031}, shape{9, 49, 257})
	for _, tr := range allTiers() {
		for _, s := range shapes {
			for _, layout := range []Layout{KN, NK} {
				dts := []tensor.DType{tensor.F32}
				if layout == NK {
					dts = append(dts, tensor.F16, tensor.BF16)
				}
				for _, dt := range dts {
					for _, acc := range []bool{false, true} {
						modes := []int{modeCall, modePack}
						if dt != tensor.F32 {
							modes = append(modes, modeHalf)
						}
						for _, mode := range modes {
							o := newOperands(r, s.m, s.n, s.k, layout, dt, acc)
							name := fmt.Sprintf("%v-%dx%d/%dx%dx%d/%v/%v/acc=%v/mode=%d", tr.level, tr.mr, tr.nr, s.m, s.n, s.k, layout, dt, acc, mode)
							o.check(t, name, o.runMode(t, p, tr, mode))
						}
					}
				}
			}
		}
	}
}

// TestLarge runs one shape whose packed B block exceeds L2 and whose K
// spans several kc blocks, once per tier and layout.
func TestLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	p := parallel.New(2)
	defer p.Close()
	for _, tr := range allTiers() {
		for _, layout := range []Layout{KN, NK} {
			o := newOperands(r, 150, 1100, 600, layout, tensor.F32, layout == NK)
			o.check(t, fmt.Sprintf("%v/%v/large", tr.level, layout), o.run(t, p, tr, false))
			// More columns than one packed block of B holds (ncTarget), and
			// more rows than one packed block of A (aRowsMax).
			o = newOperands(r, 9, ncTarget+107, 70, layout, tensor.F32, true)
			o.check(t, fmt.Sprintf("%v/%v/wide", tr.level, layout), o.run(t, p, tr, layout == KN))
			o = newOperands(r, aRowsMax+37, 20, 30, layout, tensor.F32, false)
			o.check(t, fmt.Sprintf("%v/%v/tall", tr.level, layout), o.run(t, p, tr, layout == NK))
		}
		// 16-bit strips: K over several kc blocks, a ragged last strip,
		// the GEMV (M ≤ 4) and the blocked product.
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			for _, m := range []int{1, 3, 4, 5, 67} {
				o := newOperands(r, m, 1100, 1100, NK, dt, m%2 == 1)
				o.check(t, fmt.Sprintf("%v/%v/half m=%d", tr.level, dt, m), o.runMode(t, p, tr, modeHalf))
			}
		}
	}
}

func TestZeroSizes(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	if err := MatMul(nil, Matrix{Data: c}, Matrix{}, B{F32: nil}, 2, 2, 0, false); err != nil {
		t.Fatal(err)
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("K=0 without accumulate: C[%d] = %g, want 0", i, v)
		}
	}
	c = []float32{1, 2, 3, 4}
	if err := MatMul(nil, Matrix{Data: c}, Matrix{}, B{}, 2, 2, 0, true); err != nil || c[3] != 4 {
		t.Fatalf("K=0 with accumulate changed C or failed: %v %v", c, err)
	}
	if err := MatMul(nil, Matrix{}, Matrix{}, B{}, 0, 0, 5, false); err != nil {
		t.Fatal(err)
	}
	// K = 0 in a batch with empty A and B and non-zero strides.
	c = []float32{1, 2, 3, 4, 5, 6}
	if err := BatchedMatMul(nil, 3, Matrix{Data: c}, 2, Matrix{}, 7, B{Layout: NK}, 9, 1, 2, 0, false); err != nil {
		t.Fatal(err)
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("batched K=0: C[%d] = %g, want 0", i, v)
		}
	}
	if err := MatMulItems(nil, []Item{{A: 50, B: 60, C: 0}}, Matrix{Data: c}, Matrix{}, B{}, 1, 2, 0, true); err != nil {
		t.Fatal(err)
	}
}

func TestBadShapes(t *testing.T) {
	a := make([]float32, 6)
	b := make([]float32, 6)
	c := make([]float32, 4)
	cases := []struct {
		name string
		err  error
	}{
		{"short C", MatMul(nil, Matrix{Data: c[:3]}, Matrix{Data: a}, B{F32: b}, 2, 2, 3, false)},
		{"short A", MatMul(nil, Matrix{Data: c}, Matrix{Data: a[:5]}, B{F32: b}, 2, 2, 3, false)},
		{"short B", MatMul(nil, Matrix{Data: c}, Matrix{Data: a}, B{F32: b[:5]}, 2, 2, 3, false)},
		{"stride < row", MatMul(nil, Matrix{Data: c, Stride: 1}, Matrix{Data: a}, B{F32: b}, 2, 2, 3, false)},
		{"negative", MatMul(nil, Matrix{Data: c}, Matrix{Data: a}, B{F32: b}, -1, 2, 3, false)},
		{"f16 KN", MatMul(nil, Matrix{Data: c}, Matrix{Data: a}, B{DType: tensor.F16, U16: make([]uint16, 6)}, 2, 2, 3, false)},
		{"batch overlap", BatchedMatMul(nil, 2, Matrix{Data: c}, 0, Matrix{Data: a}, 0, B{F32: b}, 0, 1, 2, 3, false)},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if !errors.Is(cases[0].err, ErrShape) {
		t.Errorf("short C: %v is not ErrShape", cases[0].err)
	}
	if _, err := Pack(nil, B{Layout: NK, F32: b}, 3, 3); err == nil {
		t.Error("Pack of a short B: no error")
	}
}

func TestBatched(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	p := parallel.New(2)
	defer p.Close()
	for _, tr := range allTiers() {
		for _, s := range []struct{ batch, m, n, k int }{{5, 7, 9, 33}, {3, 64, 65, 130}, {2, 3, 40, 17}} {
			for _, bstride := range []bool{false, true} {
				items := make([]*operands, s.batch)
				var a, bw, c []float32
				for i := range items {
					o := newOperands(r, s.m, s.n, s.k, NK, tensor.F32, true)
					if !bstride && i > 0 {
						o.b, o.bf = items[0].b, items[0].bf
					}
					items[i] = o
					a = append(a, o.a...)
					c = append(c, o.c0...)
					if bstride || i == 0 {
						bw = append(bw, o.b.F32...)
					}
				}
				sa, sc := len(items[0].a), len(items[0].c0)
				sb := 0
				if bstride {
					sb = len(items[0].b.F32)
				}
				pr, err := newProblem(s.batch, Matrix{c, items[0].ldc}, sc, Matrix{a, items[0].lda}, sa, B{Layout: NK, F32: bw, Stride: items[0].b.Stride}, sb, s.m, s.n, s.k)
				if err != nil {
					t.Fatal(err)
				}
				pr.accumulate = true
				pr.run(p, tr)
				for i, o := range items {
					o.check(t, fmt.Sprintf("%v batch %v item %d strideB=%v", tr.level, s, i, bstride), c[i*sc:(i+1)*sc])
				}
			}
		}
	}
}

// TestRandomShapes draws small problems of every kind at random, so sizes
// nobody picked by hand (and any seed) are covered too.
func TestRandomShapes(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed) // printed with any failure, to reproduce it
	r := rand.New(rand.NewPCG(seed, 17))
	p := parallel.New(2)
	defer p.Close()
	for _, tr := range allTiers() {
		for i := range 40 {
			m, n, k := 1+r.IntN(70), 1+r.IntN(120), 1+r.IntN(600)
			layout := Layout(r.IntN(2))
			dt := tensor.F32
			if layout == NK {
				dt = []tensor.DType{tensor.F32, tensor.F16, tensor.BF16}[r.IntN(3)]
			}
			acc, packed := r.IntN(2) == 1, r.IntN(2) == 1
			o := newOperands(r, m, n, k, layout, dt, acc)
			name := fmt.Sprintf("%v #%d %dx%dx%d %v %v acc=%v packed=%v", tr.level, i, m, n, k, layout, dt, acc, packed)
			o.check(t, name, o.run(t, p, tr, packed))
		}
	}
}
