package silero

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
)

// Streaming in chunks of any size gives exactly the probabilities of the
// whole clip, and Reset starts a stream afresh.
func TestDetectorChunking(t *testing.T) {
	m := defaultModel(t)
	a := readWAV(t, "speech-b.wav")
	x := a.Samples[:40000]
	want, err := m.Probabilities(t.Context(), x, 16000)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.NewDetector(16000)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, maxChunk := range []int{1, 7, 511, 512, 513, 1500, 40000} {
		d.Reset()
		var got []float32
		for i := 0; i < len(x); {
			n := min(1+rng.IntN(maxChunk), len(x)-i)
			got = d.Push(got, x[i:i+n])
			i += n
		}
		if d.Windows() != len(x)/512 {
			t.Errorf("chunks ≤ %d: %d windows before Flush", maxChunk, d.Windows())
		}
		got = d.Flush(got)
		if !slices.Equal(got, want) {
			t.Errorf("chunks ≤ %d: probabilities differ from the whole clip's", maxChunk)
		}
		if got := d.Flush(nil); got != nil {
			t.Errorf("second Flush returned %v", got)
		}
	}
	if d.SampleRate() != 16000 || d.WindowSize() != 512 || d.ContextSize() != 64 {
		t.Errorf("geometry %d %d %d", d.SampleRate(), d.WindowSize(), d.ContextSize())
	}
	if _, err := m.NewDetector(44100); err == nil {
		t.Error("44100 Hz: no error")
	}
	if got := m.SampleRates(); !slices.Equal(got, []int{16000, 8000}) {
		t.Errorf("SampleRates = %v", got)
	}
}

// A detector on the CPU backend (the IR graph) streams the same
// probabilities as the kernel path, to float32 rounding.
func TestDetectorOnBackend(t *testing.T) {
	m := defaultModel(t)
	a := readWAV(t, "speech-b.wav")
	x := a.Samples[:30000]
	want, _ := m.Probabilities(t.Context(), x, 16000)
	got, err := m.Probabilities(t.Context(), x, 16000, OnBackend(cpu.New(cpu.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d windows, want %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
			t.Errorf("window %d: graph %v, kernels %v", i, got[i], want[i])
		}
	}
}

func TestNewModelErrors(t *testing.T) {
	ps := embeddedParams(t)
	drop := func(name string) []Param {
		return slices.DeleteFunc(slices.Clone(ps), func(p Param) bool { return p.Name == name })
	}
	if _, err := NewModel(drop("16k.lstm.bias_hh")); err == nil {
		t.Error("missing 16k tensor: no error")
	}
	if _, err := NewModel(drop("8k.lstm.bias_hh")); err == nil {
		t.Error("incomplete 8k branch: no error")
	}
	only16 := slices.DeleteFunc(slices.Clone(ps), func(p Param) bool { return p.Name[:3] == "8k." })
	m, err := NewModel(only16)
	if err != nil || !slices.Equal(m.SampleRates(), []int{16000}) {
		t.Errorf("16 kHz only: %v %v", m, err)
	}
	bad := slices.Clone(ps)
	bad[0].Shape = []int{1, 2, 3}
	if _, err := NewModel(bad); err == nil {
		t.Error("wrong shape: no error")
	}
	extra := append(slices.Clone(ps), Param{Name: "unknown", Shape: []int{1}, Data: []float32{0}})
	if _, err := NewModel(extra); err == nil {
		t.Error("unknown tensor: no error")
	}
	dup := append(slices.Clone(ps), ps[0])
	if _, err := NewModel(dup); err == nil {
		t.Error("duplicate tensor: no error")
	}
	if _, _, err := ReadSafetensors("x", []byte("garbage")); err == nil {
		t.Error("garbage safetensors: no error")
	}
	md := EmbeddedMetadata()
	if md["source_sha256"] != "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f" || md["license"] != "MIT" {
		t.Errorf("embedded metadata %v", md)
	}
}
