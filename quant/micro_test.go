package quant

import (
	"github.com/rlx-go/rlx/tensor"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// BenchmarkDotRow measures one kernel on cache-resident data (one weight
// row of K = 4096 against one activation row): compute cost per byte, the
// ceiling the kernels reach when memory is not the limit.
func BenchmarkDotRow(b *testing.B) {
	const K = 4096
	for _, dt := range kernelTypes {
		b.Run(dt.String(), func(b *testing.B) {
			q, _ := randWeights(b, dt, 1, K, 1)
			m, err := NewMatrix(dt, 1, K, q)
			if err != nil {
				b.Fatal(err)
			}
			p := parallel.New(1)
			defer p.Close()
			a := getAct(m.kind, 1, K)
			a.quantize(p, randActs(1, K, 2))
			b.SetBytes(int64(len(q)))
			var sink float32
			for i := 0; i < b.N; i++ {
				sink += rowDot(m, a)
			}
			_ = sink
		})
	}
}

// rowDot is the dispatching kernel for weight row 0 and activation row 0.
func rowDot(m *Matrix, a *act) float32 {
	var y [1]float32
	dotFuncs[m.kind](m, a, 0, 0, 1, y[:])
	return y[0]
}

// BenchmarkActQuantize measures quantizing one activation row (decode).
func BenchmarkActQuantize(b *testing.B) {
	for _, kind := range []kernelKind{kindQ8_0, kindQ4K} {
		b.Run(map[kernelKind]string{kindQ8_0: "32-blocks", kindQ4K: "K"}[kind], func(b *testing.B) {
			const K = 4096
			p := parallel.New(1)
			defer p.Close()
			x := randActs(1, K, 3)
			a := getAct(kind, 1, K)
			b.SetBytes(4 * K)
			for i := 0; i < b.N; i++ {
				a.quantize(p, x)
			}
		})
	}
}

// BenchmarkGEMVSmall: a cache-resident decode GEMV (N=256, K=1024), where
// fixed costs (activation quantization, pool dispatch) show.
func BenchmarkGEMVSmall(b *testing.B) {
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) { benchMatMul(b, dt, 1, 256, 1024, 0) })
	}
}
