// Package llama is the Llama decoder family (Touvron et al., "LLaMA: Open
// and Efficient Foundation Language Models", arXiv:2302.13971, and "The
// Llama 3 Herd of Models", arXiv:2407.21783; Hugging Face transformers
// models/llama/modeling_llama.py). It also runs Llama-shaped checkpoints:
// SmolLM2 and Mistral-style configs.
//
// A pre-norm transformer: RMSNorm, grouped-query attention with rotary
// positions (Llama 3.x scales the low frequencies: "llama3" rope), SwiGLU.
package llama

import (
	"fmt"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/rope"
	"github.com/rlx-go/rlx/weights"
)

// Graph writes the model:
//
//	x = embed(ids)                          (× EmbedScale: MiniCPM)
//	for each layer:  x += attn(rmsnorm(x))   (rope, GQA; × ResidualScale: MiniCPM)
//	                 x += swiglu(rmsnorm(x))
//	logits = head(rmsnorm(x))               (÷ LogitScale first: MiniCPM)
func Graph(c *nn.Config, p *nn.Params, o nn.GraphOptions) (*ir.Graph, error) {
	return nn.PreNormGraph(c, p, o)
}

// Open builds the model over a checkpoint.
func Open(src nn.Source) (*nn.Model, error) {
	c, err := nn.ReadConfig(src, ConfigFromHF, ConfigFromGGUF)
	if err != nil {
		return nil, err
	}
	if src.HFConfig == nil {
		if err := ggufLongrope(c, src.Weights); err != nil {
			return nil, err
		}
	}
	p := nn.NewParams(src.Weights, Names)
	return nn.NewModel(c, p, Graph), nil
}

// ggufLongrope reads the per-frequency divisors llama.cpp's converter
// stores for longrope models (rope_factors_short/long.weight).
func ggufLongrope(c *nn.Config, w *weights.Map) error {
	if len(c.RoPE) == 0 || c.RoPE[0].Type != "longrope" {
		return nil
	}
	var lists [2][]float64
	for i, name := range []string{"rope_factors_short.weight", "rope_factors_long.weight"} {
		f, err := w.Float32(name)
		if err != nil {
			return fmt.Errorf("llama: longrope: %w", err)
		}
		if len(f) != c.RoPE[0].Dim/2 {
			return fmt.Errorf("llama: longrope: %s has %d values for rotary dimension %d", name, len(f), c.RoPE[0].Dim)
		}
		lists[i] = make([]float64, len(f))
		for j, v := range f {
			lists[i][j] = float64(v)
		}
	}
	lr := &rope.Longrope{Short: lists[0], Long: lists[1]}
	for l := range c.RoPE {
		c.RoPE[l].Longrope = lr
	}
	return nil
}
