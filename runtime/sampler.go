package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SamplerOptions choose how the next token is picked from the logits.
// The zero value is greedy decoding.
type SamplerOptions struct {
	// Temperature divides the logits; 0 (or Greedy) picks the argmax.
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probabilities
	// sum to at least P (0 or 1: all).
	TopP float64
	// MinP drops tokens less likely than MinP times the most likely (0: none).
	MinP float64
	// RepetitionPenalty divides positive logits and multiplies negative ones
	// of tokens already seen, as transformers does (0 or 1: none).
	RepetitionPenalty float64
	// PresencePenalty is subtracted once from the logit of every token seen;
	// FrequencyPenalty once per occurrence (OpenAI's definitions).
	PresencePenalty, FrequencyPenalty float64
	// PenaltyWindow is how many of the latest tokens penalties look at
	// (0: all, prompt included).
	PenaltyWindow int
	// Seed makes sampling reproducible: the same seed, model and options
	// give the same tokens.
	Seed uint64
	// Greedy forces argmax decoding whatever Temperature says.
	Greedy bool
}

// Validate reports options out of range.
func (o SamplerOptions) Validate() error {
	switch {
	case o.Temperature < 0 || math.IsNaN(o.Temperature):
		return fmt.Errorf("runtime: temperature %v < 0", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("runtime: top-k %d < 0", o.TopK)
	case o.TopP < 0 || o.TopP > 1 || math.IsNaN(o.TopP):
		return fmt.Errorf("runtime: top-p %v outside [0, 1]", o.TopP)
	case o.MinP < 0 || o.MinP > 1 || math.IsNaN(o.MinP):
		return fmt.Errorf("runtime: min-p %v outside [0, 1]", o.MinP)
	case o.RepetitionPenalty < 0:
		return fmt.Errorf("runtime: repetition penalty %v < 0", o.RepetitionPenalty)
	}
	return nil
}

// Sampler picks tokens. It is not safe for concurrent use.
type Sampler struct {
	o    SamplerOptions
	rng  *rand.Rand
	idx  []int32
	prob []float64
	seen map[int32]int
}

// NewSampler returns a sampler seeded by o.Seed.
func NewSampler(o SamplerOptions) *Sampler {
	return &Sampler{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), seen: map[int32]int{}}
}

// Greedy reports whether the sampler always takes the argmax.
func (s *Sampler) Greedy() bool { return s.o.Greedy || s.o.Temperature == 0 }

// Sample picks the next token from logits (modified in place by the
// penalties) given the tokens so far.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	s.penalize(logits, history)
	if s.Greedy() {
		return ArgMax(logits)
	}
	n := len(logits)
	s.idx = s.idx[:0]
	for i := range n {
		if !math.IsInf(float64(logits[i]), -1) && !math.IsNaN(float64(logits[i])) {
			s.idx = append(s.idx, int32(i))
		}
	}
	if len(s.idx) == 0 {
		return ArgMax(logits)
	}
	// Descending by logit, ties by id, so the order never depends on sort
	// internals.
	slices.SortFunc(s.idx, func(a, b int32) int {
		if logits[a] != logits[b] {
			if logits[a] > logits[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	if k := s.o.TopK; k > 0 && k < len(s.idx) {
		s.idx = s.idx[:k]
	}
	t := s.o.Temperature
	top := float64(logits[s.idx[0]]) / t
	s.prob = s.prob[:0]
	sum := 0.0
	for _, i := range s.idx {
		p := math.Exp(float64(logits[i])/t - top)
		s.prob = append(s.prob, p)
		sum += p
	}
	for i := range s.prob {
		s.prob[i] /= sum
	}
	keep := len(s.idx)
	if mp := s.o.MinP; mp > 0 {
		for keep > 1 && s.prob[keep-1] < mp*s.prob[0] {
			keep--
		}
	}
	if tp := s.o.TopP; tp > 0 && tp < 1 {
		c := 0.0
		for i := range keep {
			c += s.prob[i]
			if c >= tp {
				keep = i + 1
				break
			}
		}
	}
	total := 0.0
	for _, p := range s.prob[:keep] {
		total += p
	}
	r := s.rng.Float64() * total
	for i, p := range s.prob[:keep] {
		r -= p
		if r < 0 {
			return s.idx[i]
		}
	}
	return s.idx[keep-1]
}

func (s *Sampler) penalize(logits []float32, history []int32) {
	o := s.o
	rep := o.RepetitionPenalty != 0 && o.RepetitionPenalty != 1
	if !rep && o.PresencePenalty == 0 && o.FrequencyPenalty == 0 {
		return
	}
	h := history
	if o.PenaltyWindow > 0 && len(h) > o.PenaltyWindow {
		h = h[len(h)-o.PenaltyWindow:]
	}
	clear(s.seen)
	for _, id := range h {
		if id >= 0 && int(id) < len(logits) {
			s.seen[id]++
		}
	}
	for id, n := range s.seen {
		l := logits[id]
		if rep {
			if l > 0 {
				l = float32(float64(l) / o.RepetitionPenalty)
			} else {
				l = float32(float64(l) * o.RepetitionPenalty)
			}
		}
		l -= float32(o.PresencePenalty + o.FrequencyPenalty*float64(n))
		logits[id] = l
	}
}

// ArgMax is the index of the first largest logit.
func ArgMax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] || (math.IsNaN(float64(v)) && !math.IsNaN(float64(x[best]))) {
			best = i
		}
	}
	return int32(best)
}
