package cuda_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// TestGEMVVariantsAgree checks that the GEMV kernels give the same bits
// whichever is launched: the general one (several rows) or the one-row
// kernel, and for quantized weights with the activations quantized by every
// block or once by gemvq_prepare. They share the quantization and the
// per-row arithmetic, so any difference is a bug in one of them
// (TestQuantMatMul and TestHalfMatMul bound the default against a float64
// reference).
func TestGEMVVariantsAgree(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(7, 8))
	variants := []struct{ oneRow, prepare bool }{{false, false}, {true, false}, {false, true}, {true, true}}
	for _, dt := range []tensor.DType{tensor.Q4_0, tensor.Q8_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K, tensor.F16, tensor.BF16} {
		for _, sh := range [][2]int{{259, 768}, {33, 256 * 9}, {4301, 256}} {
			n, k := sh[0], sh[1]
			w, _ := randomWeight(t, rng, dt, n, k)
			for _, m := range []int{1, 2, 4} {
				xs := make([]float32, m*k)
				for i := range xs {
					xs[i] = float32(rng.NormFloat64())
				}
				var want []float32
				for _, v := range variants {
					restore := cuda.SetGEMVVariant(v.oneRow, v.prepare)
					got := runLinear(t, be, w, xs, m)
					restore()
					name := fmt.Sprintf("%v %dx%d m=%d oneRow=%v prepare=%v", dt, n, k, m, v.oneRow, v.prepare)
					if want == nil {
						want = got
						continue
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s: y[%d] = %v, the general kernel gives %v", name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// runLinear compiles y = x·Wᵀ for be and runs it on m rows xs.
func runLinear(t *testing.T, be *cuda.Backend, w *tensor.Tensor, xs []float32, m int) []float32 {
	t.Helper()
	n, k := w.Shape[0], w.Shape[1]
	b := ir.NewBuilder()
	x := b.Input("x", tensor.F32, ir.Sym("m"), ir.N(k))
	b.Output("y", b.Linear(x, b.Param("w", w.DType, ir.N(n), ir.N(k)), ir.Value{}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compile.Compile(g, be, ir.MapParams{"w": w}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	sess := prog.NewSession()
	defer sess.Close()
	out, err := sess.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.FromF32(xs, m, k)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out["y"].F32()
}
