package quant

import (
	"fmt"
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// TestMatMulGroup checks a group against the float64 reference and, bit
// for bit, against separate MatMul calls: mixed types (two matrices of one
// kind share the quantized input), awkward row counts, M of 1 to 5.
func TestMatMulGroup(t *testing.T) {
	groups := [][]tensor.DType{
		{tensor.Q4_K, tensor.Q4_K, tensor.Q6_K}, // a Q4_K_M layer's q, k, v
		{tensor.Q4_K, tensor.Q4_K},              // gate, up
		{tensor.Q8_0, tensor.Q4_0, tensor.Q8_0, tensor.Q5_K},
		{tensor.Q6_K, tensor.Q5_0}, // a type without integer kernels: separate calls
	}
	rowsOf := []int{67, 1, 130, 257}
	for _, size := range []int{1, 2, 3} {
		p := parallel.New(size)
		for gi, dts := range groups {
			for _, M := range []int{1, 4, 5} {
				const K = 512
				name := fmt.Sprintf("pool%d/group%d/M%d", size, gi, M)
				x := randActs(M, K, uint64(7+M))
				var ms []*Matrix
				var ws [][]float32
				var ys [][]float32
				for i, dt := range dts {
					N := rowsOf[i%len(rowsOf)] + gi
					q, w := randWeights(t, dt, N, K, uint64(10*gi+i+1))
					m, err := NewMatrix(dt, N, K, q)
					if err != nil {
						t.Fatal(err)
					}
					ms, ws = append(ms, m), append(ws, w)
					ys = append(ys, make([]float32, M*N))
				}
				if err := MatMulGroup(p, ms, ys, x); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for i, m := range ms {
					what := fmt.Sprintf("%s/matrix%d(%v)", name, i, m.dtype)
					want := make([]float32, len(ys[i]))
					if err := m.MatMul(p, want, x); err != nil {
						t.Fatal(err)
					}
					for j := range want {
						if math.Float32bits(want[j]) != math.Float32bits(ys[i][j]) {
							t.Fatalf("%s: y[%d] = %g, MatMul gives %g", what, j, ys[i][j], want[j])
						}
					}
					if m.kind == kindGeneric {
						checkF32(t, what, ys[i], ws[i], x, M, m.rows, K)
					} else {
						checkAgainstF64(t, what, ys[i], ws[i], x, M, m.rows, K, actBlock(m.dtype))
					}
				}
			}
		}
		p.Close()
	}
}

func TestMatMulGroupErrors(t *testing.T) {
	q, _ := randWeights(t, tensor.Q4_K, 4, 256, 1)
	a, _ := NewMatrix(tensor.Q4_K, 4, 256, q)
	q2, _ := randWeights(t, tensor.Q4_K, 2, 512, 2)
	b, _ := NewMatrix(tensor.Q4_K, 2, 512, q2)
	x := make([]float32, 256)
	for _, c := range []struct {
		name string
		ms   []*Matrix
		ys   [][]float32
		x    []float32
	}{
		{"outputs", []*Matrix{a, a}, [][]float32{make([]float32, 4)}, x},
		{"columns", []*Matrix{a, b}, [][]float32{make([]float32, 4), make([]float32, 1)}, x},
		{"output size", []*Matrix{a, a}, [][]float32{make([]float32, 4), make([]float32, 3)}, x},
		{"input size", []*Matrix{a, a}, [][]float32{make([]float32, 4), make([]float32, 4)}, x[:100]},
		{"too many", make([]*Matrix, MaxGroup+1), make([][]float32, MaxGroup+1), x},
	} {
		if err := MatMulGroup(nil, c.ms, c.ys, c.x); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
