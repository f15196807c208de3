package silero

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Graph builds one call of Silero VAD v5 at sampleRate as an rlx IR graph,
// as the ONNX export computes it:
//
//	x [1, context+window]  → right reflection pad by nfft/4
//	→ STFT: conv1d with the stored windowed-DFT basis (stride hop)
//	→ magnitude sqrt(re² + im²)
//	→ 4 × (conv1d k=3 pad 1, stride 1/2/2/1, ReLU)
//	→ one LSTM step (state "h", "c" [1, 128], carried between runs)
//	→ ReLU → 1×1 conv (a linear layer) → sigmoid → output "p" [1, 1].
//
// Parameters carry the names of ParamNames (prefix "16k." or "8k.").
func Graph(sampleRate int) (*ir.Graph, error) {
	geo, err := geometryFor(sampleRate)
	if err != nil {
		return nil, err
	}
	p := geo.prefix()
	b := ir.NewBuilder()
	f32 := tensor.F32
	n := geo.context + geo.window
	x := b.Input("x", f32, ir.N(1), ir.N(n))
	xp := b.Pad(x, []int{0, 0}, []int{0, geo.padding()}, ir.PadReflect, 0)
	xp = b.Reshape(xp, ir.N(1), ir.N(1), ir.N(n+geo.padding()))
	basis := b.Param(p+"stft.basis", f32, ir.N(2*geo.freqs()), ir.N(1), ir.N(geo.nfft))
	spec := b.Conv1D(xp, basis, ir.Value{}, ir.ConvOptions{Stride: []int{geo.hop}})
	f := geo.freqs()
	re := b.Slice(spec, 1, ir.N(0), ir.N(f))
	im := b.Slice(spec, 1, ir.N(f), ir.N(2*f))
	h := b.Sqrt(b.Add(b.Square(re), b.Square(im)))
	in := f
	for i := range encLays {
		w := b.Param(fmt.Sprintf("%sencoder.%d.weight", p, i), f32, ir.N(encOut[i]), ir.N(in), ir.N(3))
		bias := b.Param(fmt.Sprintf("%sencoder.%d.bias", p, i), f32, ir.N(encOut[i]))
		h = b.Relu(b.Conv1D(h, w, bias, ir.ConvOptions{Stride: []int{encStride[i]}, Pad: []int{1}}))
		in = encOut[i]
	}
	feat := b.Reshape(h, ir.N(1), ir.N(hidden)) // one frame left: [1, 128, 1] → [1, 128]
	hs := b.State("h", f32, ir.N(1), ir.N(hidden))
	cs := b.State("c", f32, ir.N(1), ir.N(hidden))
	par := func(name string, dims ...int) ir.Value {
		ds := make([]ir.Dim, len(dims))
		for i, d := range dims {
			ds[i] = ir.N(d)
		}
		return b.Param(p+name, f32, ds...)
	}
	h2, c2 := b.LSTMCell(feat, hs, cs,
		par("lstm.weight_ih", 4*hidden, hidden), par("lstm.weight_hh", 4*hidden, hidden),
		par("lstm.bias_ih", 4*hidden), par("lstm.bias_hh", 4*hidden))
	b.Assign(hs, h2)
	b.Assign(cs, c2)
	dw := b.Reshape(par("decoder.weight", 1, hidden, 1), ir.N(1), ir.N(hidden))
	b.Output("p", b.Sigmoid(b.Linear(b.Relu(h2), dw, par("decoder.bias", 1))))
	return b.Build()
}

func geometryFor(rate int) (geometry, error) {
	switch rate {
	case 16000:
		return geom16k, nil
	case 8000:
		return geom8k, nil
	}
	return geometry{}, fmt.Errorf("silero: sample rate %d Hz is not supported (want 16000 or 8000)", rate)
}

// paramSource serves the model's parameters to the compiler.
type paramSource map[string]Param

func (s paramSource) Lookup(name string) (tensor.DType, []int, []byte, error) {
	p, ok := s[name]
	if !ok {
		return 0, nil, nil, fmt.Errorf("no parameter %q", name)
	}
	data := make([]byte, 4*len(p.Data))
	for i, v := range p.Data {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return tensor.F32, p.Shape, data, nil
}

// Program is the model compiled for one backend at one sample rate.
type Program struct {
	prog *compile.Program
	geo  geometry
}

// Compile builds Graph(sampleRate) and compiles it for be with the model's
// weights.
func (m *Model) Compile(be backend.Backend, sampleRate int) (*Program, error) {
	g, err := Graph(sampleRate)
	if err != nil {
		return nil, err
	}
	if m.params == nil || m.branches[sampleRate] == nil {
		return nil, fmt.Errorf("silero: the model has no %d Hz weights", sampleRate)
	}
	prog, err := compile.Compile(g, be, m.params, compile.Options{})
	if err != nil {
		return nil, fmt.Errorf("silero: compiling the %d Hz graph: %w", sampleRate, err)
	}
	return &Program{prog: prog, geo: m.branches[sampleRate].geo}, nil
}

// Close releases the program's backend resources.
func (p *Program) Close() { p.prog.Close() }

// Stream is a run session of a Program: it holds the LSTM state between
// calls.
type Stream struct {
	p      *Program
	s      *compile.Session
	in     *tensor.Tensor
	inF    []float32
	inputs map[string]*tensor.Tensor // reused across steps
}

// NewStream starts a session with zero state.
func (p *Program) NewStream() *Stream {
	in := tensor.FromF32(make([]float32, p.geo.context+p.geo.window), 1, p.geo.context+p.geo.window)
	return &Stream{p: p, s: p.prog.NewSession(), in: in, inF: in.F32(), inputs: map[string]*tensor.Tensor{"x": in}}
}

// Step runs the graph on x (context followed by window samples) and returns
// the speech probability.
func (s *Stream) Step(ctx context.Context, x []float32) (float32, error) {
	if len(x) != len(s.inF) {
		return 0, fmt.Errorf("silero: step needs %d samples (context + window), got %d", len(s.inF), len(x))
	}
	copy(s.inF, x)
	out, err := s.s.Run(ctx, s.inputs, nil)
	if err != nil {
		return 0, err
	}
	return out["p"].F32()[0], nil
}

// Reset zeroes the LSTM state.
func (s *Stream) Reset() { s.s.Reset() }

// Close ends the session.
func (s *Stream) Close() { s.s.Close() }
