package quant

import (
	"math"
	"runtime"
	"testing"

	"github.com/rlx-go/rlx/internal/offheap"
	"github.com/rlx-go/rlx/tensor"
)

// TestRepackedMatricesAreFreed packs many matrices (large ones with their
// own mappings, small ones sharing chunks), multiplies with each, drops
// them, and checks that their off-heap memory goes back to the OS: a model
// that is opened and closed repeatedly must not grow.
func TestRepackedMatricesAreFreed(t *testing.T) {
	if !offheap.OffHeap() {
		t.Skip("packed weights are heap memory in this build")
	}
	rng := newRand(7)
	settle := func() (int64, int64) {
		var b, c int64
		for range 100 {
			runtime.GC()
			runtime.Gosched()
			b, c = offheap.Mapped()
		}
		return b, c
	}
	_, start := settle()
	x := make([]float32, 2*512)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for round := range 2 {
		var ms []*Matrix
		for i, shape := range [][2]int{{8192, 512}, {64, 512}, {8192, 512}, {96, 512}, {8, 512}} {
			for j := range 4 {
				dt := []tensor.DType{tensor.Q8_0, tensor.Q4_K, tensor.Q6_K, tensor.Q4_0}[(i+j)%4]
				rows, cols := shape[0], shape[1]
				w := make([]float32, rows*cols)
				for k := range w {
					w[k] = float32(rng.NormFloat64())
				}
				rb, _ := dt.RowBytes(int64(cols))
				data := make([]byte, int64(rows)*rb)
				if err := Quantize(dt, data, w); err != nil {
					t.Fatal(err)
				}
				m, err := NewMatrix(dt, rows, cols, data)
				if err != nil {
					t.Fatal(err)
				}
				y := make([]float32, 2*rows)
				if err := m.MatMul(nil, y, x); err != nil {
					t.Fatal(err)
				}
				for k, v := range y {
					if math.IsNaN(float64(v)) {
						t.Fatalf("%v %d×%d: y[%d] = NaN", dt, rows, cols, k)
					}
				}
				ms = append(ms, m)
			}
		}
		if _, c := offheap.Mapped(); c < start+8 {
			t.Fatalf("round %d: %d mappings live with %d matrices, %d before", round, c, len(ms), start)
		}
		runtime.KeepAlive(ms)
		ms = nil
		_ = ms
		// What may stay: the chunk small buffers are still carved from.
		if _, c := settle(); c > max(start, 1) {
			t.Fatalf("round %d: %d mappings live after the matrices died, %d before", round, c, start)
		}
	}
}
