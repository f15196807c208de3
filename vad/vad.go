// Package vad turns per-window speech probabilities from a voice activity
// model into speech segments. It follows the published algorithm of
// silero-vad's get_speech_timestamps (utils_vad.py, the version with
// min_silence_at_max_speech and use_max_poss_sil_at_max_speech): hysteresis
// between a start threshold and a lower end threshold, a minimum silence
// before a segment may end, a minimum speech length, splitting of segments
// longer than a maximum at the longest (or last) pause inside them, and
// padding that shares short gaps between neighbours.
//
// Positions are in samples at the model's rate; window i covers samples
// [i·window, (i+1)·window).
package vad

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Options are the knobs of get_speech_timestamps. Start from
// DefaultOptions; the zero value is not useful.
type Options struct {
	// Threshold: a window with probability ≥ Threshold is speech.
	Threshold float64
	// NegThreshold: during speech, a window below it counts as silence.
	// 0 means max(Threshold-0.15, 0.01), silero's default.
	NegThreshold float64
	// MinSpeechMs: segments of this length or shorter are dropped.
	MinSpeechMs float64
	// MaxSpeechS: longer segments are split; 0 means no limit.
	MaxSpeechS float64
	// MinSilenceMs: silence needed to end a segment.
	MinSilenceMs float64
	// SpeechPadMs: padding added on each side of a segment.
	SpeechPadMs float64
	// MinSilenceAtMaxSpeechMs: only pauses longer than this are candidate
	// split points when a segment reaches MaxSpeechS.
	MinSilenceAtMaxSpeechMs float64
	// SplitAtLastSilence splits over-long segments at the last candidate
	// pause instead of the longest one (silero's
	// use_max_poss_sil_at_max_speech=False).
	SplitAtLastSilence bool
}

// DefaultOptions returns silero-vad's defaults: threshold 0.5, negative
// threshold 0.35, min speech 250 ms, no max speech, min silence 100 ms,
// pad 30 ms, 98 ms pauses as split candidates, split at the longest pause.
func DefaultOptions() Options {
	return Options{
		Threshold:               0.5,
		MinSpeechMs:             250,
		MinSilenceMs:            100,
		SpeechPadMs:             30,
		MinSilenceAtMaxSpeechMs: 98,
	}
}

// Segment is one stretch of speech, End exclusive.
type Segment struct {
	Start, End int     // samples at the model's rate
	StartS     float64 // seconds
	EndS       float64
}

func (o Options) validate() error {
	switch {
	case !(o.Threshold > 0 && o.Threshold <= 1):
		return fmt.Errorf("vad: threshold %v is outside (0, 1]", o.Threshold)
	case o.NegThreshold < 0 || o.NegThreshold > o.Threshold:
		return fmt.Errorf("vad: negative threshold %v is outside [0, threshold %v]", o.NegThreshold, o.Threshold)
	case o.MinSpeechMs < 0 || o.MinSilenceMs < 0 || o.SpeechPadMs < 0 || o.MinSilenceAtMaxSpeechMs < 0:
		return errors.New("vad: durations must not be negative")
	case o.MaxSpeechS < 0 || math.IsNaN(o.MaxSpeechS):
		return fmt.Errorf("vad: max speech %v s is negative", o.MaxSpeechS)
	case math.IsNaN(o.MinSpeechMs + o.MinSilenceMs + o.SpeechPadMs + o.MinSilenceAtMaxSpeechMs):
		return errors.New("vad: durations must be numbers")
	}
	return nil
}

type pause struct{ end, dur int }

// Segments finds the speech segments of a clip of numSamples samples at
// sampleRate, given probs[i] for the window of samples [i·window,
// (i+1)·window).
func Segments(probs []float32, numSamples, sampleRate, window int, o Options) ([]Segment, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if sampleRate <= 0 || window <= 0 || numSamples < 0 {
		return nil, fmt.Errorf("vad: invalid geometry: %d samples at %d Hz, window %d", numSamples, sampleRate, window)
	}
	if want := (numSamples + window - 1) / window; len(probs) != want {
		return nil, fmt.Errorf("vad: %d probabilities for %d samples in windows of %d (want %d)", len(probs), numSamples, window, want)
	}
	sr := float64(sampleRate)
	neg := o.NegThreshold
	if neg == 0 {
		neg = max(o.Threshold-0.15, 0.01)
	}
	minSpeech := sr * o.MinSpeechMs / 1000
	pad := sr * o.SpeechPadMs / 1000
	maxSpeech := math.Inf(1)
	if o.MaxSpeechS > 0 {
		maxSpeech = sr*o.MaxSpeechS - float64(window) - 2*pad
	}
	minSilence := sr * o.MinSilenceMs / 1000
	minSilenceAtMax := sr * o.MinSilenceAtMaxSpeechMs / 1000

	var (
		segs      []Segment
		triggered bool
		open      bool // a segment has a start
		start     int
		// tempEnd is where the current run of silence began; 0 means none,
		// as in the reference (a pause cannot be recorded at sample 0).
		tempEnd, prevEnd, nextStart int
		pauses                      []pause
	)
	closeAt := func(end int) {
		segs = append(segs, Segment{Start: start, End: end})
		open = false
	}
	for i, p32 := range probs {
		p := float64(p32)
		pos := window * i
		if p >= o.Threshold && tempEnd != 0 {
			if dur := pos - tempEnd; float64(dur) > minSilenceAtMax {
				pauses = append(pauses, pause{tempEnd, dur})
			}
			tempEnd = 0
			if nextStart < prevEnd {
				nextStart = pos
			}
		}
		if p >= o.Threshold && !triggered {
			triggered, open, start = true, true, pos
			continue
		}
		if triggered && float64(pos-start) > maxSpeech {
			if len(pauses) > 0 {
				var cut pause
				if o.SplitAtLastSilence {
					cut = pauses[len(pauses)-1]
				} else {
					cut = pauses[0] // the first of the longest, as Python's max
					for _, q := range pauses[1:] {
						if q.dur > cut.dur {
							cut = q
						}
					}
				}
				prevEnd = cut.end
				closeAt(prevEnd)
				nextStart = prevEnd + cut.dur
				if nextStart < prevEnd+pos {
					open, start = true, nextStart // still in speech after the pause
				} else {
					triggered = false
				}
				pauses = slices.DeleteFunc(pauses, func(q pause) bool { return q.end <= nextStart })
				prevEnd, nextStart, tempEnd = 0, 0, 0
			} else {
				closeAt(pos) // no pause to cut at: cut hard here
				prevEnd, nextStart, tempEnd = 0, 0, 0
				triggered = false
				pauses = pauses[:0]
				continue
			}
		}
		if p < neg && triggered {
			if tempEnd == 0 {
				tempEnd = pos
			}
			if float64(pos-tempEnd) < minSilence {
				continue
			}
			if float64(tempEnd-start) > minSpeech {
				closeAt(tempEnd)
			}
			open = false
			prevEnd, nextStart, tempEnd = 0, 0, 0
			triggered = false
			pauses = pauses[:0]
			continue
		}
	}
	if open && float64(numSamples-start) > minSpeech {
		closeAt(numSamples)
	}

	// Padding: each side grows by pad, but a gap shorter than two pads is
	// split evenly between its neighbours.
	for i := range segs {
		s := &segs[i]
		if i == 0 {
			s.Start = int(max(0, float64(s.Start)-pad))
		}
		if i != len(segs)-1 {
			next := &segs[i+1]
			gap := next.Start - s.End
			if float64(gap) < 2*pad {
				half := floorDiv(gap, 2)
				s.End += half
				next.Start = max(0, next.Start-half)
			} else {
				s.End = int(min(float64(numSamples), float64(s.End)+pad))
				next.Start = int(max(0, float64(next.Start)-pad))
			}
		} else {
			s.End = int(min(float64(numSamples), float64(s.End)+pad))
		}
	}
	for i := range segs {
		segs[i].StartS = float64(segs[i].Start) / sr
		segs[i].EndS = float64(segs[i].End) / sr
	}
	return segs, nil
}

// floorDiv is Python's // for ints.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
