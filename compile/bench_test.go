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
	c := toyConfig{vocab: 61, dim: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 48, layers: 2, maxSeq: 512, wdt: tensor.F32, cacheDT: tensor.F32}
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
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(ctx, in, map[string]int{"past": past % 64}); err != nil {
			b.Fatal(err)
		}
		past++
	}
	b.ReportMetric(float64(steps), "nodes")
}

// BenchmarkVADStep is one 512-sample window through a graph with Silero
// VAD v5's shapes (STFT conv 258×256 stride 128, encoder 129→128→64→64→128,
// LSTM 128): the real-time factor is 32 ms divided by the time per step.
func BenchmarkVADStep(b *testing.B) {
	const n0, pad, nfft, hop, freqs, hid = 576, 64, 256, 128, 129, 128
	chans := []int{freqs, 128, 64, 64, 128}
	strides := []int{1, 2, 2, 1}
	bl := ir.NewBuilder()
	x := bl.Input("x", tensor.F32, n(1), n(n0))
	xp := bl.Reshape(bl.Pad(x, []int{0, 0}, []int{0, pad}, ir.PadReflect, 0), n(1), n(1), n(n0+pad))
	spec := bl.Conv1D(xp, bl.Param("basis", tensor.F32, n(2*freqs), n(1), n(nfft)), ir.Value{}, ir.ConvOptions{Stride: []int{hop}})
	re, im := bl.Slice(spec, 1, n(0), n(freqs)), bl.Slice(spec, 1, n(freqs), n(2*freqs))
	h := bl.Sqrt(bl.Add(bl.Square(re), bl.Square(im)))
	for i := range 4 {
		w := bl.Param("enc"+string(rune('0'+i)), tensor.F32, n(chans[i+1]), n(chans[i]), n(3))
		bias := bl.Param("encb"+string(rune('0'+i)), tensor.F32, n(chans[i+1]))
		h = bl.Relu(bl.Conv1D(h, w, bias, ir.ConvOptions{Stride: []int{strides[i]}, Pad: []int{1}}))
	}
	feat := bl.Reshape(h, n(1), n(hid))
	hs, cs := bl.State("h", tensor.F32, n(1), n(hid)), bl.State("c", tensor.F32, n(1), n(hid))
	h2, c2 := bl.LSTMCell(feat, hs, cs, bl.Param("wih", tensor.F32, n(4*hid), n(hid)), bl.Param("whh", tensor.F32, n(4*hid), n(hid)),
		bl.Param("bih", tensor.F32, n(4*hid)), bl.Param("bhh", tensor.F32, n(4*hid)))
	bl.Assign(hs, h2)
	bl.Assign(cs, c2)
	bl.Output("p", bl.Sigmoid(bl.Linear(bl.Relu(h2), bl.Param("dw", tensor.F32, n(1), n(hid)), bl.Param("db", tensor.F32, n(1)))))
	g, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	params := ir.MapParams{}
	for _, p := range g.Params() {
		shape, _ := p.Shape.Eval(nil)
		params[p.Name] = randF32(r, -0.1, 0.1, shape...)
	}
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), params, compile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := p.NewSession()
	in := map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 1, n0)}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Run(ctx, in, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(0.032/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
	b.ReportMetric(float64(len(p.Graph().Nodes)), "nodes")
}

// BenchmarkDecodeQwen3Shapes is one decode step (past 256) through 4
// decoder layers with Qwen3-0.6B's shapes (dim 1024, 16 query / 8 kv heads
// of 128, SwiGLU 3072) and F16 weights as stored (31 MB a layer), reporting
// the weight bytes streamed per second. Compare with the memory bandwidth
// anchors in ../shared/anchors/cpu.md (~75–84 GB/s uncontended).
func BenchmarkDecodeQwen3Shapes(b *testing.B) {
	c := toyConfig{vocab: 256, dim: 1024, heads: 16, kvHeads: 8, headDim: 128, ffn: 3072, layers: 4, maxSeq: 1024, wdt: tensor.F16, cacheDT: tensor.F16}
	g, err := buildToy(c)
	if err != nil {
		b.Fatal(err)
	}
	params := toyWeights(rand.New(rand.NewPCG(1, 2)), g)
	var wbytes int64
	for _, t := range params {
		wbytes += int64(len(t.Data))
	}
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), params, compile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := p.NewSession()
	ctx := context.Background()
	prompt := make([]int32, 256)
	if _, err := s.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(prompt, 1, 256)}, map[string]int{"past": 0}); err != nil {
		b.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{7}, 1, 1)}
	dims := map[string]int{"past": 256}
	for b.Loop() {
		if _, err := s.Run(ctx, in, dims); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(wbytes)/sec/1e9, "GB/s")
	b.ReportMetric(float64(len(p.Graph().Nodes)), "nodes")
}

// BenchmarkReplan runs a 28-layer toy decoder (tiny dims) with a new
// sequence length every time in a reset session, so every run evaluates
// its shapes and builds its launch list afresh: the cost of a binding the
// session has not seen. The memory plans come from the program's shared
// cache after the first 63 runs (planning itself cost 2.9 ms a binding
// before plans were shared).
func BenchmarkReplan(b *testing.B) {
	c := toyConfig{vocab: 64, dim: 16, heads: 2, kvHeads: 1, headDim: 8, ffn: 16, layers: 28, maxSeq: 128, wdt: tensor.F32, cacheDT: tensor.F32}
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
	ids := make([]int32, 64)
	i := 0
	for b.Loop() {
		T := 1 + i%63
		i++
		if _, err := s.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(ids[:T], 1, T)}, map[string]int{"past": 0}); err != nil {
			b.Fatal(err)
		}
		s.Reset() // also drops cached plans, so the next run plans again
	}
	b.ReportMetric(float64(len(p.Graph().Nodes)), "nodes")
}
