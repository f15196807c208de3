package kernels_test

import (
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/kernels"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/rope"
)

// The pool of the CPU backend runs attention in parallel.
var _ kernels.Runner = (*parallel.Pool)(nil)

func ExampleRoPE_Apply() {
	inv, _, _ := rope.InvFreq(rope.Scaling{Theta: 10000, Dim: 4}, 0)
	r := &kernels.RoPE{InvFreq: inv, Layout: kernels.RotateHalf}
	// One token, one head of 4 values, at position 0: unchanged.
	x := []float32{1, 2, 3, 4}
	r.Apply(x, x, 1, 1, 4, 4, 4, nil, 0)
	fmt.Println(x)
	// Output: [1 2 3 4]
}

func ExampleAttention_Run() {
	// One query attending to two keys with equal scores: the mean of V.
	a := &kernels.Attention{
		B: 1, Hq: 1, Hkv: 1, Tq: 1, Tk: 2, D: 2,
		Q: []float32{0, 0}, QRow: 2, QHead: 2, QBatch: 2,
		K:   kernels.KV{F32: []float32{1, 0, 0, 1}, RowStride: 2, HeadStride: 4, BatchStride: 4},
		V:   kernels.KV{F32: []float32{1, 2, 3, 4}, RowStride: 2, HeadStride: 4, BatchStride: 4},
		Out: make([]float32, 2), OutRow: 2, OutHead: 2, OutBatch: 2,
		Causal: true, Past: 1,
	}
	if err := a.Run(parallel.Default()); err != nil {
		panic(err)
	}
	fmt.Println(a.Out)
	// Output: [2 3]
}

func ExampleConv_Run() {
	// A 1-d convolution with a [1, 1, 3] averaging kernel and "same" padding.
	c := kernels.Conv{B: 1, Cin: 1, Cout: 1, In: []int{5}, Kernel: []int{3}, PadBefore: []int{1}, PadAfter: []int{1}}
	in := []float32{3, 3, 6, 3, 3}
	w := []float32{1.0 / 3, 1.0 / 3, 1.0 / 3}
	out := make([]float32, 5)
	if err := c.Run(nil, out, in, w, nil); err != nil {
		panic(err)
	}
	fmt.Printf("%.0f\n", out)
	// Output: [2 4 4 4 2]
}

func ExampleSoftmax() {
	// Two rows of three logits; the second row is causal with no past, so
	// query 1 sees keys 0 and 1 only.
	x := []float32{0, 0, 0, 1, 1, 5}
	p := make([]float32, 6)
	kernels.Softmax(p, x, 3, 0, 1, nil)
	kernels.Softmax(p, x, 3, 1, 2, &kernels.SoftmaxOpts{Causal: true, QueryRows: 2})
	fmt.Printf("%.3f\n", p)
	// Output: [0.333 0.333 0.333 0.500 0.500 0.000]
}
