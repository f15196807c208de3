package kernels

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/rlx-go/rlx/rope"
)

func TestBinaryStrided(t *testing.T) {
	r := rng(10)
	ops := []BinaryOp{Add, Sub, Mul, Div, Max, Min, Pow}
	type bc struct{ shape, aShape, bShape []int }
	cases := []bc{
		{[]int{7, 13}, []int{7, 13}, []int{7, 13}},
		{[]int{7, 13}, []int{7, 13}, []int{1, 13}},
		{[]int{7, 13}, []int{7, 1}, []int{1, 13}},
		{[]int{3, 5, 17}, []int{3, 1, 17}, []int{1, 5, 1}},
		{[]int{2, 3, 1, 11}, []int{2, 3, 1, 11}, []int{1}},
		{[]int{1}, []int{1}, []int{1}},
		{[]int{1031}, []int{1031}, []int{1031}},
	}
	for _, c := range cases {
		a := randSlice(r, prod(c.aShape), 2)
		b := randSlice(r, prod(c.bShape), 2)
		for i := range b {
			b[i] = float32(math.Abs(float64(b[i]))) + 0.5 // keep Div and Pow finite
		}
		for i := range a {
			a[i] = float32(math.Abs(float64(a[i]))) + 0.1
		}
		as, bs := bstrides(c.shape, c.aShape), bstrides(c.shape, c.bShape)
		n := prod(c.shape)
		rows := n / c.shape[len(c.shape)-1]
		for _, op := range ops {
			got := make([]float32, n)
			// Two halves, as a parallel caller would split.
			BinaryStrided(op, got, c.shape, a, as, b, bs, 0, rows/2)
			BinaryStrided(op, got, c.shape, a, as, b, bs, rows/2, rows)
			idx := make([]int, len(c.shape))
			for k := range n {
				rem := k
				for d := len(c.shape) - 1; d >= 0; d-- {
					idx[d] = rem % c.shape[d]
					rem /= c.shape[d]
				}
				ao, bo := 0, 0
				for d := range idx {
					ao += idx[d] * as[d]
					bo += idx[d] * bs[d]
				}
				x, y := float64(a[ao]), float64(b[bo])
				var want float64
				switch op {
				case Add:
					want = x + y
				case Sub:
					want = x - y
				case Mul:
					want = x * y
				case Div:
					want = x / y
				case Max:
					want = math.Max(x, y)
				case Min:
					want = math.Min(x, y)
				case Pow:
					want = math.Pow(x, y)
				}
				if e := ulpErr(got[k], want); e > 1 {
					t.Fatalf("%v %v: element %d got %g want %g", op, c.shape, k, got[k], want)
				}
			}
		}
	}
}

func prod(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}

// bstrides gives the element strides of a contiguous tensor of shape src
// broadcast to shape (same rank; size-1 dimensions get stride 0).
func bstrides(shape, src []int) []int {
	st := make([]int, len(shape))
	s := 1
	for d := len(src) - 1; d >= 0; d-- {
		if src[d] == 1 && shape[d] != 1 || len(src) != len(shape) {
			st[d] = 0
		} else {
			st[d] = s
		}
		s *= src[d]
	}
	if len(src) != len(shape) { // a scalar operand
		for d := range st {
			st[d] = 0
		}
	}
	return st
}

func TestSoftmax(t *testing.T) {
	r := rng(11)
	for _, cols := range []int{1, 3, 17, 64, 257, 4099, 300007} {
		groups, q := 3, 2
		rows := groups * q
		if cols > 5000 {
			rows, q = 2, 2
			groups = 1
		}
		src := randSlice(r, rows*cols, 4)
		mask := randSlice(r, q*cols, 1)
		for _, o := range []SoftmaxOpts{
			{},
			{Scale: 0.125},
			{Scale: 0.3, Causal: true, Past: cols - q - 1 + 1, QueryRows: q},
			{Causal: true, Past: 0, QueryRows: q, Mask: mask, MaskRowStride: cols, MaskGroupDiv: groups},
		} {
			forLevels(t, func(t *testing.T) {
				got := make([]float32, len(src))
				Softmax(got, src, cols, 0, rows, &o)
				lg := make([]float32, len(src))
				LogSoftmax(lg, src, cols, 0, rows, &o)
				for row := range rows {
					g, i := row, 0
					if o.QueryRows > 0 {
						g, i = row/o.QueryRows, row%o.QueryRows
					}
					scale := float64(o.Scale)
					if scale == 0 {
						scale = 1
					}
					z := make([]float64, cols)
					m := math.Inf(-1)
					for j := range cols {
						z[j] = float64(src[row*cols+j]) * scale
						if o.Mask != nil {
							z[j] += float64(o.Mask[(g/max(o.MaskGroupDiv, 1))*o.MaskGroupStride+i*o.MaskRowStride+j])
						}
						if o.Causal && j > o.Past+i {
							z[j] = math.Inf(-1)
						}
						m = math.Max(m, z[j])
					}
					var s float64
					for j := range z {
						z[j] = math.Exp(z[j] - m)
						s += z[j]
					}
					want := make([]float64, cols)
					wantLog := make([]float64, cols)
					for j := range z {
						want[j] = z[j] / s
						wantLog[j] = math.Log(want[j])
					}
					if e := relErr(got[row*cols:(row+1)*cols], want); e > 1e-6 {
						t.Fatalf("cols=%d opts=%+v row %d: rel err %g", cols, o, row, e)
					}
					for j := range cols {
						gl, wl := float64(lg[row*cols+j]), wantLog[j]
						if math.IsInf(wl, -1) {
							if !math.IsInf(gl, -1) {
								t.Fatalf("logsoftmax: want -Inf at %d, got %g", j, gl)
							}
							continue
						}
						if math.Abs(gl-wl) > 1e-5*math.Max(1, math.Abs(wl)) {
							t.Fatalf("logsoftmax cols=%d row %d col %d: got %g want %g", cols, row, j, gl, wl)
						}
					}
				}
			})
		}
	}
	// A fully masked row is zeros, not NaN.
	src := []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
	got := make([]float32, 2)
	Softmax(got, src, 2, 0, 1, nil)
	if got[0] != 0 || got[1] != 0 {
		t.Fatalf("fully masked row: %v", got)
	}
	LogSoftmax(got, src, 2, 0, 1, nil)
	if !math.IsInf(float64(got[0]), -1) || !math.IsInf(float64(got[1]), -1) {
		t.Fatalf("fully masked log-softmax row: %v", got)
	}
}

func TestNorms(t *testing.T) {
	r := rng(12)
	for _, n := range []int{1, 7, 64, 896, 1031, 300007} {
		rows := 3
		if n > 100000 {
			rows = 1
		}
		x := randSlice(r, rows*n, 3)
		w := randSlice(r, n, 1)
		b := randSlice(r, n, 1)
		res := randSlice(r, rows*n, 1)
		eps := float32(1e-6)
		forLevels(t, func(t *testing.T) {
			for _, plus := range []bool{false, true} {
				for _, wt := range [][]float32{nil, w} {
					got := make([]float32, len(x))
					RMSNorm(got, x, wt, n, eps, plus)
					sum := make([]float32, len(x))
					fused := make([]float32, len(x))
					AddRMSNorm(fused, sum, x, res, wt, n, eps, plus)
					for row := range rows {
						xr := x[row*n : (row+1)*n]
						var ss float64
						for _, v := range xr {
							ss += float64(v) * float64(v)
						}
						inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
						want := make([]float64, n)
						for i, v := range xr {
							f := 1.0
							if wt != nil {
								f = float64(wt[i])
								if plus {
									f += 1
								}
							}
							want[i] = float64(v) * inv * f
						}
						if e := relErr(got[row*n:(row+1)*n], want); e > 2e-6 {
							t.Fatalf("rmsnorm n=%d plus=%v: rel err %g", n, plus, e)
						}
						// fused: reference on x+res
						for i := range xr {
							if sum[row*n+i] != xr[i]+res[row*n+i] {
								t.Fatalf("AddRMSNorm sum wrong")
							}
						}
					}
				}
			}
			for _, wb := range [][2][]float32{{nil, nil}, {w, nil}, {w, b}, {nil, b}} {
				got := make([]float32, len(x))
				LayerNorm(got, x, wb[0], wb[1], n, 1e-5)
				// The fused residual form on (x - res) + res must agree closely.
				diff := make([]float32, len(x))
				Binary(Sub, diff, x, res)
				fsum, fused := make([]float32, len(x)), make([]float32, len(x))
				AddLayerNorm(fused, fsum, diff, res, wb[0], wb[1], n, 1e-5)
				for i := range fsum {
					if fsum[i] != diff[i]+res[i] {
						t.Fatal("AddLayerNorm sum wrong")
					}
				}
				for row := range rows {
					xr := x[row*n : (row+1)*n]
					var s, ss float64
					for _, v := range xr {
						s += float64(v)
					}
					mean := s / float64(n)
					for _, v := range xr {
						ss += (float64(v) - mean) * (float64(v) - mean)
					}
					inv := 1 / math.Sqrt(ss/float64(n)+1e-5)
					want := make([]float64, n)
					for i, v := range xr {
						y := (float64(v) - mean) * inv
						if wb[0] != nil {
							y *= float64(wb[0][i])
						}
						if wb[1] != nil {
							y += float64(wb[1][i])
						}
						want[i] = y
					}
					if e := relErr(got[row*n:(row+1)*n], want); e > 2e-6 {
						t.Fatalf("layernorm n=%d: rel err %g", n, e)
					}
				}
			}
		})
	}
}

func TestRoPEApply(t *testing.T) {
	r := rng(13)
	for _, layout := range []RoPELayout{RotateHalf, Interleaved} {
		for _, dims := range [][2]int{{64, 64}, {128, 32}, {80, 64}, {2, 2}, {96, 48}} {
			headDim, rot := dims[0], dims[1]
			inv, att, err := rope.InvFreq(rope.Scaling{Type: "yarn", Theta: 10000, Dim: rot, Factor: 4, OriginalMaxPos: 64}, 0)
			if err != nil {
				t.Fatal(err)
			}
			rp := &RoPE{InvFreq: inv, Layout: layout, AttnFactor: float32(att)}
			tokens, heads := 5, 3
			// [tokens, heads, headDim] layout; positions explicit and implicit.
			src := randSlice(r, tokens*heads*headDim, 1)
			pos := []int32{3, 0, 17, 1000, 5}
			for _, usePos := range []bool{false, true} {
				got := make([]float32, len(src))
				var p []int32
				if usePos {
					p = pos
				}
				rp.Apply(got, src, tokens, heads, headDim, heads*headDim, headDim, p, 7)
				inPlace := append([]float32(nil), src...)
				rp.Apply(inPlace, inPlace, tokens, heads, headDim, heads*headDim, headDim, p, 7)
				// The cached table (covering only some positions) gives identical bits.
				tab := make([]float32, len(src))
				rp.Table(20).Apply(tab, src, tokens, heads, headDim, heads*headDim, headDim, p, 7)
				for i := range tab {
					if math.Float32bits(tab[i]) != math.Float32bits(got[i]) {
						t.Fatalf("table rope differs at %d", i)
					}
				}
				for tk := range tokens {
					ps := 7 + tk
					if usePos {
						ps = int(pos[tk])
					}
					for h := range heads {
						off := tk*heads*headDim + h*headDim
						x := src[off : off+headDim]
						want := make([]float64, headDim)
						for i := range want {
							want[i] = float64(x[i])
						}
						for k := range rot / 2 {
							th := float64(float32(ps) * inv[k])
							c, s := math.Cos(th)*att, math.Sin(th)*att
							i, j := k, k+rot/2
							if layout == Interleaved {
								i, j = 2*k, 2*k+1
							}
							a, b := float64(x[i]), float64(x[j])
							want[i] = a*c - b*s
							want[j] = b*c + a*s
						}
						if e := relErr(got[off:off+headDim], want); e > 1e-6 {
							t.Fatalf("%v dims %v pos %d: rel err %g", layout, dims, ps, e)
						}
						for i := range headDim {
							if math.Float32bits(inPlace[off+i]) != math.Float32bits(got[off+i]) {
								t.Fatal("in-place rope differs")
							}
						}
					}
				}
			}
		}
	}
}

// TestInvFreqHF compares with the inverse frequencies Hugging Face computed
// for the fixture checkpoints (testdata/README.md).
func TestInvFreqHF(t *testing.T) {
	raw, err := os.ReadFile("testdata/hf_inv_freq.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Family  string         `json:"family"`
		Tensor  string         `json:"tensor"`
		Rope    map[string]any `json:"rope_parameters"`
		HeadDim *int           `json:"head_dim"`
		Hidden  int            `json:"hidden_size"`
		Heads   int            `json:"num_attention_heads"`
		Partial *float64       `json:"partial_rotary_factor"`
		MaxPos  int            `json:"max_position_embeddings"`
		Bits    []uint32       `json:"inv_freq_bits"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	num := func(m map[string]any, k string) float64 {
		v, _ := m[k].(float64)
		return v
	}
	for _, c := range cases {
		hd := c.Hidden / c.Heads
		if c.HeadDim != nil {
			hd = *c.HeadDim
		}
		dim := hd
		if c.Partial != nil {
			dim = int(float64(hd) * *c.Partial)
		}
		typ, _ := c.Rope["rope_type"].(string)
		s := rope.Scaling{
			Type: typ, Theta: num(c.Rope, "rope_theta"), Dim: dim, Factor: num(c.Rope, "factor"),
			LowFreqFactor: num(c.Rope, "low_freq_factor"), HighFreqFactor: num(c.Rope, "high_freq_factor"),
			OriginalMaxPos: int(num(c.Rope, "original_max_position_embeddings")), MaxPos: c.MaxPos,
		}
		got, att, err := rope.InvFreq(s, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.Family, err)
		}
		if att != 1 || len(got) != len(c.Bits) {
			t.Fatalf("%s: att %v, len %d want %d", c.Family, att, len(got), len(c.Bits))
		}
		worst := 0.0
		for i, b := range c.Bits {
			want := math.Float32frombits(b)
			worst = max(worst, ulpErr(got[i], float64(want)))
		}
		t.Logf("%s %s (%s): max %.1f ulp over %d", c.Family, c.Tensor, typ, worst, len(got))
		if worst > 1 {
			t.Errorf("%s %s: %.1f ulp from HF", c.Family, c.Tensor, worst)
		}
	}
}

// TestInvFreqFormulas checks the scaled variants against the formulas in
// float64 on real model shapes (Llama 3.2 1B llama3, a YaRN config).
func TestInvFreqFormulas(t *testing.T) {
	got, _, err := rope.InvFreq(rope.Scaling{Type: "llama3", Theta: 500000, Dim: 64, Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range got {
		base := 1 / math.Pow(500000, float64(2*i)/64)
		wl := 2 * math.Pi / base
		want := base
		switch {
		case wl > 8192:
			want = base / 32
		case wl >= 2048:
			sm := (8192/wl - 1) / 3
			want = (1-sm)*base/32 + sm*base
		}
		if e := math.Abs(float64(g)-want) / want; e > 1e-6 {
			t.Errorf("llama3 %d: got %g want %g", i, g, want)
		}
	}
	got, att, err := rope.InvFreq(rope.Scaling{Type: "yarn", Theta: 1e6, Dim: 128, Factor: 4, OriginalMaxPos: 32768}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.1*math.Log(4) + 1; math.Abs(att-want) > 1e-12 {
		t.Errorf("yarn attention factor %v want %v", att, want)
	}
	corr := func(rot float64) float64 { return 128 * math.Log(32768/(rot*2*math.Pi)) / (2 * math.Log(1e6)) }
	lo, hi := math.Floor(corr(32)), math.Ceil(corr(1))
	for i, g := range got {
		p := math.Pow(1e6, float64(2*i)/128)
		ramp := math.Min(math.Max((float64(i)-lo)/(hi-lo), 0), 1)
		want := (1/(4*p))*ramp + (1/p)*(1-ramp)
		if e := math.Abs(float64(g)-want) / want; e > 1e-6 {
			t.Errorf("yarn %d: got %g want %g", i, g, want)
		}
	}
	for _, bad := range []rope.Scaling{{Type: "linear", Theta: 1e4, Dim: 64}, {Theta: 1e4, Dim: 63}, {Type: "weird", Theta: 1e4, Dim: 64}, {Theta: 0, Dim: 64}} {
		if _, _, err := rope.InvFreq(bad, 0); err == nil {
			t.Errorf("InvFreq(%+v) accepted", bad)
		}
	}
}

// TestBinaryTiers: the vector add/sub/mul/div are exact IEEE operations, so
// every tier must match the scalar result bit for bit, tails included.
func TestBinaryTiers(t *testing.T) {
	r := rng(14)
	forLevels(t, func(t *testing.T) {
		for _, n := range awkward {
			a, b := randSlice(r, n, 3), randSlice(r, n, 3)
			for _, op := range []BinaryOp{Add, Sub, Mul, Div} {
				got := make([]float32, n)
				Binary(op, got, a, b)
				for i := range got {
					if w := binaryScalar(op, a[i], b[i]); math.Float32bits(got[i]) != math.Float32bits(w) {
						t.Fatalf("%v n=%d i=%d: %g want %g", op, n, i, got[i], w)
					}
				}
				// With a scalar second operand, and in place.
				sc := b[0]
				BinaryScalar(op, got, a, sc)
				for i := range got {
					if w := binaryScalar(op, a[i], sc); math.Float32bits(got[i]) != math.Float32bits(w) {
						t.Fatalf("%v scalar n=%d i=%d: %g want %g", op, n, i, got[i], w)
					}
				}
				Binary(op, got, a, b)
				// In place (dst aliasing a).
				c := append([]float32(nil), a...)
				Binary(op, c, c, b)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(got[i]) {
						t.Fatalf("%v in place differs", op)
					}
				}
			}
		}
	})
}

// TestRoPETiers: the vector rotation rounds each product like the twin, so
// every tier gives the twin's bits, for both layouts, partial rotary,
// [T,H,D] and [H,T,D] strides, in place and out of place.
func TestRoPETiers(t *testing.T) {
	r := rng(15)
	for _, layout := range []RoPELayout{RotateHalf, Interleaved} {
		for _, dims := range [][2]int{{64, 64}, {128, 128}, {128, 32}, {80, 64}, {256, 256}, {16, 8}, {2, 2}, {96, 48}} {
			headDim, rot := dims[0], dims[1]
			inv, _, _ := rope.InvFreq(rope.Scaling{Theta: 1e6, Dim: rot}, 0)
			rp := &RoPE{InvFreq: inv, Layout: layout, AttnFactor: 1.25}
			tokens, heads := 7, 5
			src := randSlice(r, tokens*heads*headDim, 1)
			for _, hth := range []bool{false, true} {
				tokStride, headStride := heads*headDim, headDim
				if hth {
					tokStride, headStride = headDim, tokens*headDim
				}
				setLevel(0)
				want := make([]float32, len(src))
				rp.Apply(want, src, tokens, heads, headDim, tokStride, headStride, nil, 123)
				forLevels(t, func(t *testing.T) {
					got := make([]float32, len(src))
					rp.Apply(got, src, tokens, heads, headDim, tokStride, headStride, nil, 123)
					in := append([]float32(nil), src...)
					rp.Table(200).Apply(in, in, tokens, heads, headDim, tokStride, headStride, nil, 123)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(in[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v dims %v hth=%v: element %d got %g / %g, twin %g", layout, dims, hth, i, got[i], in[i], want[i])
						}
					}
				})
			}
		}
	}
}
