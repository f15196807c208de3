package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/audio/resample"
	"github.com/rlx-go/rlx/audio/wav"
	"github.com/rlx-go/rlx/models/silero"
	"github.com/rlx-go/rlx/vad"
	"github.com/spf13/pflag"
)

// runVADCmd runs `rlx vad args...` with every vad flag back at its default
// first (cobra keeps flag values between Execute calls).
func runVADCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c, _, err := rootCmd.Find([]string{"vad"})
	if err != nil {
		t.Fatal(err)
	}
	c.Flags().VisitAll(func(f *pflag.Flag) {
		f.Value.Set(f.DefValue)
		f.Changed = false
	})
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(append([]string{"vad"}, args...))
	defer rootCmd.SetArgs(nil)
	err = rootCmd.Execute()
	return out.String(), err
}

// writePCM16 writes a 16-bit PCM WAV of interleaved channels.
func writePCM16(t *testing.T, path string, rate, channels int, frames [][]float32) {
	t.Helper()
	var data []byte
	for i := range frames[0] {
		for c := range channels {
			v := math.Round(float64(frames[c][i]) * 32768)
			data = binary.LittleEndian.AppendUint16(data, uint16(int16(max(-32768, min(32767, v)))))
		}
	}
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*2))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*2))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func vadJSONOut(t *testing.T, args ...string) vadJSON {
	t.Helper()
	out, err := runVADCmd(t, args...)
	if err != nil {
		t.Fatalf("rlx vad %v: %v", args, err)
	}
	var v vadJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("rlx vad %v: output is not JSON: %v\n%s", args, err, out)
	}
	return v
}

// TestVADCommandMatchesLibrary checks the command's segments and
// probabilities against the library's on the README's file.
func TestVADCommandMatchesLibrary(t *testing.T) {
	const file = "../../testdata/speech.wav"
	a, err := wav.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := silero.Default()
	if err != nil {
		t.Fatal(err)
	}
	o := vad.DefaultOptions()
	o.MinSilenceMs = 300
	want, err := m.Speech(t.Context(), a.Samples, a.SampleRate, o)
	if err != nil {
		t.Fatal(err)
	}
	got := vadJSONOut(t, "--json", "--probs", "--min-silence-ms", "300", file)
	if len(got.Segments) != len(want.Segments) || len(want.Segments) == 0 {
		t.Fatalf("%d segments, library %d", len(got.Segments), len(want.Segments))
	}
	for i, s := range want.Segments {
		g := got.Segments[i]
		if g.StartSample != s.Start || g.EndSample != s.End || math.Abs(g.Start-s.StartS) > 5e-4 {
			t.Errorf("segment %d: %+v, library %+v", i, g, s)
		}
	}
	if len(got.Probabilities) != len(want.Probabilities) || got.ProbabilityHopS != 0.032 {
		t.Errorf("%d probabilities (hop %v), library %d", len(got.Probabilities), got.ProbabilityHopS, len(want.Probabilities))
	}
	kern := vadJSONOut(t, "--json", "--engine", "kernels", "--min-silence-ms", "300", file)
	if len(kern.Segments) != len(got.Segments) {
		t.Errorf("--engine kernels: %d segments, graph %d", len(kern.Segments), len(got.Segments))
	}
	wavBytes, _ := os.ReadFile(file)
	rootCmd.SetIn(bytes.NewReader(wavBytes))
	stdin := vadJSONOut(t, "--json", "--min-silence-ms", "300", "-")
	rootCmd.SetIn(nil)
	if stdin.File != "stdin" || len(stdin.Segments) != len(got.Segments) || stdin.Segments[0] != got.Segments[0] {
		t.Errorf("from stdin: %+v", stdin)
	}
	text, err := runVADCmd(t, file)
	if err != nil || !strings.Contains(text, "speech segment(s)") {
		t.Errorf("text output: %v\n%s", err, text)
	}
}

// TestVADResampledStereo runs a 44.1 kHz stereo version of a 16 kHz clip
// through the command: after mixdown and resampling the segments must agree
// with the original's to within a window or two.
func TestVADResampledStereo(t *testing.T) {
	a, err := wav.ReadFile("../../testdata/speech-b.wav")
	if err != nil {
		t.Fatal(err)
	}
	up, err := resample.Resample(a.Samples, 16000, 44100)
	if err != nil {
		t.Fatal(err)
	}
	// Left is the clip at 0.8, right at 0.6: the mono mix is 0.7 of it.
	l, r := make([]float32, len(up)), make([]float32, len(up))
	for i, v := range up {
		l[i], r[i] = 0.8*v, 0.6*v
	}
	path := filepath.Join(t.TempDir(), "stereo44k.wav")
	writePCM16(t, path, 44100, 2, [][]float32{l, r})
	ref := vadJSONOut(t, "--json", "../../testdata/speech-b.wav")
	got := vadJSONOut(t, "--json", path)
	if got.InputRate != 44100 || got.SampleRate != 16000 {
		t.Errorf("rates %d → %d", got.InputRate, got.SampleRate)
	}
	if len(got.Segments) != len(ref.Segments) {
		t.Fatalf("%d segments, 16 kHz original %d: %+v vs %+v", len(got.Segments), len(ref.Segments), got.Segments, ref.Segments)
	}
	for i := range ref.Segments {
		if math.Abs(got.Segments[i].Start-ref.Segments[i].Start) > 0.07 || math.Abs(got.Segments[i].End-ref.Segments[i].End) > 0.07 {
			t.Errorf("segment %d: %+v, original %+v", i, got.Segments[i], ref.Segments[i])
		}
	}
}

func TestVADBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.wav")
	os.WriteFile(text, []byte("these are not samples"), 0o644)
	empty := filepath.Join(dir, "empty.wav")
	writePCM16(t, empty, 16000, 1, [][]float32{{}})
	trunc := filepath.Join(dir, "trunc.wav")
	b, _ := os.ReadFile("../../testdata/speech-b.wav")
	os.WriteFile(trunc, b[:1000], 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "missing.wav")}, "no such file"},
		{[]string{text}, "not a WAV file"},
		{[]string{empty}, "no audio samples"},
		{[]string{trunc}, "truncated data chunk"},
		{[]string{"--threshold", "1.5", "../../testdata/speech-b.wav"}, "threshold 1.5"},
		{[]string{"--neg-threshold", "0.9", "../../testdata/speech-b.wav"}, "negative threshold"},
		{[]string{"--min-silence-ms", "-5", "../../testdata/speech-b.wav"}, "negative"},
		{[]string{}, "accepts 1 arg"},
		{[]string{"--engine", "gpu", "../../testdata/speech-b.wav"}, "unknown --engine"},
	}
	for _, c := range cases {
		_, err := runVADCmd(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rlx vad %v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
}
