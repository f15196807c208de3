// Package rope computes rotary position embedding frequencies exactly as
// Hugging Face transformers does for each rope_type (default, linear, llama3,
// yarn, dynamic, longrope). It is model math shared by the model families and the
// kernels tests, and depends on nothing else in rlx.
package rope

import (
	"errors"
	"fmt"
	"math"
)

// Scaling describes how rotary frequencies are computed, mirroring the
// rope_type values of Hugging Face configs ("rope_parameters", formerly
// "rope_scaling").
type Scaling struct {
	Type  string  // "default" (or ""), "linear", "llama3", "yarn", "dynamic", "longrope"
	Theta float64 // rope_theta (base)
	// Dim is the rotary dimension: head_dim × partial_rotary_factor, truncated.
	Dim    int
	Factor float64 // linear, llama3, yarn, dynamic

	// llama3
	LowFreqFactor  float64
	HighFreqFactor float64
	// OriginalMaxPos is original_max_position_embeddings (llama3, yarn;
	// yarn falls back to MaxPos when 0).
	OriginalMaxPos int
	// MaxPos is max_position_embeddings (yarn, dynamic).
	MaxPos int

	// yarn
	AttentionFactor float64 // 0: derived from Factor (and MScale/MScaleAllDim)
	BetaFast        float64 // 0 means 32
	BetaSlow        float64 // 0 means 1
	MScale          float64
	MScaleAllDim    float64
	NoTruncate      bool // yarn "truncate": false keeps the correction range fractional
	// FactorFromMaxPos replaces Factor with MaxPos/OriginalMaxPos, as Hugging
	// Face does when the config names original_max_position_embeddings.
	FactorFromMaxPos bool

	// Longrope holds longrope's factors (Phi-3, MiniCPM 4). AttentionFactor
	// (0: derived) multiplies cos and sin as for yarn; the scale that
	// derives it is MaxPos/OriginalMaxPos when OriginalMaxPos is set, else
	// Factor. A pointer keeps Scaling comparable.
	Longrope *Longrope
}

// Longrope is the per-frequency divisors of longrope scaling, Dim/2 each:
// Short while the sequence fits the original context, Long beyond it.
type Longrope struct {
	Short, Long []float64
}

// ErrScaling reports an unknown or inconsistent rope configuration.
var ErrScaling = errors.New("rope scaling")

// InvFreq returns the Dim/2 inverse frequencies and the attention factor
// (the cos/sin multiplier; 1 except for yarn and longrope) for the
// configuration. seqLen matters only for "dynamic" (0: MaxPos) and
// "longrope" (the long factors once seqLen exceeds the original context;
// 0: the short ones). The arithmetic repeats Hugging
// Face's float32 tensor operations (and its Python float64 scalar ones) step by
// step, so the results match its rope_init functions to the last bit or
// within one ulp where pow/cos implementations differ.
func InvFreq(s Scaling, seqLen int) ([]float32, float64, error) {
	if s.Dim <= 0 || s.Dim%2 != 0 {
		return nil, 0, fmt.Errorf("%w: rotary dimension %d must be positive and even", ErrScaling, s.Dim)
	}
	if !(s.Theta > 0) {
		return nil, 0, fmt.Errorf("%w: rope_theta %v must be positive", ErrScaling, s.Theta)
	}
	switch s.Type {
	case "", "default":
		return defaultInvFreq(s.Theta, s.Dim), 1, nil
	case "linear":
		if !(s.Factor > 0) {
			return nil, 0, fmt.Errorf("%w: linear factor %v must be positive", ErrScaling, s.Factor)
		}
		f := defaultInvFreq(s.Theta, s.Dim)
		fac := float32(s.Factor)
		for i := range f {
			f[i] /= fac
		}
		return f, 1, nil
	case "llama3":
		return llama3InvFreq(s)
	case "yarn":
		return yarnInvFreq(s)
	case "longrope":
		return longropeInvFreq(s, seqLen)
	case "dynamic":
		if !(s.Factor > 0) || s.MaxPos <= 0 {
			return nil, 0, fmt.Errorf("%w: dynamic needs factor > 0 and max_position_embeddings", ErrScaling)
		}
		if seqLen <= s.MaxPos {
			seqLen = s.MaxPos
		}
		d := float64(s.Dim)
		base := s.Theta * math.Pow(s.Factor*float64(seqLen)/float64(s.MaxPos)-(s.Factor-1), d/(d-2))
		return defaultInvFreq(base, s.Dim), 1, nil
	}
	return nil, 0, fmt.Errorf("%w: unsupported rope_type %q", ErrScaling, s.Type)
}

// defaultInvFreq is 1/base^(2i/dim) in float32 arithmetic: the exponent
// float32(2i)/float32(dim), the power rounded to float32, then the reciprocal.
func defaultInvFreq(base float64, dim int) []float32 {
	out := make([]float32, dim/2)
	b := float64(float32(base))
	for i := range out {
		e := float32(2*i) / float32(dim)
		p := float32(math.Pow(b, float64(e)))
		out[i] = 1 / p
	}
	return out
}

func llama3InvFreq(s Scaling) ([]float32, float64, error) {
	if !(s.Factor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPos <= 0 {
		return nil, 0, fmt.Errorf("%w: llama3 needs factor > 0, high_freq_factor > low_freq_factor and original_max_position_embeddings", ErrScaling)
	}
	f := defaultInvFreq(s.Theta, s.Dim)
	old := float64(s.OriginalMaxPos)
	// PyTorch compares the float32 tensor with the Python floats in float32.
	lowWavelen := float32(old / s.LowFreqFactor)
	highWavelen := float32(old / s.HighFreqFactor)
	fac := float32(s.Factor)
	for i, w := range f {
		wavelen := float32(2*math.Pi) / w
		scaled := w
		if wavelen > lowWavelen {
			scaled = w / fac
		}
		if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
			smooth := (float32(old)/wavelen - float32(s.LowFreqFactor)) / float32(s.HighFreqFactor-s.LowFreqFactor)
			scaled = float32((1-smooth)*scaled)/fac + float32(smooth*scaled)
		}
		f[i] = scaled
	}
	return f, 1, nil
}

func yarnMScale(scale, m float64) float64 {
	if scale <= 1 {
		return 1
	}
	return 0.1*m*math.Log(scale) + 1
}

func yarnInvFreq(s Scaling) ([]float32, float64, error) {
	factor := s.Factor
	orig := s.OriginalMaxPos
	if orig == 0 {
		orig = s.MaxPos
	}
	if s.FactorFromMaxPos && orig > 0 && s.MaxPos > 0 {
		factor = float64(s.MaxPos) / float64(orig)
	}
	if !(factor > 0) || orig <= 0 {
		return nil, 0, fmt.Errorf("%w: yarn needs factor > 0 and (original_)max_position_embeddings", ErrScaling)
	}
	att := s.AttentionFactor
	if att == 0 {
		if s.MScale != 0 && s.MScaleAllDim != 0 {
			att = yarnMScale(factor, s.MScale) / yarnMScale(factor, s.MScaleAllDim)
		} else {
			att = yarnMScale(factor, 1)
		}
	}
	betaFast, betaSlow := s.BetaFast, s.BetaSlow
	if betaFast == 0 {
		betaFast = 32
	}
	if betaSlow == 0 {
		betaSlow = 1
	}
	dim := float64(s.Dim)
	corr := func(rot float64) float64 {
		return dim * math.Log(float64(orig)/(rot*2*math.Pi)) / (2 * math.Log(s.Theta))
	}
	lo, hi := corr(betaFast), corr(betaSlow)
	if !s.NoTruncate {
		lo, hi = math.Floor(lo), math.Ceil(hi)
	}
	lo, hi = max(lo, 0), min(hi, dim-1)
	if lo == hi {
		hi += 0.001
	}
	half := s.Dim / 2
	out := make([]float32, half)
	b := float64(float32(s.Theta))
	fac := float32(factor)
	lo32, span := float32(lo), float32(hi-lo)
	for i := range out {
		pos := float32(math.Pow(b, float64(float32(2*i)/float32(s.Dim))))
		extra := 1 / pos
		inter := 1 / (fac * pos)
		ramp := min(max((float32(i)-lo32)/span, 0), 1)
		ef := 1 - ramp // extrapolation weight
		out[i] = float32(inter*(1-ef)) + float32(extra*ef)
	}
	return out, att, nil
}

// longropeInvFreq divides each default frequency by its short or long
// factor: 1/(factor·base^(2i/dim)) in float32, the product rounded first,
// as transformers computes it. The attention factor defaults to
// √(1 + ln(scale)/ln(original context)) for a scale above 1, else 1.
func longropeInvFreq(s Scaling, seqLen int) ([]float32, float64, error) {
	half := s.Dim / 2
	lr := s.Longrope
	if lr == nil {
		lr = &Longrope{}
	}
	if len(lr.Short) != half || len(lr.Long) != half {
		return nil, 0, fmt.Errorf("%w: longrope needs %d short and long factors (rotary dimension %d), have %d and %d",
			ErrScaling, half, s.Dim, len(lr.Short), len(lr.Long))
	}
	orig, scale := s.OriginalMaxPos, s.Factor
	switch {
	case orig > 0 && s.MaxPos > 0:
		scale = float64(s.MaxPos) / float64(orig)
	case orig == 0:
		orig = s.MaxPos
	}
	if orig <= 0 {
		return nil, 0, fmt.Errorf("%w: longrope needs (original_)max_position_embeddings", ErrScaling)
	}
	att := s.AttentionFactor
	if att == 0 {
		att = 1
		if scale > 1 {
			att = math.Sqrt(1 + math.Log(scale)/math.Log(float64(orig)))
		}
	}
	ext := lr.Short
	if seqLen > orig {
		ext = lr.Long
	}
	out := make([]float32, half)
	b := float64(float32(s.Theta))
	for i := range out {
		f := float32(ext[i])
		if !(f > 0) || math.IsInf(float64(f), 0) {
			return nil, 0, fmt.Errorf("%w: longrope factor %d is %v", ErrScaling, i, ext[i])
		}
		p := float32(math.Pow(b, float64(float32(2*i)/float32(s.Dim))))
		out[i] = 1 / (f * p)
	}
	return out, att, nil
}
