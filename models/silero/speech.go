package silero

import (
	"context"
	"fmt"

	"github.com/rlx-go/rlx/audio/resample"
	"github.com/rlx-go/rlx/vad"
)

// Result is the outcome of Speech on one clip.
type Result struct {
	// SampleRate is the rate the model ran at (16000 or 8000); segment
	// sample positions are at this rate.
	SampleRate int
	// Samples is the clip's length at SampleRate.
	Samples int
	// Window and Context are the samples per probability and the samples
	// of history the model saw with each window.
	Window, Context int
	// Probabilities holds one speech probability per window; window i
	// covers samples [i·Window, (i+1)·Window).
	Probabilities []float32
	Segments      []vad.Segment
}

// ModelRate is the rate Speech runs the model at for input at sampleRate:
// 8 kHz input uses the model's 8 kHz branch, everything else is resampled
// to 16 kHz.
func (m *Model) ModelRate(sampleRate int) int {
	if sampleRate == 8000 && m.branches[8000] != nil {
		return 8000
	}
	return 16000
}

// Speech finds the speech in a mono clip at any sample rate: it resamples
// to the model's rate when needed (band-limited, see audio/resample), runs
// the detector over the clip and segments the probabilities with o, the
// knobs of silero-vad's get_speech_timestamps.
func (m *Model) Speech(ctx context.Context, samples []float32, sampleRate int, o vad.Options, opts ...DetectorOption) (*Result, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("silero: no audio samples")
	}
	rate := m.ModelRate(sampleRate)
	if rate != sampleRate {
		var err error
		if samples, err = resample.Resample(samples, sampleRate, rate); err != nil {
			return nil, err
		}
	}
	probs, err := m.Probabilities(ctx, samples, rate, opts...)
	if err != nil {
		return nil, err
	}
	br := m.branches[rate]
	segs, err := vad.Segments(probs, len(samples), rate, br.geo.window, o)
	if err != nil {
		return nil, err
	}
	return &Result{SampleRate: rate, Samples: len(samples), Window: br.geo.window, Context: br.geo.context,
		Probabilities: probs, Segments: segs}, nil
}
