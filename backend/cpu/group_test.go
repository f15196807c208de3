package cpu_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// TestSiblingMatMuls runs a graph whose quantized matmuls share an input
// (grouped into one parallel call by Execute) next to ones that must not
// join the group (an add epilogue, another input), and checks every output
// bit for bit against quant.Matrix.MatMul on the same weights, with freed
// buffers poisoned, for a decode-sized and a prefill-sized input.
func TestSiblingMatMuls(t *testing.T) {
	const K = 512
	ws := []siblingWeight{{"q", tensor.Q4_K, 67}, {"k", tensor.Q4_K, 130}, {"v", tensor.Q6_K, 33}, {"o", tensor.Q8_0, K}, {"g", tensor.Q4_K, 40}}
	r := rand.New(rand.NewPCG(3, 4))
	params := ir.MapParams{}
	mats := map[string]*quant.Matrix{}
	for _, w := range ws {
		f := make([]float32, w.rows*K)
		for i := range f {
			f[i] = float32(r.NormFloat64()) * 0.05
		}
		rb, err := w.dt.RowBytes(K)
		if err != nil {
			t.Fatal(err)
		}
		q := make([]byte, int64(w.rows)*rb)
		if err := quant.Quantize(w.dt, q, f); err != nil {
			t.Fatal(err)
		}
		params[w.name] = &tensor.Tensor{DType: w.dt, Shape: []int{w.rows, K}, Data: q}
		if mats[w.name], err = quant.NewMatrix(w.dt, w.rows, K, q); err != nil {
			t.Fatal(err)
		}
	}
	checkSiblingMatMuls(t, r, K, ws, params, []int{1, 3, 40}, func(pool *parallel.Pool, w siblingWeight, want, x []float32, M int) error {
		return mats[w.name].MatMul(pool, want, x)
	})
}

// TestSiblingHalfMatMuls is TestSiblingMatMuls for F16 weights (packed into
// 16-bit strips and grouped through gemm.MatMulGroup), checked bit for bit
// against gemm's MatMul on the same strips.
func TestSiblingHalfMatMuls(t *testing.T) {
	const K = 200
	ws := []siblingWeight{{"q", tensor.F16, 67}, {"k", tensor.F16, 130}, {"v", tensor.F16, 33}, {"o", tensor.F16, K}, {"g", tensor.F16, 40}}
	r := rand.New(rand.NewPCG(5, 6))
	params := ir.MapParams{}
	u16 := map[string][]uint16{}
	for _, w := range ws {
		h := make([]uint16, w.rows*K)
		data := make([]byte, 2*len(h))
		for i := range h {
			h[i] = tensor.F32ToF16(float32(r.NormFloat64()) * 0.05)
			data[2*i], data[2*i+1] = byte(h[i]), byte(h[i]>>8)
		}
		params[w.name] = &tensor.Tensor{DType: tensor.F16, Shape: []int{w.rows, K}, Data: data}
		u16[w.name] = h
	}
	checkSiblingMatMuls(t, r, K, ws, params, []int{1, 4, 40}, func(pool *parallel.Pool, w siblingWeight, want, x []float32, M int) error {
		pb, err := gemm.PackHalf(pool, gemm.B{Layout: gemm.NK, DType: tensor.F16, U16: u16[w.name]}, w.rows, K)
		if err != nil {
			return err
		}
		return pb.MatMul(pool, gemm.Matrix{Data: want}, gemm.Matrix{Data: x}, M, false)
	})
}

// siblingWeight is one [rows, K] weight of the sibling-matmul graph.
type siblingWeight struct {
	name string
	dt   tensor.DType
	rows int
}

// checkSiblingMatMuls builds the graph both sibling tests share: q, k and v
// read input x and may be grouped; o reads x too but has an add epilogue
// (o = x·oᵀ + x, so o must be [K, K]) and g reads another input x2, so
// neither may join the group. It compiles the graph for the CPU backend with
// freed buffers poisoned and, for each M of ms, runs it on random [M, K]
// inputs and checks every output bit for bit against reference, which
// writes x·wᵀ for weight w into want.
func checkSiblingMatMuls(t *testing.T, r *rand.Rand, K int, ws []siblingWeight, params ir.MapParams, ms []int,
	reference func(pool *parallel.Pool, w siblingWeight, want, x []float32, M int) error) {
	t.Helper()
	bl := ir.NewBuilder()
	x := bl.Input("x", tensor.F32, ir.Sym("m"), ir.N(K))
	x2 := bl.Input("x2", tensor.F32, ir.Sym("m"), ir.N(K))
	lin := func(in ir.Value, name string) ir.Value {
		for _, w := range ws {
			if w.name == name {
				return bl.Linear(in, bl.Param(name, w.dt, ir.N(w.rows), ir.N(K)), ir.Value{})
			}
		}
		t.Fatalf("no weight %q", name)
		return ir.Value{}
	}
	bl.Output("q", lin(x, "q"))
	bl.Output("k", lin(x, "k"))
	bl.Output("v", lin(x, "v"))
	bl.Output("o", bl.Add(lin(x, "o"), x)) // an add epilogue: not grouped
	bl.Output("g", lin(x2, "g"))           // another input: not grouped
	g, err := bl.Build()
	if err != nil {
		t.Fatal(err)
	}
	pool := parallel.New(2)
	defer pool.Close()
	p, err := compile.Compile(g, cpu.New(cpu.Options{Pool: pool, Poison: true}), params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, M := range ms {
		t.Run(fmt.Sprintf("M%d", M), func(t *testing.T) {
			in := map[string][]float32{"x": make([]float32, M*K), "x2": make([]float32, M*K)}
			for _, v := range in {
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
			}
			out, err := p.Run(context.Background(), map[string]*tensor.Tensor{
				"x": tensor.FromF32(in["x"], M, K), "x2": tensor.FromF32(in["x2"], M, K)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				src := in["x"]
				if w.name == "g" {
					src = in["x2"]
				}
				want := make([]float32, M*w.rows)
				if err := reference(pool, w, want, src, M); err != nil {
					t.Fatal(err)
				}
				if w.name == "o" {
					for i := range want {
						want[i] += src[i]
					}
				}
				got := out[w.name].F32()
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s[%d] = %g, want %g", w.name, i, got[i], want[i])
					}
				}
			}
		})
	}
}
