package compile_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// TestVADShapedGraph is a miniature of Silero VAD's structure: reflect
// padding, a strided convolution as an STFT, magnitudes, a conv encoder
// with ReLUs, an LSTM cell whose h and c persist in session State across
// windows, and a sigmoid head. Three windows run through one session and
// are checked against the reference running the same windows.
func TestVADShapedGraph(t *testing.T) {
	const win, fft, hop, bins, ch, hid = 96, 16, 8, 9, 12, 10
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("audio", tensor.F32, n(1), n(1), n(win))
		x = b.Pad(x, []int{0, 0, 0}, []int{0, 0, fft / 2}, ir.PadReflect, 0)
		spec := b.Conv1D(x, b.Param("stft", tensor.F32, n(2*bins), n(1), n(fft)), ir.Value{}, ir.ConvOptions{Stride: []int{hop}})
		re, im := b.Slice(spec, 1, n(0), n(bins)), b.Slice(spec, 1, n(bins), n(2*bins))
		mag := b.Sqrt(b.Add(b.Square(re), b.Square(im)))
		h := b.Relu(b.Conv1D(mag, b.Param("enc1.w", tensor.F32, n(ch), n(bins), n(3)), b.Param("enc1.b", tensor.F32, n(ch)), ir.ConvOptions{Pad: []int{1}}))
		h = b.Relu(b.Conv1D(h, b.Param("enc2.w", tensor.F32, n(ch), n(ch), n(3)), b.Param("enc2.b", tensor.F32, n(ch)), ir.ConvOptions{Stride: []int{2}, Pad: []int{1}}))
		feat := b.ReduceMean(h, false, 2) // [1, ch]
		hs, cs := b.State("lstm.h", tensor.F32, n(1), n(hid)), b.State("lstm.c", tensor.F32, n(1), n(hid))
		h2, c2 := b.LSTMCell(feat, hs, cs, b.Param("lstm.wih", tensor.F32, n(4*hid), n(ch)), b.Param("lstm.whh", tensor.F32, n(4*hid), n(hid)),
			b.Param("lstm.bih", tensor.F32, n(4*hid)), b.Param("lstm.bhh", tensor.F32, n(4*hid)))
		b.Assign(hs, h2)
		b.Assign(cs, c2)
		prob := b.Sigmoid(b.Linear(b.Relu(h2), b.Param("dec.w", tensor.F32, n(1), n(hid)), b.Param("dec.b", tensor.F32, n(1))))
		b.Output("prob", prob)
	})
	r := rand.New(rand.NewPCG(17, 18))
	params := ir.MapParams{}
	for _, p := range g.Params() {
		shape, _ := p.Shape.Eval(nil)
		params[p.Name] = randF32(r, -0.6, 0.6, shape...)
	}
	var steps []backendtest.Step
	for range 3 {
		steps = append(steps, backendtest.Step{Inputs: map[string]*tensor.Tensor{"audio": randF32(r, -1, 1, 1, 1, win)}})
	}
	check(t, backendtest.Case{Name: "vad", Graph: g, Params: params, Steps: steps, Tol: 1e-5}, compile.Options{})
	check(t, backendtest.Case{Name: "vad-unfused", Graph: g, Params: params, Steps: steps, Tol: 1e-5}, compile.Options{NoFusion: true})

	// State persists per session and Reset clears it.
	p, err := compile.Compile(g, newCPU(), params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.NewSession()
	first, _ := s.Run(context.Background(), steps[0].Inputs, nil)
	second, _ := s.Run(context.Background(), steps[0].Inputs, nil)
	if first["prob"].F32()[0] == second["prob"].F32()[0] {
		t.Error("state did not carry over between runs")
	}
	s.Reset()
	again, _ := s.Run(context.Background(), steps[0].Inputs, nil)
	if again["prob"].F32()[0] != first["prob"].F32()[0] {
		t.Error("Reset did not clear the state")
	}
	h, err := s.State("lstm.h")
	if err != nil || h == nil || len(h.F32()) != hid {
		t.Fatalf("State(lstm.h) = %v, %v", h, err)
	}
	// Restoring the state after the first window reproduces the second.
	c, _ := s.State("lstm.c")
	s2 := p.NewSession()
	if err := s2.SetState("lstm.h", h); err != nil {
		t.Fatal(err)
	}
	if err := s2.SetState("lstm.c", c); err != nil {
		t.Fatal(err)
	}
	restored, err := s2.Run(context.Background(), steps[0].Inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if restored["prob"].F32()[0] != second["prob"].F32()[0] {
		t.Errorf("restored state gives %v, want %v", restored["prob"].F32()[0], second["prob"].F32()[0])
	}
	if err := s2.SetState("lstm.h", tensor.FromF32(make([]float32, 3), 1, 3)); err == nil {
		t.Error("a misshaped state was accepted")
	}
	if err := s2.SetState("nope", h); err == nil {
		t.Error("an unknown state was accepted")
	}
}
