package quant_test

import (
	"fmt"

	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// Quantize a row of 256 values to Q4_K (one super-block of 144 bytes) and
// decode it again.
func ExampleQuantize() {
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	q := make([]byte, 144)
	if err := quant.Quantize(tensor.Q4_K, q, x); err != nil {
		fmt.Println(err)
		return
	}
	y := make([]float32, 256)
	if err := quant.Dequantize(tensor.Q4_K, y, q); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("x[3]=%v ≈ %.2f\n", x[3], y[3])
	// Output: x[3]=-5 ≈ -5.00
}

// Multiply activations by a Q8_0 weight matrix without dequantizing it.
func ExampleNewMatrix() {
	const N, K = 3, 64 // 3 output features, rows of 64
	w := make([]float32, N*K)
	for i := range w {
		w[i] = float32(i%K) / K // row n: 0, 1/64, 2/64, …
	}
	data := make([]byte, N*K/32*34) // GGUF bytes of a [3, 64] Q8_0 tensor
	if err := quant.Quantize(tensor.Q8_0, data, w); err != nil {
		fmt.Println(err)
		return
	}
	m, err := quant.NewMatrix(tensor.Q8_0, N, K, data)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 2*K) // two activation rows (M = 2)
	for i := range x {
		x[i] = 1
	}
	y := make([]float32, 2*N)
	if err := m.MatMul(nil, y, x); err != nil { // nil: the default worker pool
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2f\n", y) // each ≈ Σ_k k/64 = 31.5, up to Q8_0 rounding
	// Output: [31.56 31.56 31.56 31.56 31.56 31.56]
}
