// Package synth writes random-weight GGUF language models with the shapes of
// real ones (Qwen3-0.6B, Llama-3.2-1B, Gemma 2 2B, …) and the metadata
// llama.cpp and rlx need to load them, for benchmarks and tests that must
// not depend on downloads.
//
// Weights are drawn from N(0, 0.02²), norms near 1, so activations stay in a
// realistic range; the values do not change speed. The vocabulary is a
// byte-level BPE one (the 256 byte tokens, a few hundred merges of common
// letter pairs, padding tokens up to the model's vocabulary size and the
// ChatML control tokens), so both rlx and llama.cpp tokenize text with it and
// apply its chat template. Quantized files get llama-quantize's per-tensor
// type mix (package quant/mix).
package synth

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Spec is the shape of a decoder language model.
type Spec struct {
	Arch      string // GGUF general.architecture: qwen3, llama, qwen2, gemma, gemma2, gemma3, qwen3moe
	Name      string // general.name
	Hidden    int
	Layers    int
	Heads     int
	KVHeads   int
	HeadDim   int
	FFN       int
	Vocab     int
	Context   int
	RopeTheta float64
	RMSEps    float64
	// Tied models have no output.weight: the output matrix is token_embd.
	Tied bool
	// QKNorm adds per-head RMSNorm weights on queries and keys (Qwen3, Gemma 3).
	QKNorm bool
	// QKVBias adds biases to the q, k and v projections (Qwen2).
	QKVBias bool
	// PostNorms adds the norms after attention and the FFN (Gemma 2 and 3).
	PostNorms bool
	// Llama3Rope, when set, stores Llama 3's rope scaling as rope_freqs.weight.
	Llama3Rope *Llama3Rope
	// SlidingWindow of the local attention layers (Gemma 2 and 3); 0: none.
	SlidingWindow int
	// AttnSoftcap and FinalSoftcap are Gemma 2's logit soft caps; 0: none.
	AttnSoftcap, FinalSoftcap float64
	// Experts, ExpertsUsed and ExpertFFN describe a mixture-of-experts FFN
	// (Qwen3-MoE); Experts 0 means a dense FFN.
	Experts, ExpertsUsed, ExpertFFN int
	// AddBOS is tokenizer.ggml.add_bos_token.
	AddBOS bool
}

// Llama3Rope is Llama 3's rope frequency scaling.
type Llama3Rope struct {
	Factor, LowFreqFactor, HighFreqFactor float64
	OriginalContext                       int
}

// Archs are the architectures Preset knows.
var Archs = []string{"qwen3", "llama", "qwen2", "gemma", "gemma2", "gemma3", "qwen3moe"}

// tiny is a two-layer model of every architecture, small enough for tests
// and large enough for every quantization type (rows of 256).
func tiny(arch string) Spec {
	s := Spec{
		Arch: arch, Name: "tiny " + arch + " (random weights)",
		Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64, FFN: 512, Vocab: 512,
		Context: 2048, RopeTheta: 1e6, RMSEps: 1e-6, Tied: true,
	}
	switch arch {
	case "qwen3":
		s.QKNorm = true
	case "llama":
		s.RopeTheta, s.RMSEps, s.AddBOS = 500000, 1e-5, true
		s.Llama3Rope = &Llama3Rope{Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192}
	case "qwen2":
		s.QKVBias = true
	case "gemma":
		s.RopeTheta, s.AddBOS = 10000, true
	case "gemma2":
		s.RopeTheta, s.AddBOS, s.PostNorms = 10000, true, true
		s.SlidingWindow, s.AttnSoftcap, s.FinalSoftcap = 8, 50, 30
	case "gemma3":
		s.AddBOS, s.PostNorms, s.QKNorm, s.SlidingWindow = true, true, true, 8
	case "qwen3moe":
		s.QKNorm, s.Tied = true, false
		s.Experts, s.ExpertsUsed, s.ExpertFFN = 4, 2, 256
	}
	return s
}

// presets hold the real models' shapes (from their config.json files).
var presets = map[string]map[string]func() Spec{
	"qwen3": {
		"0.6b": shape{"Qwen3-0.6B", 1024, 28, 16, 8, 128, 3072, 151936, 40960}.of("qwen3", nil),
		"1.7b": shape{"Qwen3-1.7B", 2048, 28, 16, 8, 128, 6144, 151936, 40960}.of("qwen3", nil),
	},
	"llama": {
		"1b": shape{"Llama-3.2-1B", 2048, 16, 32, 8, 64, 8192, 128256, 131072}.of("llama", nil),
		"3b": shape{"Llama-3.2-3B", 3072, 28, 24, 8, 128, 8192, 128256, 131072}.of("llama", nil),
	},
	"qwen2": {
		"0.5b": shape{"Qwen2.5-0.5B", 896, 24, 14, 2, 64, 4864, 151936, 32768}.of("qwen2", nil),
	},
	"gemma": {
		"2b": shape{"Gemma-2B", 2048, 18, 8, 1, 256, 16384, 256000, 8192}.of("gemma", nil),
	},
	"gemma2": {
		"2b": shape{"Gemma-2-2B", 2304, 26, 8, 4, 256, 9216, 256000, 8192}.of("gemma2", func(s *Spec) { s.SlidingWindow = 4096 }),
	},
	"gemma3": {
		"1b": shape{"Gemma-3-1B", 1152, 26, 4, 1, 256, 6912, 262144, 32768}.of("gemma3", func(s *Spec) { s.SlidingWindow = 512 }),
	},
	"qwen3moe": {
		// Qwen3-30B-A3B's layer shape with fewer layers and experts, so
		// it fits a laptop: a benchmark of the MoE path, not the model.
		"small": shape{"Qwen3-MoE small", 2048, 4, 32, 4, 128, 6144, 151936, 40960}.of("qwen3moe", func(s *Spec) {
			s.Experts, s.ExpertsUsed, s.ExpertFFN = 32, 8, 768
		}),
	},
}

// shape is a real model's geometry, in the order of Spec's fields.
type shape struct {
	name                                                         string
	hidden, layers, heads, kvHeads, headDim, ffn, vocab, context int
}

// of returns the preset of arch in this shape: the tiny model's features
// (norms, biases, rope, soft caps) at the real model's size, then edit's
// changes (nil: none).
func (g shape) of(arch string, edit func(*Spec)) func() Spec {
	return func() Spec {
		s := tiny(arch)
		s.Name = g.name + " (random weights)"
		s.Hidden, s.Layers, s.Heads, s.KVHeads, s.HeadDim = g.hidden, g.layers, g.heads, g.kvHeads, g.headDim
		s.FFN, s.Vocab, s.Context = g.ffn, g.vocab, g.context
		if edit != nil {
			edit(&s)
		}
		return s
	}
}

// Presets lists the preset names of arch, "tiny" first.
func Presets(arch string) []string {
	names := []string{"tiny"}
	var rest []string
	for n := range presets[arch] {
		rest = append(rest, n)
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// Preset returns the shape of a named model of arch ("tiny" exists for
// every architecture).
func Preset(arch, name string) (Spec, error) {
	arch = strings.ToLower(arch)
	if !slices.Contains(Archs, arch) {
		return Spec{}, fmt.Errorf("synth: unknown architecture %q (have %s)", arch, strings.Join(Archs, ", "))
	}
	name = strings.ToLower(name)
	if name == "tiny" {
		return tiny(arch), nil
	}
	if f, ok := presets[arch][name]; ok {
		return f(), nil
	}
	return Spec{}, fmt.Errorf("synth: %s has no preset %q (have %s)", arch, name, strings.Join(Presets(arch), ", "))
}

// Validate checks that the shape is consistent.
func (s Spec) Validate() error {
	if !slices.Contains(Archs, s.Arch) {
		return fmt.Errorf("synth: unknown architecture %q", s.Arch)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"hidden", s.Hidden}, {"layers", s.Layers}, {"heads", s.Heads}, {"kv heads", s.KVHeads},
		{"head dim", s.HeadDim}, {"ffn", s.FFN}, {"context", s.Context}} {
		if v.n <= 0 {
			return fmt.Errorf("synth: %s must be positive (got %d)", v.name, v.n)
		}
	}
	if s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("synth: %d heads do not divide into %d kv heads", s.Heads, s.KVHeads)
	}
	if s.Vocab < minVocab {
		return fmt.Errorf("synth: vocabulary of %d is below the %d byte and control tokens", s.Vocab, minVocab)
	}
	if s.HeadDim%2 != 0 {
		return fmt.Errorf("synth: head dim %d is odd (rope needs pairs)", s.HeadDim)
	}
	if s.Arch == "qwen3moe" && (s.Experts <= 0 || s.ExpertsUsed <= 0 || s.ExpertsUsed > s.Experts || s.ExpertFFN <= 0) {
		return fmt.Errorf("synth: qwen3moe needs experts (got %d, %d used, ffn %d)", s.Experts, s.ExpertsUsed, s.ExpertFFN)
	}
	return nil
}

// Params is the number of weights (every tensor's elements).
func (s Spec) Params() int64 {
	var n int64
	for _, t := range s.tensors() {
		e := int64(1)
		for _, d := range t.dims {
			e *= int64(d)
		}
		n += e
	}
	return n
}
