package compile_test

import (
	"context"
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Build a graph once, compile it for the CPU, and run it at two different
// sequence lengths without recompiling.
func Example() {
	seq := ir.Sym("seq")
	b := ir.NewBuilder()
	x := b.Input("x", tensor.F32, seq, ir.N(2))
	w := b.Param("w", tensor.F32, ir.N(2), ir.N(2))
	b.Output("p", b.Softmax(b.Linear(x, w, ir.Value{}), -1))
	g, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	weights := ir.MapParams{"w": tensor.FromF32([]float32{1, 0, 0, 2}, 2, 2)}
	prog, err := compile.Compile(g, cpu.New(cpu.Options{}), weights, compile.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rows := range [][]float32{{0, 0}, {1, 1, 0, 3}} {
		in := tensor.FromF32(rows, len(rows)/2, 2)
		out, err := prog.Run(context.Background(), map[string]*tensor.Tensor{"x": in}, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v %.4f\n", out["p"].Shape, out["p"].F32())
	}
	// Output:
	// [1 2] [0.5000 0.5000]
	// [2 2] [0.2689 0.7311 0.0025 0.9975]
}
