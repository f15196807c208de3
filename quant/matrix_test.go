package quant

import (
	"fmt"
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

var kernelTypes = []tensor.DType{tensor.Q8_0, tensor.Q4_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K}

// randWeights returns rows×cols values quantized to dt, and their
// dequantization (the exact weights the kernels multiply by).
func randWeights(t testing.TB, dt tensor.DType, rows, cols int, seed uint64) ([]byte, []float32) {
	rng := newRand(seed)
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * 0.05
		if rng.IntN(97) == 0 {
			x[i] *= 20 // outliers, as real weights have
		}
	}
	q := make([]byte, mustRowBytes(t, dt, rows*cols))
	if dt == tensor.IQ4_NL { // no quantizer: random indices, sane scales
		for i := range q {
			q[i] = byte(rng.Uint32())
		}
		for b := 0; b < len(q); b += dt.BlockBytes() {
			putF16(q[b:], float32(rng.Float64())*0.01)
		}
	} else if err := Quantize(dt, q, x); err != nil {
		t.Fatal(err)
	}
	w := make([]float32, rows*cols)
	if err := Dequantize(dt, w, q); err != nil {
		t.Fatal(err)
	}
	return q, w
}

func randActs(M, K int, seed uint64) []float32 {
	rng := newRand(seed)
	x := make([]float32, M*K)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if len(x) > 40 {
		x[3] = 30 // an outlier activation
		x[len(x)-7] = 0
	}
	return x
}

// checkAgainstF64 compares y with float64 products of the dequantized
// weights. Activations are rounded to 8 bits per block (relative step
// 1/127 of the block's largest value, error ≤ half a step), so each output
// may be off by about Σ|w|·amax/254 over its blocks; we allow that bound
// (computed per output) plus float32 accumulation slack.
func checkAgainstF64(t *testing.T, what string, y, w, x []float32, M, N, K, blk int) {
	t.Helper()
	for r := 0; r < M; r++ {
		xr := x[r*K : (r+1)*K]
		for n := 0; n < N; n++ {
			wr := w[n*K : (n+1)*K]
			var ref, bound, mag float64
			for b := 0; b < K; b += blk {
				var amax float64
				for i := b; i < b+blk; i++ {
					amax = math.Max(amax, math.Abs(float64(xr[i])))
				}
				for i := b; i < b+blk; i++ {
					ref += float64(wr[i]) * float64(xr[i])
					bound += math.Abs(float64(wr[i])) * amax / 254
					mag += math.Abs(float64(wr[i]) * float64(xr[i]))
				}
			}
			tol := 1.01*bound + 1e-5*mag + 1e-30
			if got := float64(y[r*N+n]); math.Abs(got-ref) > tol || math.IsNaN(got) {
				t.Fatalf("%s: y[%d,%d] = %g, float64 reference %g (tolerance %g)", what, r, n, got, ref, tol)
			}
		}
	}
}

func actBlock(dt tensor.DType) int {
	if dt.BlockSize() == qkK {
		return qkK
	}
	return 32
}

func TestMatMulAgainstFloat64(t *testing.T) {
	p := parallel.New(3)
	defer p.Close()
	shapes := []struct{ M, N, K int }{
		{1, 1, 256}, {1, 7, 512}, {3, 5, 256}, {1, 67, 768}, {5, 13, 1280}, {2, 129, 2304},
	}
	for _, dt := range append(kernelTypes, tensor.Q4_1, tensor.Q5_0, tensor.Q3_K, tensor.IQ4_NL) {
		for i, s := range shapes {
			name := fmt.Sprintf("%v/%dx%dx%d", dt, s.M, s.N, s.K)
			t.Run(name, func(t *testing.T) {
				q, w := randWeights(t, dt, s.N, s.K, uint64(i+1))
				x := randActs(s.M, s.K, uint64(100+i))
				m, err := NewMatrix(dt, s.N, s.K, q)
				if err != nil {
					t.Fatal(err)
				}
				y := make([]float32, s.M*s.N)
				if err := m.MatMul(p, y, x); err != nil {
					t.Fatal(err)
				}
				if m.kind == kindGeneric { // float32 dot: no activation rounding
					checkF32(t, name, y, w, x, s.M, s.N, s.K)
					return
				}
				checkAgainstF64(t, name, y, w, x, s.M, s.N, s.K, actBlock(dt))
			})
		}
	}
}

func checkF32(t *testing.T, what string, y, w, x []float32, M, N, K int) {
	t.Helper()
	for r := 0; r < M; r++ {
		for n := 0; n < N; n++ {
			var ref, mag float64
			for i := 0; i < K; i++ {
				ref += float64(w[n*K+i]) * float64(x[r*K+i])
				mag += math.Abs(float64(w[n*K+i]) * float64(x[r*K+i]))
			}
			if got := float64(y[r*N+n]); math.Abs(got-ref) > 1e-5*mag+1e-30 {
				t.Fatalf("%s: y[%d,%d] = %g, want %g", what, r, n, got, ref)
			}
		}
	}
}

func TestMatMulErrors(t *testing.T) {
	q, _ := randWeights(t, tensor.Q4_K, 2, 256, 1)
	if _, err := NewMatrix(tensor.Q4_K, 2, 256, q[:len(q)-1]); err == nil {
		t.Error("short data accepted")
	}
	if _, err := NewMatrix(tensor.Q4_K, 2, 100, q); err == nil {
		t.Error("cols not a multiple of 256 accepted")
	}
	if _, err := NewMatrix(tensor.Q4_K, 0, 256, nil); err == nil {
		t.Error("zero rows accepted")
	}
	if _, err := NewMatrix(tensor.I8, 2, 256, make([]byte, 512)); err == nil {
		t.Error("I8 accepted")
	}
	m, err := NewMatrix(tensor.Q4_K, 2, 256, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MatMul(nil, make([]float32, 2), make([]float32, 255)); err == nil {
		t.Error("ragged input accepted")
	}
	if err := m.MatMul(nil, make([]float32, 3), make([]float32, 256)); err == nil {
		t.Error("wrong output size accepted")
	}
}
