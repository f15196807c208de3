package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// goRunner runs tasks on n goroutines (a stand-in for the worker pool with
// the same contract).
type goRunner struct{ n int }

func (g goRunner) Size() int { return g.n }

func (g goRunner) Run(tasks int, fn func(task, worker int)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := range g.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				t := next
				next++
				mu.Unlock()
				if t >= tasks {
					return
				}
				fn(t, w)
			}
		}()
	}
	wg.Wait()
}

type attnCase struct {
	B, Hq, Hkv, Tq, Tk, D, Dv, Past, Window, MaxSeq int
	Causal, F16, BTHD, Softcap, Scale               bool
	Mask                                            int // 0 none, 1 [B,1,Tq,Tk], 2 [B,H,Tq,Tk]
}

func (c attnCase) String() string {
	type plain attnCase
	return fmt.Sprintf("%+v", plain(c))
}

// build makes random inputs for c and the Attention over them, plus the
// float64 values the reference reads.
func (c attnCase) build(r *rand.Rand) (*Attention, func(b, h, t, d int) (q, k, v float64)) {
	dv := c.Dv
	if dv == 0 {
		dv = c.D
	}
	a := &Attention{B: c.B, Hq: c.Hq, Hkv: c.Hkv, Tq: c.Tq, Tk: c.Tk, D: c.D, Dv: c.Dv,
		Causal: c.Causal, Past: c.Past, Window: c.Window}
	a.Q = randSlice(r, c.B*c.Hq*c.Tq*c.D, 1)
	if c.BTHD { // [B, T, H, D]
		a.QBatch, a.QRow, a.QHead = c.Tq*c.Hq*c.D, c.Hq*c.D, c.D
	} else {
		a.QBatch, a.QHead, a.QRow = c.Hq*c.Tq*c.D, c.Tq*c.D, c.D
	}
	a.Out = make([]float32, c.B*c.Hq*c.Tq*dv)
	if c.BTHD {
		a.OutBatch, a.OutRow, a.OutHead = c.Tq*c.Hq*dv, c.Hq*dv, dv
	} else {
		a.OutBatch, a.OutHead, a.OutRow = c.Hq*c.Tq*dv, c.Tq*dv, dv
	}
	seq := max(c.MaxSeq, c.Tk)
	mk := func(d int) KV {
		n := c.B * c.Hkv * seq * d
		kv := KV{BatchStride: c.Hkv * seq * d, HeadStride: seq * d, RowStride: d}
		f := randSlice(r, n, 1)
		if c.F16 {
			kv.F16 = make([]uint16, n)
			for i, x := range f {
				kv.F16[i] = tensor.F32ToF16(x)
			}
		} else {
			kv.F32 = f
		}
		return kv
	}
	a.K, a.V = mk(c.D), mk(dv)
	if c.Softcap {
		a.Softcap = 2.5
	}
	if c.Scale {
		a.Scale = 0.3
	}
	switch c.Mask {
	case 1:
		a.Mask = randSlice(r, c.B*c.Tq*c.Tk, 1)
		a.MaskBatch, a.MaskRow = c.Tq*c.Tk, c.Tk
		for i := range a.Mask {
			if r.IntN(7) == 0 {
				a.Mask[i] = float32(math.Inf(-1))
			}
		}
	case 2:
		a.Mask = randSlice(r, c.B*c.Hq*c.Tq*c.Tk, 1)
		a.MaskBatch, a.MaskHead, a.MaskRow = c.Hq*c.Tq*c.Tk, c.Tq*c.Tk, c.Tk
	}
	return a, nil
}

func kvAt(kv KV, b, h, t, d int) float64 {
	i := b*kv.BatchStride + h*kv.HeadStride + t*kv.RowStride + d
	if kv.F16 != nil {
		return float64(tensor.F16ToF32(kv.F16[i]))
	}
	return float64(kv.F32[i])
}

// naiveAttention is softmax(QKᵀ)V in float64 with an explicit score matrix.
func naiveAttention(a *Attention) []float64 {
	dv := a.dv()
	out := make([]float64, len(a.Out))
	scale := float64(a.Scale)
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(a.D))
	}
	g := a.Hq / a.Hkv
	for b := range a.B {
		for h := range a.Hq {
			for i := range a.Tq {
				s := make([]float64, a.Tk)
				m := math.Inf(-1)
				for j := range a.Tk {
					var dot float64
					for d := range a.D {
						dot += float64(a.Q[b*a.QBatch+h*a.QHead+i*a.QRow+d]) * kvAt(a.K, b, h/g, j, d)
					}
					x := dot * scale
					if a.Softcap != 0 {
						c := float64(a.Softcap)
						x = c * math.Tanh(x/c)
					}
					if a.Mask != nil {
						x += float64(a.Mask[b*a.MaskBatch+h*a.MaskHead+i*a.MaskRow+j])
					}
					p := a.Past + i
					if a.Causal && (j > p || (a.Window > 0 && j <= p-a.Window)) {
						x = math.Inf(-1)
					}
					s[j] = x
					m = math.Max(m, x)
				}
				o := out[b*a.OutBatch+h*a.OutHead+i*a.OutRow:][:dv]
				if math.IsInf(m, -1) {
					continue
				}
				var l float64
				for j := range s {
					s[j] = math.Exp(s[j] - m)
					l += s[j]
				}
				for j := range s {
					for d := range dv {
						o[d] += s[j] / l * kvAt(a.V, b, h/g, j, d)
					}
				}
			}
		}
	}
	return out
}

// checkAgainst runs a on the current tier and compares with want.
func checkAgainst(t *testing.T, c attnCase, a *Attention, runner Runner, want []float64) {
	t.Helper()
	clear(a.Out)
	if err := a.Run(runner); err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	var num, den float64
	for i, w := range want {
		num = math.Max(num, math.Abs(float64(a.Out[i])-w))
		den = math.Max(den, math.Abs(w))
	}
	e := num / math.Max(den, 1e-30)
	if e > attnTol(a) || math.IsNaN(e) {
		t.Fatalf("%v: max rel err %g (bound %g)", c, e, attnTol(a))
	}
}

// attnTol bounds the float32 error relative to the largest output: a
// score's rounding error grows like scale·D·ε for unit-variance inputs and
// passes straight into the probabilities; the value sums add ~√Tk·ε of
// the value scale, which averaging makes large next to small outputs.
func attnTol(a *Attention) float64 {
	scale := float64(a.Scale)
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(a.D))
	}
	return 1e-6 + 4e-8*scale*float64(a.D) + 1.5e-7*math.Sqrt(float64(a.Tk))
}

// TestAttentionOptions runs every option combination on every tier against
// one float64 reference per case.
func TestAttentionOptions(t *testing.T) {
	n := 0
	for _, heads := range [][2]int{{4, 2}, {3, 3}, {4, 1}} {
		for _, tq := range []int{1, 5, 17} {
			for _, causal := range []bool{false, true} {
				for _, f16 := range []bool{false, true} {
					for _, mask := range []int{0, 1, 2} {
						for _, extra := range []int{0, 1, 2, 3} {
							n++
							c := attnCase{B: 2, Hq: heads[0], Hkv: heads[1], Tq: tq, D: 16, Causal: causal, F16: f16, Mask: mask}
							c.Past = []int{0, 3, 70, 11}[extra]
							c.Tk = c.Past + tq
							if !causal {
								c.Tk = []int{7, 1, 130, 64}[extra]
								c.Past = 0
							}
							switch extra {
							case 1:
								c.BTHD, c.Scale, c.MaxSeq = true, true, c.Tk+9
							case 2:
								c.Softcap, c.D, c.Dv = true, 32, 24
							case 3:
								c.D = 80
								if causal {
									c.Window = 5
								}
								c.Softcap = true
							}
							var runner Runner
							if n%2 == 0 {
								runner = goRunner{3}
							}
							a, _ := c.build(rng(uint64(n)))
							want := naiveAttention(a)
							forLevels(t, func(t *testing.T) { checkAgainst(t, c, a, runner, want) })
						}
					}
				}
			}
		}
	}
}

// TestAttentionDecodeSplit covers the key-split path (few heads, long cache),
// a cache longer than the filled part, and prefill shapes with real head sizes.
func TestAttentionDecodeSplit(t *testing.T) {
	for i, c := range []attnCase{
		{B: 1, Hq: 2, Hkv: 1, Tq: 1, Tk: 1000, D: 64, Past: 999, Causal: true, MaxSeq: 1200},
		{B: 1, Hq: 2, Hkv: 2, Tq: 1, Tk: 1000, D: 64, Past: 999, Causal: true, F16: true, Window: 300},
		{B: 1, Hq: 1, Hkv: 1, Tq: 3, Tk: 777, D: 128, Past: 774, Causal: true, Mask: 1, Softcap: true},
		{B: 1, Hq: 1, Hkv: 1, Tq: 1, Tk: 4099, D: 16, Mask: 2, F16: true},
		// prefill shapes for the transposed tiles (D multiple of 16)
		{B: 1, Hq: 4, Hkv: 2, Tq: 37, Tk: 57, D: 64, Past: 20, Causal: true, F16: true, Mask: 1, MaxSeq: 80},
		{B: 2, Hq: 8, Hkv: 2, Tq: 70, Tk: 70, D: 128, Causal: true, Window: 33, Softcap: true, BTHD: true},
		{B: 1, Hq: 2, Hkv: 2, Tq: 30, Tk: 130, D: 64, Mask: 2, Scale: true},
	} {
		a, _ := c.build(rng(uint64(100 + i)))
		want := naiveAttention(a)
		forLevels(t, func(t *testing.T) {
			checkAgainst(t, c, a, goRunner{4}, want)
			checkAgainst(t, c, a, goRunner{1}, want)
		})
	}
}

func TestAttentionValidate(t *testing.T) {
	good := func() *Attention {
		a, _ := attnCase{B: 1, Hq: 2, Hkv: 1, Tq: 2, Tk: 4, D: 8, Causal: true, Past: 2}.build(rng(5))
		return a
	}
	for name, mut := range map[string]func(a *Attention){
		"heads":    func(a *Attention) { a.Hq = 3 },
		"short q":  func(a *Attention) { a.Q = a.Q[:5] },
		"short k":  func(a *Attention) { a.K.F32 = a.K.F32[:7] },
		"both kv":  func(a *Attention) { a.V.F16 = make([]uint16, 100) },
		"window":   func(a *Attention) { a.Causal = false; a.Window = 2 },
		"mask":     func(a *Attention) { a.Mask = make([]float32, 3); a.MaskRow = 4 },
		"negative": func(a *Attention) { a.Past = -1 },
	} {
		a := good()
		mut(a)
		if err := a.Run(nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := good().Run(nil); err != nil {
		t.Fatal(err)
	}
}
