package kernels

import (
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

func TestGatherAndCast(t *testing.T) {
	r := rng(20)
	for _, dim := range []int{1, 7, 64, 1031} {
		rows := 13
		tab := randSlice(r, rows*dim, 2)
		h := make([]uint16, len(tab))
		bf := make([]uint16, len(tab))
		forLevels(t, func(t *testing.T) {
			F32ToF16(h, tab)
			F32ToBF16(bf, tab)
			for i, v := range tab {
				if h[i] != tensor.F32ToF16(v) || bf[i] != tensor.F32ToBF16(v) {
					t.Fatalf("cast of %g: f16 %#x want %#x, bf16 %#x want %#x", v, h[i], tensor.F32ToF16(v), bf[i], tensor.F32ToBF16(v))
				}
			}
			ids := []int32{0, 12, 5, 5, 3}
			for _, kind := range []string{"f32", "f16", "bf16"} {
				dst := make([]float32, len(ids)*dim)
				var err error
				switch kind {
				case "f32":
					err = GatherF32(dst, tab, dim, ids)
				case "f16":
					err = GatherF16(dst, h, dim, ids)
				case "bf16":
					err = GatherBF16(dst, bf, dim, ids)
				}
				if err != nil {
					t.Fatal(err)
				}
				for i, id := range ids {
					for d := range dim {
						v := tab[int(id)*dim+d]
						want := v
						switch kind {
						case "f16":
							want = tensor.F16ToF32(tensor.F32ToF16(v))
						case "bf16":
							want = tensor.BF16ToF32(tensor.F32ToBF16(v))
						}
						if dst[i*dim+d] != want {
							t.Fatalf("%s gather row %d col %d: got %g want %g", kind, i, d, dst[i*dim+d], want)
						}
					}
				}
				if err := GatherF32(dst, tab, dim, []int32{int32(rows)}); err == nil {
					t.Fatal("out-of-range id accepted")
				}
				if err := GatherF16(dst, h, dim, []int32{-1}); err == nil {
					t.Fatal("negative id accepted")
				}
			}
		})
	}
	// Every half value widens exactly and narrows back (all tiers).
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	forLevels(t, func(t *testing.T) {
		f := make([]float32, len(all))
		F16ToF32(f, all)
		back := make([]uint16, len(all))
		F32ToF16(back, f)
		for i, v := range f {
			// NaNs may come back quieted (the hardware sets the quiet bit).
			if w := tensor.F16ToF32(uint16(i)); math.Float32bits(v) != math.Float32bits(w) && !(v != v && w != w) {
				t.Fatalf("f16 %#x: got %g want %g", i, v, w)
			}
			if back[i] != uint16(i) && !(v != v && back[i]&0x7c00 == 0x7c00 && back[i]&0x3ff != 0) {
				t.Fatalf("f16 round trip %#x -> %#x", i, back[i])
			}
		}
		// bfloat16 both ways on every bit pattern's upper half and on
		// random/edge floats, against the scalar reference.
		bw := make([]float32, len(all))
		BF16ToF32(bw, all)
		for i, v := range bw {
			if math.Float32bits(v) != uint32(i)<<16 {
				t.Fatalf("bf16 %#x widened to %#x", i, math.Float32bits(v))
			}
		}
		probe := make([]float32, 0, 1<<17)
		for i := range 1 << 16 {
			probe = append(probe, math.Float32frombits(uint32(i)<<16|0x7fff), math.Float32frombits(uint32(i)<<16|0x8000), math.Float32frombits(uint32(i)<<16|0x8001))
		}
		bn := make([]uint16, len(probe))
		F32ToBF16(bn, probe)
		for i, v := range probe {
			if bn[i] != tensor.F32ToBF16(v) {
				t.Fatalf("F32ToBF16(%#x) = %#x want %#x", math.Float32bits(v), bn[i], tensor.F32ToBF16(v))
			}
		}
		// Narrowing: random and edge values against the scalar reference.
		src := randSlice(rng(21), 300007, 1000)
		edges := []float32{65504, 65519.99, 65520, -65520, 1e-8, 5.96e-8, 2.98e-8, 2.99e-8, float32(math.Inf(1)), float32(math.Inf(-1)), 1e30}
		copy(src, edges)
		out := make([]uint16, len(src))
		F32ToF16(out, src)
		for i, v := range src {
			if out[i] != tensor.F32ToF16(v) {
				t.Fatalf("F32ToF16(%g) = %#x want %#x", v, out[i], tensor.F32ToF16(v))
			}
		}
	})
}

// TestArgMaxTiers: ties resolve to the first index, a NaN anywhere wins
// (its first index), ±Inf and all-equal rows, on every tier and length.
func TestArgMaxTiers(t *testing.T) {
	r := rng(25)
	forLevels(t, func(t *testing.T) {
		for _, n := range awkward {
			x := randSlice(r, n, 1)
			for i := range x {
				x[i] = float32(int(x[i] * 3)) // many ties
			}
			cases := [][]float32{x, make([]float32, n)}
			if n > 20 {
				y := append([]float32(nil), x...)
				y[n/2] = float32(math.NaN())
				y[n-1] = float32(math.NaN())
				z := append([]float32(nil), x...)
				z[n-3] = float32(math.Inf(1))
				z[7] = float32(math.Inf(1))
				cases = append(cases, y, z)
			}
			for _, c := range cases {
				got := make([]int32, 1)
				ArgMax(got, c, n)
				if w := argmaxGo(c); int(got[0]) != w {
					t.Fatalf("n=%d: argmax %d want %d", n, got[0], w)
				}
			}
		}
	})
}

func TestArgMaxReduceWhere(t *testing.T) {
	r := rng(22)
	for _, n := range []int{1, 5, 64, 151936} {
		rows := 3
		x := randSlice(r, rows*n, 1)
		idx := make([]int32, rows)
		ArgMax(idx, x, n)
		for row := range rows {
			best := 0
			for i := range n {
				if x[row*n+i] > x[row*n+best] {
					best = i
				}
			}
			if int(idx[row]) != best {
				t.Fatalf("argmax n=%d row %d: %d want %d", n, row, idx[row], best)
			}
		}
		// reduce over each axis of [3, n/?, ...]: view x as [outer, mid, inner]
		for _, split := range [][3]int{{rows, n, 1}, {1, rows, n}, {rows * n, 1, 1}} {
			outer, mid, inner := split[0], split[1], split[2]
			for _, op := range []ReduceOp{ReduceSum, ReduceMean, ReduceMax, ReduceMin} {
				dst := make([]float32, outer*inner)
				Reduce(op, dst, x, outer, mid, inner)
				for o := range outer {
					for i := range inner {
						var acc float64
						switch op {
						case ReduceMax:
							acc = math.Inf(-1)
						case ReduceMin:
							acc = math.Inf(1)
						}
						for k := range mid {
							v := float64(x[(o*mid+k)*inner+i])
							switch op {
							case ReduceSum, ReduceMean:
								acc += v
							case ReduceMax:
								acc = math.Max(acc, v)
							case ReduceMin:
								acc = math.Min(acc, v)
							}
						}
						if op == ReduceMean {
							acc /= float64(mid)
						}
						if e := ulpErr(dst[o*inner+i], acc); e > 0.5 {
							t.Fatalf("reduce %v %v: got %g want %g", op, split, dst[o*inner+i], acc)
						}
					}
				}
			}
		}
	}
	a, b := randSlice(r, 37, 1), randSlice(r, 37, 1)
	cond := make([]uint8, 37)
	for i := range cond {
		cond[i] = uint8(r.IntN(2))
	}
	dst := make([]float32, 37)
	Where(dst, cond, a, b)
	for i := range dst {
		want := b[i]
		if cond[i] != 0 {
			want = a[i]
		}
		if dst[i] != want {
			t.Fatal("where")
		}
	}
}

func TestCopyStrided(t *testing.T) {
	r := rng(23)
	for _, shape := range [][]int{{1}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 5}, {33, 65}, {4, 129, 67}} {
		n := prod(shape)
		src := randSlice(r, n, 1)
		// every permutation of up to 4 axes
		for _, perm := range perms(len(shape)) {
			dst := make([]float32, n)
			Permute(dst, src, shape, perm)
			outShape := make([]int, len(perm))
			for k, p := range perm {
				outShape[k] = shape[p]
			}
			ss := ContiguousStrides(shape)
			for o := range n {
				// coordinates in the output
				rem, si := o, 0
				for k := len(outShape) - 1; k >= 0; k-- {
					c := rem % outShape[k]
					rem /= outShape[k]
					si += c * ss[perm[k]]
				}
				if dst[o] != src[si] {
					t.Fatalf("permute %v %v: element %d", shape, perm, o)
				}
			}
		}
	}
	// Slice + pad: copy a [2:5, 1:4] window of an 8×6 matrix into the middle
	// of a zero-filled 5×7 one; concat along axis 1 of two int32 blocks.
	src := randSlice(r, 48, 1)
	dst := make([]float32, 35)
	Fill(dst, -1)
	CopyStrided(dst[1*7+2:], []int{7, 1}, src[2*6+1:], []int{6, 1}, []int{3, 3})
	for i := range 5 {
		for j := range 7 {
			want := float32(-1)
			if i >= 1 && i < 4 && j >= 2 && j < 5 {
				want = src[(i-1+2)*6+(j-2+1)]
			}
			if dst[i*7+j] != want {
				t.Fatalf("pad/slice (%d,%d): %g want %g", i, j, dst[i*7+j], want)
			}
		}
	}
	a := []int32{1, 2, 3, 4}        // [2,2]
	b := []int32{5, 6, 7, 8, 9, 10} // [2,3]
	cat := make([]int32, 10)        // [2,5]
	CopyStrided(cat, []int{5, 1}, a, []int{2, 1}, []int{2, 2})
	CopyStrided(cat[2:], []int{5, 1}, b, []int{3, 1}, []int{2, 3})
	want := []int32{1, 2, 5, 6, 7, 3, 4, 8, 9, 10}
	for i := range want {
		if cat[i] != want[i] {
			t.Fatalf("concat: %v", cat)
		}
	}
	// broadcast (stride 0) of a row
	row := []uint16{1, 2, 3}
	bc := make([]uint16, 12)
	CopyStrided(bc, []int{3, 1}, row, []int{0, 1}, []int{4, 3})
	for i := range bc {
		if bc[i] != row[i%3] {
			t.Fatal("broadcast copy")
		}
	}
}

func perms(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range perms(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int{}, p[:pos]...), n-1), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestConv(t *testing.T) {
	r := rng(24)
	cases := []Conv{
		{B: 1, Cin: 1, Cout: 1, In: []int{1}, Kernel: []int{1}},
		{B: 2, Cin: 3, Cout: 5, In: []int{17}, Kernel: []int{3}, PadBefore: []int{1}, PadAfter: []int{1}},
		{B: 1, Cin: 8, Cout: 4, In: []int{50}, Kernel: []int{3}, Stride: []int{2}, PadBefore: []int{1}, PadAfter: []int{1}}, // Whisper conv2
		{B: 1, Cin: 4, Cout: 6, In: []int{31}, Kernel: []int{5}, Dilation: []int{2}, Groups: 2, PadBefore: []int{3}},        // grouped, dilated, asymmetric pad
		{B: 2, Cin: 6, Cout: 6, In: []int{64}, Kernel: []int{7}, Groups: 6, PadBefore: []int{3}, PadAfter: []int{3}},        // depthwise
		{B: 1, Cin: 1, Cout: 16, In: []int{576}, Kernel: []int{128}, Stride: []int{64}},                                     // Silero STFT-like
		{B: 1, Cin: 3, Cout: 8, In: []int{32, 48}, Kernel: []int{16, 16}, Stride: []int{16, 16}},                            // ViT patches
		{B: 2, Cin: 4, Cout: 6, In: []int{9, 11}, Kernel: []int{3, 2}, Stride: []int{2, 1}, Dilation: []int{1, 2}, PadBefore: []int{1, 0}, PadAfter: []int{1, 2}, Groups: 2},
		{B: 1, Cin: 5, Cout: 5, In: []int{13, 7}, Kernel: []int{3, 3}, Groups: 5, PadBefore: []int{1, 1}, PadAfter: []int{1, 1}}, // depthwise 2d
		{B: 1, Cin: 2, Cout: 3, In: []int{5, 6, 7}, Kernel: []int{2, 3, 2}, Stride: []int{1, 2, 1}, PadBefore: []int{1, 0, 1}},   // 3-d (generic unfold)
	}
	pool := parallel.New(2)
	defer pool.Close()
	// Bigger than the GEMM threshold: Whisper's first conv on 300 frames.
	cases = append(cases, Conv{B: 1, Cin: 80, Cout: 64, In: []int{300}, Kernel: []int{3}, PadBefore: []int{1}, PadAfter: []int{1}},
		Conv{B: 2, Cin: 3, Cout: 48, In: []int{64, 64}, Kernel: []int{16, 16}, Stride: []int{16, 16}},
		Conv{B: 1, Cin: 8, Cout: 64, In: []int{200}, Kernel: []int{5}, Groups: 2, PadBefore: []int{2}, PadAfter: []int{2}})
	forLevels(t, func(t *testing.T) {
		for ci, c := range cases {
			g := max(c.Groups, 1)
			in := randSlice(r, c.B*c.Cin*prodInts(c.In), 1)
			w := randSlice(r, c.Cout*(c.Cin/g)*prodInts(c.Kernel), 1)
			bias := randSlice(r, c.Cout, 1)
			od := c.OutDims()
			out := make([]float32, c.B*c.Cout*prodInts(od))
			// nil (serial axpy path), a plain runner, and the pool (GEMM path
			// for the larger cases).
			var runner Runner
			switch ci % 3 {
			case 1:
				runner = goRunner{3}
			case 2:
				runner = pool
			}
			if ci >= len(cases)-3 {
				runner = pool
			}
			if err := c.Run(runner, out, in, w, bias); err != nil {
				t.Fatal(err)
			}
			want := naiveConv(&c, in, w, bias)
			if e := relErr(out, want); e > 1e-6 {
				t.Fatalf("case %d %+v: rel err %g", ci, c, e)
			}
		}
	})
	bad := Conv{B: 1, Cin: 3, Cout: 4, Groups: 2, In: []int{5}, Kernel: []int{3}}
	if err := bad.Run(nil, make([]float32, 100), make([]float32, 100), make([]float32, 100), nil); err == nil {
		t.Fatal("groups not dividing Cin accepted")
	}
	small := Conv{B: 1, Cin: 1, Cout: 1, In: []int{2}, Kernel: []int{3}}
	if err := small.Run(nil, make([]float32, 10), make([]float32, 10), make([]float32, 10), nil); err == nil {
		t.Fatal("kernel larger than input accepted")
	}
	short := Conv{B: 1, Cin: 2, Cout: 1, In: []int{8}, Kernel: []int{3}}
	if err := short.Run(nil, make([]float32, 10), make([]float32, 10), make([]float32, 6), nil); err == nil {
		t.Fatal("short input accepted")
	}
}

func naiveConv(c *Conv, in, w, bias []float32) []float64 {
	g := max(c.Groups, 1)
	cig, cog := c.Cin/g, c.Cout/g
	od := c.OutDims()
	nd := len(c.In)
	nOut, nIn, kk := prodInts(od), prodInts(c.In), prodInts(c.Kernel)
	out := make([]float64, c.B*c.Cout*nOut)
	for b := range c.B {
		for oc := range c.Cout {
			gi := oc / cog
			for o := range nOut {
				pos := make([]int, nd)
				rem := o
				for d := nd - 1; d >= 0; d-- {
					pos[d] = rem % od[d]
					rem /= od[d]
				}
				s := float64(bias[oc])
				for ci := range cig {
					for k := range kk {
						tap := make([]int, nd)
						rem := k
						for d := nd - 1; d >= 0; d-- {
							tap[d] = rem % c.Kernel[d]
							rem /= c.Kernel[d]
						}
						idx, ok := 0, true
						for d := range nd {
							x := pos[d]*at(c.Stride, d, 1) + tap[d]*at(c.Dilation, d, 1) - at(c.PadBefore, d, 0)
							if x < 0 || x >= c.In[d] {
								ok = false
							}
							idx = idx*c.In[d] + x
						}
						if ok {
							s += float64(w[(oc*cig+ci)*kk+k]) * float64(in[(b*c.Cin+gi*cig+ci)*nIn+idx])
						}
					}
				}
				out[(b*c.Cout+oc)*nOut+o] = s
			}
		}
	}
	return out
}
