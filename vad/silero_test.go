package vad

import (
	"encoding/json"
	"testing"

	"github.com/rlx-go/rlx/internal/gztest"
)

// TestMatchesSileroImplementation replays 200 random cases through Segments
// and compares with what silero-vad's own get_speech_timestamps returned on
// the same probability lists (testdata/README.md says how they were made).
func TestMatchesSileroImplementation(t *testing.T) {
	var data struct {
		Cases []struct {
			SampleRate    int       `json:"sample_rate"`
			Samples       int       `json:"samples"`
			Probabilities []float32 `json:"probabilities"`
			Options       struct {
				Threshold       float64  `json:"threshold"`
				MinSpeechMs     float64  `json:"min_speech_duration_ms"`
				MaxSpeechS      *float64 `json:"max_speech_duration_s"`
				MinSilenceMs    float64  `json:"min_silence_duration_ms"`
				SpeechPadMs     float64  `json:"speech_pad_ms"`
				NegThreshold    *float64 `json:"neg_threshold"`
				MinSilenceAtMax float64  `json:"min_silence_at_max_speech"`
				UseLongestAtMax bool     `json:"use_max_poss_sil_at_max_speech"`
			} `json:"options"`
			Segments [][2]int `json:"segments"`
		} `json:"cases"`
	}
	readGzipJSON(t, "testdata/silero_cases.json.gz", &data)
	splits := 0
	for i, c := range data.Cases {
		o := Options{
			Threshold:               c.Options.Threshold,
			MinSpeechMs:             c.Options.MinSpeechMs,
			MinSilenceMs:            c.Options.MinSilenceMs,
			SpeechPadMs:             c.Options.SpeechPadMs,
			MinSilenceAtMaxSpeechMs: c.Options.MinSilenceAtMax,
			SplitAtLastSilence:      !c.Options.UseLongestAtMax,
		}
		if c.Options.MaxSpeechS != nil {
			o.MaxSpeechS = *c.Options.MaxSpeechS
			splits++
		}
		if c.Options.NegThreshold != nil {
			o.NegThreshold = *c.Options.NegThreshold
		}
		window := 512
		if c.SampleRate == 8000 {
			window = 256
		}
		// The probabilities are float32 values (as a model outputs them),
		// so Python and Go compare exactly the same numbers.
		segs, err := Segments(c.Probabilities, c.Samples, c.SampleRate, window, o)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got := spans(segs)
		if len(got) != len(c.Segments) {
			t.Errorf("case %d (%+v): %d segments %v, silero %d %v", i, c.Options, len(got), got, len(c.Segments), c.Segments)
			continue
		}
		for j := range got {
			if got[j] != c.Segments[j] {
				t.Errorf("case %d segment %d: %v, silero %v", i, j, got[j], c.Segments[j])
			}
		}
	}
	if len(data.Cases) < 100 || splits < 20 {
		t.Errorf("%d cases, %d with max speech", len(data.Cases), splits)
	}
}

// TestStreamMatchesSileroIterator replays 100 random cases through Stream
// and compares with silero-vad's VADIterator on the same probabilities.
func TestStreamMatchesSileroIterator(t *testing.T) {
	var data struct {
		Cases []struct {
			SampleRate    int       `json:"sample_rate"`
			Probabilities []float32 `json:"probabilities"`
			Options       struct {
				Threshold    float64 `json:"threshold"`
				MinSilenceMs float64 `json:"min_silence_duration_ms"`
				SpeechPadMs  float64 `json:"speech_pad_ms"`
			} `json:"options"`
			Events [][2]any `json:"events"`
		} `json:"cases"`
	}
	readGzipJSON(t, "testdata/silero_iterator_cases.json.gz", &data)
	for i, c := range data.Cases {
		o := DefaultOptions()
		o.Threshold, o.MinSilenceMs, o.SpeechPadMs = c.Options.Threshold, c.Options.MinSilenceMs, c.Options.SpeechPadMs
		window := 512
		if c.SampleRate == 8000 {
			window = 256
		}
		s, err := NewStream(c.SampleRate, window, o)
		if err != nil {
			t.Fatal(err)
		}
		var got [][2]any
		for _, p := range c.Probabilities {
			if e, ok := s.Push(p); ok {
				kind := "end"
				if e.Start {
					kind = "start"
				}
				got = append(got, [2]any{kind, float64(e.Sample)})
			}
		}
		if len(got) != len(c.Events) {
			t.Errorf("case %d: %v, silero %v", i, got, c.Events)
			continue
		}
		for j := range got {
			if got[j] != c.Events[j] {
				t.Errorf("case %d event %d: %v, silero %v", i, j, got[j], c.Events[j])
			}
		}
	}
	if len(data.Cases) != 100 {
		t.Errorf("%d cases", len(data.Cases))
	}
}

// readGzipJSON decodes the gzip-compressed JSON file path into v.
func readGzipJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(gztest.Read(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
