package vad

import "fmt"

// Event is a change reported by Stream: speech started or ended at Sample
// (samples at the model's rate since the stream began).
type Event struct {
	Start   bool // true: speech starts; false: speech ends
	Sample  int
	Seconds float64
}

// Stream segments probabilities as they arrive, for live audio. It follows
// silero-vad's VADIterator: speech starts at the first window ≥ Threshold
// (reported SpeechPadMs early) and ends once windows below NegThreshold
// have lasted MinSilenceMs (reported SpeechPadMs after the silence began).
// The other Options need the whole clip and do not apply.
type Stream struct {
	rate, window int
	thr, neg     float64
	minSilence   float64 // samples
	pad          float64 // samples
	pos          int     // samples consumed, including the current window
	triggered    bool
	tempEnd      int // 0: no silence under way (as the reference)
}

// NewStream returns a Stream for windows of window samples at sampleRate.
func NewStream(sampleRate, window int, o Options) (*Stream, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if sampleRate <= 0 || window <= 0 {
		return nil, fmt.Errorf("vad: invalid stream geometry: windows of %d at %d Hz", window, sampleRate)
	}
	neg := o.NegThreshold
	if neg == 0 {
		neg = max(o.Threshold-0.15, 0.01)
	}
	sr := float64(sampleRate)
	return &Stream{rate: sampleRate, window: window, thr: o.Threshold, neg: neg,
		minSilence: sr * o.MinSilenceMs / 1000, pad: sr * o.SpeechPadMs / 1000}, nil
}

// Push takes the probability of the next window and reports an event if
// one happened.
func (s *Stream) Push(p float32) (Event, bool) {
	s.pos += s.window
	v := float64(p)
	if v >= s.thr && s.tempEnd != 0 {
		s.tempEnd = 0
	}
	if v >= s.thr && !s.triggered {
		s.triggered = true
		start := int(max(0, float64(s.pos)-s.pad-float64(s.window)))
		return s.event(true, start), true
	}
	if v < s.neg && s.triggered {
		if s.tempEnd == 0 {
			s.tempEnd = s.pos
		}
		if float64(s.pos-s.tempEnd) < s.minSilence {
			return Event{}, false
		}
		end := int(float64(s.tempEnd) + s.pad - float64(s.window))
		s.tempEnd = 0
		s.triggered = false
		return s.event(false, end), true
	}
	return Event{}, false
}

// InSpeech reports whether the stream is inside a speech segment.
func (s *Stream) InSpeech() bool { return s.triggered }

// Reset starts a new stream at sample 0.
func (s *Stream) Reset() { s.pos, s.triggered, s.tempEnd = 0, false, 0 }

func (s *Stream) event(start bool, sample int) Event {
	return Event{Start: start, Sample: sample, Seconds: float64(sample) / float64(s.rate)}
}
