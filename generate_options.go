package rlx

import (
	"fmt"

	"github.com/rlx-go/rlx/runtime"
)

// GenerateOption configures one Generate or Chat call.
type GenerateOption func(*runtime.GenerateOptions)

// MaxTokens caps the new tokens (default 256; 0 runs until a stop or a
// full context).
func MaxTokens(n int) GenerateOption {
	return func(o *runtime.GenerateOptions) { o.MaxTokens = n }
}

// Temperature sets the sampling temperature (0: greedy).
func Temperature(t float64) GenerateOption {
	return func(o *runtime.GenerateOptions) { o.Sampler.Temperature = t }
}

// TopK keeps the k most likely tokens.
func TopK(k int) GenerateOption { return func(o *runtime.GenerateOptions) { o.Sampler.TopK = k } }

// TopP keeps the most likely tokens up to probability mass p.
func TopP(p float64) GenerateOption { return func(o *runtime.GenerateOptions) { o.Sampler.TopP = p } }

// MinP drops tokens below p times the most likely one's probability.
func MinP(p float64) GenerateOption { return func(o *runtime.GenerateOptions) { o.Sampler.MinP = p } }

// Seed makes sampling reproducible.
func Seed(s uint64) GenerateOption { return func(o *runtime.GenerateOptions) { o.Sampler.Seed = s } }

// Greedy always takes the most likely token.
func Greedy() GenerateOption { return func(o *runtime.GenerateOptions) { o.Sampler.Greedy = true } }

// Penalties set the repetition (multiplicative, transformers' definition),
// presence and frequency (additive, OpenAI's definitions) penalties.
func Penalties(repetition, presence, frequency float64) GenerateOption {
	return func(o *runtime.GenerateOptions) {
		o.Sampler.RepetitionPenalty, o.Sampler.PresencePenalty, o.Sampler.FrequencyPenalty = repetition, presence, frequency
	}
}

// Stop ends generation at any of the strings (cut from the text).
func Stop(s ...string) GenerateOption {
	return func(o *runtime.GenerateOptions) { o.StopStrings = append(o.StopStrings, s...) }
}

// StopIDs replaces the model's end-of-generation ids.
func StopIDs(ids ...int32) GenerateOption {
	return func(o *runtime.GenerateOptions) { o.StopIDs = append([]int32{}, ids...) }
}

// IgnoreEOS generates past end-of-generation ids.
func IgnoreEOS() GenerateOption { return func(o *runtime.GenerateOptions) { o.IgnoreEOS = true } }

// OnToken streams tokens to fn as they are generated; an error from fn
// stops generation and is returned.
func OnToken(fn func(runtime.Token) error) GenerateOption {
	return func(o *runtime.GenerateOptions) { o.OnToken = fn }
}

func generateOptions(opts []GenerateOption) (runtime.GenerateOptions, error) {
	o := runtime.GenerateOptions{MaxTokens: 256}
	for _, f := range opts {
		f(&o)
	}
	if o.MaxTokens < 0 {
		return o, fmt.Errorf("rlx: max tokens %d < 0", o.MaxTokens)
	}
	return o, o.Sampler.Validate()
}
