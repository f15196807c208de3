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
