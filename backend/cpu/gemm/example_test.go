package gemm_test

import (
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// A linear layer: y = x·Wᵀ with W stored [out, in] as checkpoints store it.
func ExampleMatMul() {
	x := []float32{ // 2 tokens × 3 features
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{ // 2 outputs × 3 inputs
		1, 0, 0,
		1, 1, 1,
	}
	y := make([]float32, 2*2)
	err := gemm.MatMul(nil, gemm.Matrix{Data: y}, gemm.Matrix{Data: x},
		gemm.B{Layout: gemm.NK, F32: w}, 2, 2, 3, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(y)
	// Output: [1 6 4 15]
}

// A bfloat16 weight packed once at load and applied to every batch.
func ExamplePack() {
	w := make([]uint16, 4*8) // 4 outputs × 8 inputs
	for o := range 4 {
		for i := range 8 {
			w[o*8+i] = tensor.F32ToBF16(float32(o)) // row o is all o
		}
	}
	pool := parallel.Default()
	pw, err := gemm.Pack(pool, gemm.B{Layout: gemm.NK, DType: tensor.BF16, U16: w}, 4, 8)
	if err != nil {
		panic(err)
	}
	x := make([]float32, 5*8) // 5 tokens of ones
	for i := range x {
		x[i] = 1
	}
	y := make([]float32, 5*4)
	if err := pw.MatMul(pool, gemm.Matrix{Data: y}, gemm.Matrix{Data: x}, 5, false); err != nil {
		panic(err)
	}
	fmt.Println(y[:4], y[16:])
	// Output: [0 8 16 24] [0 8 16 24]
}
