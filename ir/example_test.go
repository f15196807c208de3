package ir_test

import (
	"fmt"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// A gated MLP block, written as the equation reads:
// y = W_down · (silu(W_gate · rmsnorm(x)) ⊙ W_up · rmsnorm(x)).
func Example() {
	seq := ir.Sym("seq")
	b := ir.NewBuilder()
	x := b.Input("x", tensor.F32, seq, ir.N(8))
	h := b.RMSNorm(x, b.Param("norm", tensor.F32, ir.N(8)), 1e-6)
	gate := b.Linear(h, b.Param("gate", tensor.F16, ir.N(16), ir.N(8)), ir.Value{})
	up := b.Linear(h, b.Param("up", tensor.F16, ir.N(16), ir.N(8)), ir.Value{})
	y := b.Linear(b.Mul(b.Silu(gate), up), b.Param("down", tensor.F16, ir.N(8), ir.N(16)), ir.Value{})
	b.Output("y", b.Add(x, y))
	g, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(g.Dump())
	// Output:
	// %0 = Input "x" F32[seq, 8]
	// %1 = Param "norm" F32[8]
	// %2 = RMSNorm F32[seq, 8] (%0, %1) {Eps:1e-06 PlusOne:false HasWeight:true HasBias:false}
	// %3 = Param "gate" F16[16, 8]
	// %4 = MatMul F32[seq, 16] (%2, %3) {transB}
	// %5 = Param "up" F16[16, 8]
	// %6 = MatMul F32[seq, 16] (%2, %5) {transB}
	// %7 = Silu F32[seq, 16] (%4)
	// %8 = Mul F32[seq, 16] (%7, %6)
	// %9 = Param "down" F16[8, 16]
	// %10 = MatMul F32[seq, 8] (%8, %9) {transB}
	// %11 = Add F32[seq, 8] (%0, %10)
	// output "y" = %11
}
