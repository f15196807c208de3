package vad

import (
	"fmt"
	"slices"
	"testing"
)

func TestStreamHandChecked(t *testing.T) {
	// 1000 Hz, windows of 10: after window i the stream has seen 10(i+1)
	// samples. Pad 10, min silence 30.
	cases := []struct {
		name  string
		probs string
		want  []string
	}{
		// Window 2 (pos 30) starts: 30 - 10 - 10 = 10. Silence from window 6
		// (pos 70): at window 9 (pos 100) it has lasted 30, so it ends at
		// 70 + 10 - 10 = 70.
		{"start and end", "n2 s4 n6", []string{"start 10", "end 70"}},
		// A 20-sample dip is not enough; the stream stays in speech.
		{"short dip", "s3 n2 s3", []string{"start 0"}},
		// Values between the thresholds neither start nor end speech.
		{"hysteresis", "m3 s2 m10", []string{"start 20"}},
		// Speech again after an end starts a new segment. Silence is timed
		// from the end of its first window (pos 30, window 2); at window 5
		// (pos 60) it has lasted 30: end 30 + 10 - 10 = 30. Window 6 (pos 70)
		// starts again at 70 - 10 - 10 = 50.
		{"two segments", "s2 n4 s2", []string{"start 0", "end 30", "start 50"}},
	}
	for _, c := range cases {
		o := toyOptions()
		s, err := NewStream(1000, 10, o)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range probs(c.probs) {
			if e, ok := s.Push(p); ok {
				kind := "end"
				if e.Start {
					kind = "start"
				}
				got = append(got, fmt.Sprintf("%s %d", kind, e.Sample))
				if e.Seconds != float64(e.Sample)/1000 {
					t.Errorf("%s: seconds %v", c.name, e)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		s.Reset()
		if s.InSpeech() {
			t.Errorf("%s: in speech after Reset", c.name)
		}
	}
	if _, err := NewStream(0, 10, toyOptions()); err == nil {
		t.Error("zero rate: no error")
	}
	bad := toyOptions()
	bad.Threshold = 2
	if _, err := NewStream(1000, 10, bad); err == nil {
		t.Error("bad threshold: no error")
	}
}
