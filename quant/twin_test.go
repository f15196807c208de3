package quant

import (
	"fmt"
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// TestKernelTwins runs the assembly kernels and their pure-Go twins on the
// same weights and activations. The integer block sums are exact in both;
// the float32 combination differs in order (per lane in assembly, per block
// in Go), so results agree to a few ulps of the sum of |terms|.
func TestKernelTwins(t *testing.T) {
	if !asmOK && !avx2OK {
		t.Skip("no assembly kernels on this CPU / RLX_CPU tier")
	}
	p := parallel.New(1)
	defer p.Close()
	for _, dt := range kernelTypes {
		for _, K := range []int{256, 512, 768, 4352, 8192} {
			if dt.BlockSize() == 32 {
				K -= 32 * (K / 256 % 3) // also K that is not a multiple of 512
			}
			t.Run(fmt.Sprintf("%v/K%d", dt, K), func(t *testing.T) {
				const N, M = 5, 2
				q, w := randWeights(t, dt, N, K, uint64(K))
				x := randActs(M, K, uint64(K+1))
				m, err := NewMatrix(dt, N, K, q)
				if err != nil {
					t.Fatal(err)
				}
				a := getAct(m.kind, M, K)
				a.quantize(p, x)
				for r := 0; r < M; r++ {
					for n := 0; n < N; n++ {
						vnni, avx2, want := twinDots(m, a, r, n)
						mag := termMagnitude(w[n*K:(n+1)*K], x[r*K:(r+1)*K])
						for _, c := range []struct {
							name string
							ok   bool
							got  float32
						}{{"VNNI", asmOK, vnni}, {"AVX2", avx2OK, avx2}} {
							if !c.ok {
								continue
							}
							if d := math.Abs(float64(c.got - want)); d > 1e-5*mag || math.IsNaN(float64(c.got)) {
								t.Fatalf("row %d·%d: %s %g, Go %g (|terms| %g)", n, r, c.name, c.got, want, mag)
							}
						}
					}
				}
			})
		}
	}
}

// twinDots returns the VNNI, AVX2 and Go results for weight row n and
// activation row r (an assembly result is NaN when the CPU lacks it).
func twinDots(m *Matrix, a *act, r, n int) (vnni, avx2, goRes float32) {
	vnni, avx2 = float32(math.NaN()), float32(math.NaN())
	w := m.data[n*m.stride:]
	switch m.kind {
	case kindQ8_0, kindQ4_0:
		nb := a.kp / 32
		qs := a.qs[r*a.kp : (r+1)*a.kp]
		d, s := a.d[r*nb:(r+1)*nb], a.sum[r*nb:(r+1)*nb]
		sc := m.scales[n*m.sstride : (n+1)*m.sstride]
		if m.kind == kindQ8_0 {
			if asmOK {
				vnni = dotQ8_0VNNI(w, sc, qs, d, s)
			}
			if avx2OK {
				avx2 = dotQ8_0AVX2(w, sc, qs, d, s)
			}
			return vnni, avx2, dotQ8_0Go(w, sc, qs, d, s, m.cols/32)
		}
		if asmOK {
			vnni = dotQ4_0VNNI(w, sc, qs, d, s)
		}
		if avx2OK {
			avx2 = dotQ4_0AVX2(w, sc, qs, d, s)
		}
		return vnni, avx2, dotQ4_0Go(w, sc, qs, d, s, m.cols/32)
	}
	nsb := m.cols / qkK
	x := a.xk[r*nsb*actKBytes : (r+1)*nsb*actKBytes]
	var fv, fa, fg func(w, x []byte, nsb int) float32
	switch m.kind {
	case kindQ4K:
		fv, fa, fg = dotQ4KVNNI, dotQ4KAVX2, dotQ4KGo
	case kindQ5K:
		fv, fa, fg = dotQ5KVNNI, dotQ5KAVX2, dotQ5KGo
	default:
		fv, fa, fg = dotQ6KVNNI, dotQ6KAVX2, dotQ6KGo
	}
	if asmOK {
		vnni = fv(w, x, nsb)
	}
	if avx2OK {
		avx2 = fa(w, x, nsb)
	}
	return vnni, avx2, fg(w, x, nsb)
}

// termMagnitude bounds the magnitude of the partial sums both kernels
// round: weights are sums of a scaled level and an offset each at most the
// row's largest |w|, so Σ(|w_i| + max|w|)·|x_i| covers every term.
func termMagnitude(w, x []float32) float64 {
	var wmax, mag float64
	for _, v := range w {
		wmax = math.Max(wmax, math.Abs(float64(v)))
	}
	for i := range w {
		mag += (math.Abs(float64(w[i])) + wmax) * math.Abs(float64(x[i]))
	}
	return mag
}

func TestTierDispatch(t *testing.T) {
	// Every tier must be reachable through MatMul and agree: VNNI (if the
	// CPU has it), AVX2, and the Go twins.
	p := parallel.New(2)
	defer p.Close()
	saveV, saveA := asmOK, avx2OK
	defer func() { asmOK, avx2OK = saveV, saveA }()
	for _, dt := range kernelTypes {
		q, _ := randWeights(t, dt, 33, 1024, 5)
		x := randActs(3, 1024, 6)
		m, err := NewMatrix(dt, 33, 1024, q)
		if err != nil {
			t.Fatal(err)
		}
		asmOK, avx2OK = false, false
		want := make([]float32, 3*33)
		if err := m.MatMul(p, want, x); err != nil {
			t.Fatal(err)
		}
		for _, tier := range []struct {
			name       string
			vnni, avx2 bool
		}{{"vnni", saveV, false}, {"avx2", false, saveA}} {
			if !tier.vnni && !tier.avx2 {
				continue
			}
			asmOK, avx2OK = tier.vnni, tier.avx2
			got := make([]float32, 3*33)
			if err := m.MatMul(p, got, x); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%v %s: y[%d] = %g, Go %g", dt, tier.name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestActQuantTwins: the assembly activation quantizers must produce the
// Go twins' bytes exactly (same float32 operations, same rounding).
func TestActQuantTwins(t *testing.T) {
	if !asmOK && !avx2OK {
		t.Skip("assembly not available")
	}
	p := parallel.New(2)
	defer p.Close()
	saveV, saveA := asmOK, avx2OK
	defer func() { asmOK, avx2OK = saveV, saveA }()
	for _, kind := range []kernelKind{kindQ8_0, kindQ4K, kindQ6K} {
		for _, s := range []struct{ M, K int }{{1, 256}, {3, 768}, {2, 4352}, {1, 8192}} {
			x := randActs(s.M, s.K, uint64(s.K))
			for i := 256; i < 256+64 && i < len(x); i++ {
				x[i] = 0 // a zero 32-block (and part of a super-block)
			}
			if len(x) >= 1024 {
				clear(x[512:768]) // a whole zero super-block
				x[900] = -1e-30
			}
			asmOK, avx2OK = false, false
			gor := getAct(kind, s.M, s.K)
			gor.quantize(p, x)
			for _, tier := range []struct {
				name       string
				vnni, avx2 bool
			}{{"avx512", saveV, false}, {"avx2", false, saveA}} {
				if !tier.vnni && !tier.avx2 {
					continue
				}
				asmOK, avx2OK = tier.vnni, tier.avx2
				asm := getAct(kind, s.M, s.K)
				asm.quantize(p, x)
				what := fmt.Sprintf("%s kind %d M%d K%d", tier.name, kind, s.M, s.K)
				if kind == kindQ8_0 {
					for i := range asm.qs {
						if asm.qs[i] != gor.qs[i] {
							t.Fatalf("%s: qs[%d] asm %d, Go %d", what, i, asm.qs[i], gor.qs[i])
						}
					}
					for i := range asm.d {
						if asm.d[i] != gor.d[i] || asm.sum[i] != gor.sum[i] {
							t.Fatalf("%s: block %d asm (%g, %g), Go (%g, %g)", what, i, asm.d[i], asm.sum[i], gor.d[i], gor.sum[i])
						}
					}
					continue
				}
				for i := range asm.xk {
					if asm.xk[i] != gor.xk[i] {
						t.Fatalf("%s: byte %d (block %d offset %d) asm %#x, Go %#x", what, i, i/actKBytes, i%actKBytes, asm.xk[i], gor.xk[i])
					}
				}
			}
		}
	}
}

// TestFourRowTwins: the four-row GEMM kernels against the Go twin, row by row.
func TestFourRowTwins(t *testing.T) {
	if !asmOK {
		t.Skip("no VNNI kernels")
	}
	p := parallel.New(1)
	defer p.Close()
	for _, dt := range kernelTypes {
		for _, K := range []int{256, 1280, 4096} {
			const N, M = 3, 6
			q, w := randWeights(t, dt, N, K, uint64(K)+7)
			x := randActs(M, K, uint64(K)+8)
			m, err := NewMatrix(dt, N, K, q)
			if err != nil {
				t.Fatal(err)
			}
			a := getAct(m.kind, M, K)
			a.quantize(p, x)
			y := make([]float32, M*N)
			dot4Func(m.kind)(m, a, 2, 0, N, y) // rows 2..5
			for r := 2; r < M; r++ {
				for n := 0; n < N; n++ {
					_, _, want := twinDots(m, a, r, n)
					mag := termMagnitude(w[n*K:(n+1)*K], x[r*K:(r+1)*K])
					if got := y[r*N+n]; math.Abs(float64(got-want)) > 1e-5*mag || math.IsNaN(float64(got)) {
						t.Fatalf("%v K%d: y[%d,%d] = %g, Go %g", dt, K, r, n, got, want)
					}
				}
			}
		}
	}
}

// TestKRowsTwins runs the multi-row K-quant kernels (the GEMV path, with
// their prefetch walking whole runs of rows) over runs of odd lengths and
// offsets and checks every output against the pure-Go twin.
func TestKRowsTwins(t *testing.T) {
	if !asmOK {
		t.Skip("no AVX-512 VNNI kernels on this CPU / RLX_CPU tier")
	}
	p := parallel.New(1)
	defer p.Close()
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q5_K, tensor.Q6_K} {
		for _, k := range []int{1, 3, 4, 12, 32} {
			K := 256 * k
			for _, N := range []int{1, 3, 7, 21} {
				t.Run(fmt.Sprintf("%v/N%d_K%d", dt, N, K), func(t *testing.T) {
					q, w := randWeights(t, dt, N, K, uint64(7*K+N))
					m, err := NewMatrix(dt, N, K, q)
					if err != nil {
						t.Fatal(err)
					}
					rows := kRowsVNNI(m.kind)
					goDot := map[kernelKind]func(w, x []byte, nsb int) float32{
						kindQ4K: dotQ4KGo, kindQ5K: dotQ5KGo, kindQ6K: dotQ6KGo,
					}[m.kind]
					M := 1 + (N+k)%4
					x := randActs(M, K, uint64(K+N+1))
					a := getAct(m.kind, M, K)
					a.quantize(p, x)
					nsb := K / qkK
					for r := 0; r < M; r++ {
						xr := a.xk[r*nsb*actKBytes : (r+1)*nsb*actKBytes]
						for lo := 0; lo < N; lo += 2 { // runs [lo, N): odd and even starts and lengths
							y := make([]float32, N)
							rows(&m.data[lo*m.stride], m.stride, N-lo, &xr[0], nsb, &y[lo])
							for n := lo; n < N; n++ {
								want := goDot(m.data[n*m.stride:], xr, nsb)
								mag := termMagnitude(w[n*K:(n+1)*K], x[r*K:(r+1)*K])
								if d := math.Abs(float64(y[n] - want)); d > 1e-5*mag || math.IsNaN(float64(y[n])) {
									t.Fatalf("act row %d, weight row %d of run [%d,%d): asm %g, Go %g (|terms| %g)", r, n, lo, N, y[n], want, mag)
								}
							}
						}
					}
				})
			}
		}
	}
}
