package compile_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// BenchmarkLaunchOverhead measures the executor's cost per kernel launch:
// a chain of 64 unfused adds on 4-element tensors, so nearly all the time
// is dispatch. Reported as ns/launch.
func BenchmarkLaunchOverhead(b *testing.B) {
	const chain = 64
	bl := ir.NewBuilder()
	x := bl.Input("x", tensor.F32, n(4))
	one := bl.ConstF32([]float32{1, 2, 3, 4}, 4)
	for range chain {
		x = bl.Add(x, one)
	}
	bl.Output("y", x)
	g, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), nil, compile.Options{NoFusion: true})
	if err != nil {
		b.Fatal(err)
	}
	s := p.NewSession()
	in := map[string]*tensor.Tensor{"x": tensor.FromF32([]float32{1, 2, 3, 4}, 4)}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Run(ctx, in, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/chain, "ns/launch")
}

// BenchmarkToyDecode is one decode step of the 2-layer toy transformer
// (dim 32), dominated by per-run and per-launch overheads.
func BenchmarkToyDecode(b *testing.B) {
	c := toyConfig{vocab: 61, dim: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 48, layers: 2, maxSeq: 1 << 20, wdt: tensor.F32, cacheDT: tensor.F16}
	g, err := buildToy(c)
	if err != nil {
		b.Fatal(err)
	}
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), toyWeights(rand.New(rand.NewPCG(1, 2)), g), compile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := p.NewSession()
	ctx := context.Background()
	in := map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{7}, 1, 1)}
	past := 0
	steps := len(p.Graph().Nodes)
	for b.Loop() {
		if _, err := s.Run(ctx, in, map[string]int{"past": past % 512}); err != nil {
			b.Fatal(err)
		}
		past++
	}
	b.ReportMetric(float64(steps), "nodes")
}
