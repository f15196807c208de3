package silero

import (
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
)

// TestGraphMatchesOnnxruntime runs the IR graph, compiled for the CPU
// backend, over the reference clips and compares with onnxruntime and with
// the kernel path window by window.
func TestGraphMatchesOnnxruntime(t *testing.T) {
	m := defaultModel(t)
	for _, c := range []struct {
		rate      int
		wav, json string
	}{{16000, "speech.wav", "testdata/reference.json"}, {8000, "speech-b-8k.wav", "testdata/reference-8k.json"}} {
		prog, err := m.Compile(cpu.New(cpu.Options{}), c.rate)
		if err != nil {
			t.Fatal(err)
		}
		var ref struct {
			Probabilities []float64 `json:"probabilities"`
		}
		readJSON(t, c.json, &ref)
		a := readWAV(t, c.wav)
		st := prog.NewStream()
		geo := m.branches[c.rate].geo
		var got []float32
		for _, w := range windows(a.Samples, geo.window, geo.context) {
			p, err := st.Step(t.Context(), w)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p)
		}
		compare(t, c.wav+" (IR graph, cpu backend)", got, ref.Probabilities)
		kernel, _ := m.Probabilities(t.Context(), a.Samples, c.rate)
		worst := 0.0
		for i := range got {
			worst = math.Max(worst, math.Abs(float64(got[i]-kernel[i])))
		}
		t.Logf("%d Hz: graph vs kernel path max diff %.3g", c.rate, worst)

		// Reset restores the initial state: the first windows repeat.
		st.Reset()
		w0 := windows(a.Samples, geo.window, geo.context)[0]
		if p, _ := st.Step(t.Context(), w0); p != got[0] {
			t.Errorf("after Reset: %v, first run %v", p, got[0])
		}
		st.Close()
		prog.Close()
	}
	if _, err := Graph(44100); err == nil {
		t.Error("Graph(44100): no error")
	}
}
