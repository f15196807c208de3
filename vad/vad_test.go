package vad

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The hand-checked cases use a toy geometry, 1000 Hz with windows of 10
// samples, so one window is 10 ms and positions are easy to follow. Each
// expectation is derived step by step in the comment above it.

// probs builds a probability list from runs like "s5 n3 m2": s = 0.9
// (speech), n = 0.1 (silence), m = 0.4 (between the thresholds).
func probs(spec string) []float32 {
	var out []float32
	for _, run := range strings.Fields(spec) {
		var n int
		fmt.Sscanf(run[1:], "%d", &n)
		v := map[byte]float32{'s': 0.9, 'n': 0.1, 'm': 0.4}[run[0]]
		for range n {
			out = append(out, v)
		}
	}
	return out
}

func toyOptions() Options {
	o := DefaultOptions()
	o.MinSpeechMs = 50
	o.MinSilenceMs = 30
	o.SpeechPadMs = 10
	return o
}

func spans(segs []Segment) [][2]int {
	var out [][2]int
	for _, s := range segs {
		out = append(out, [2]int{s.Start, s.End})
	}
	return out
}

func TestSegmentsHandChecked(t *testing.T) {
	cases := []struct {
		name  string
		probs string
		n     int
		opt   func(*Options)
		want  [][2]int
	}{
		// Speech at the very start and the very end. Window 0 starts at 0;
		// silence from 100 reaches 30 samples at window 13, so the segment
		// ends at 100. Speech from 200 runs to the end of the clip (300).
		// Padding: [0-10→0, 100+10), [200-10, 300+10→300).
		{"speech at start and end", "s10 n10 s10", 300, nil, [][2]int{{0, 110}, {190, 300}}},
		// A 20-sample pause (windows 15-16) is shorter than the 30 samples of
		// min silence, so speech continues; the final silence from 270 ends it.
		{"gap shorter than min silence", "n5 s10 n2 s10 n13", 400, nil, [][2]int{{40, 280}}},
		// 0.4 is below the threshold (never starts speech) but above the
		// negative threshold 0.35 (never ends it).
		{"hysteresis", "n2 s4 m10 n10", 260, nil, [][2]int{{10, 170}}},
		{"between thresholds only", "m30", 300, nil, nil},
		// 40 samples of speech (20 to 60) are not more than 50: dropped.
		{"short speech dropped", "n2 s4 n14", 200, nil, nil},
		{"short speech kept with lower minimum", "n2 s4 n14", 200, func(o *Options) { o.MinSpeechMs = 30 }, [][2]int{{10, 70}}},
		// Ends at 100 and restarts at 120: the 20-sample gap is shorter than
		// two pads (30), so each side takes half of it (10).
		{"padding overlap splits the gap", "s10 n2 s10", 220, func(o *Options) { o.MinSilenceMs = 10; o.SpeechPadMs = 15 }, [][2]int{{0, 110}, {110, 220}}},
		// Speech that ends in the middle of the last window still runs to
		// the end of the audio (253 samples, not 260).
		{"partial last window", "n5 s21", 253, nil, [][2]int{{40, 253}}},
		// A tail shorter than min speech at the end of the clip is dropped.
		{"short tail dropped", "n20 s3", 230, nil, nil},
		{"empty", "", 0, nil, nil},
		// Max speech 0.3 s → 300 - window 10 - 2·pad 0 = 290 samples. Pauses
		// of 30 (50..80) and 20 (120..140) are longer than the 15 ms split
		// minimum. At window 30 (300 - 0 > 290) the segment is cut at the
		// longest pause: [0, 50), the next starts at 80. At window 38
		// (380 - 80 > 290) it is cut at the remaining pause: [80, 120), next
		// from 140 to the end.
		{"max speech split at longest pause", "s5 n3 s4 n2 s26", 400, func(o *Options) {
			o.SpeechPadMs, o.MinSilenceMs, o.MinSilenceAtMaxSpeechMs, o.MaxSpeechS = 0, 100, 15, 0.3
		}, [][2]int{{0, 50}, {80, 120}, {140, 400}}},
		// The same, cutting at the last pause: [0, 120) at window 30, then
		// 140 to the end is never longer than 290.
		{"max speech split at last pause", "s5 n3 s4 n2 s26", 400, func(o *Options) {
			o.SpeechPadMs, o.MinSilenceMs, o.MinSilenceAtMaxSpeechMs, o.MaxSpeechS = 0, 100, 15, 0.3
			o.SplitAtLastSilence = true
		}, [][2]int{{0, 120}, {140, 400}}},
		// Pauses of 20 are not longer than the 98 ms default: no candidate,
		// so the segment is cut hard at window 30 and speech restarts at
		// window 31 (310).
		{"max speech hard cut", "s5 n2 s33", 400, func(o *Options) {
			o.SpeechPadMs, o.MinSilenceMs, o.MaxSpeechS = 0, 100, 0.3
		}, [][2]int{{0, 300}, {310, 400}}},
		// An explicit negative threshold below 0.1 means the 0.1 windows
		// never end speech.
		{"negative threshold", "s10 n10 s10", 300, func(o *Options) { o.NegThreshold = 0.05 }, [][2]int{{0, 300}}},
	}
	for _, c := range cases {
		o := toyOptions()
		if c.opt != nil {
			c.opt(&o)
		}
		segs, err := Segments(probs(c.probs), c.n, 1000, 10, o)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := spans(segs); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		for _, s := range segs {
			if s.StartS != float64(s.Start)/1000 || s.EndS != float64(s.End)/1000 {
				t.Errorf("%s: seconds %v", c.name, s)
			}
		}
	}
}

func TestSegmentsErrors(t *testing.T) {
	bad := []struct {
		name string
		o    func(*Options)
		p    []float32
		n    int
	}{
		{"threshold 0", func(o *Options) { o.Threshold = 0 }, probs("s3"), 30},
		{"threshold > 1", func(o *Options) { o.Threshold = 1.5 }, probs("s3"), 30},
		{"neg above threshold", func(o *Options) { o.NegThreshold = 0.6 }, probs("s3"), 30},
		{"negative pad", func(o *Options) { o.SpeechPadMs = -1 }, probs("s3"), 30},
		{"negative max", func(o *Options) { o.MaxSpeechS = -1 }, probs("s3"), 30},
		{"count mismatch", nil, probs("s3"), 31},
	}
	for _, c := range bad {
		o := toyOptions()
		if c.o != nil {
			c.o(&o)
		}
		if _, err := Segments(c.p, c.n, 1000, 10, o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := Segments(nil, 0, 0, 10, toyOptions()); err == nil {
		t.Error("zero sample rate: no error")
	}
}

func TestFloorDiv(t *testing.T) {
	for _, c := range [][3]int{{7, 2, 3}, {-7, 2, -4}, {6, 2, 3}, {-6, 2, -3}, {0, 2, 0}, {-1, 2, -1}} {
		if got := floorDiv(c[0], c[1]); got != c[2] {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func Example() {
	// Probabilities for 16 windows of 512 samples at 16 kHz (0.512 s).
	p := []float32{0.01, 0.02, 0.9, 0.97, 0.98, 0.99, 0.95, 0.97, 0.96, 0.9, 0.2, 0.05, 0.02, 0.01, 0.01, 0.01}
	segs, err := Segments(p, 16*512, 16000, 512, DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range segs {
		fmt.Printf("speech %.3f s – %.3f s (samples %d–%d)\n", s.StartS, s.EndS, s.Start, s.End)
	}
	// Output:
	// speech 0.034 s – 0.350 s (samples 544–5600)
}
