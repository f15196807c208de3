// Package gemma2 is the Gemma 2 decoder family (Gemma Team, "Gemma 2:
// Improving Open Language Models at a Practical Size", arXiv:2408.00118;
// Hugging Face transformers models/gemma2/modeling_gemma2.py).
//
// Gemma with norms on both sides of attention and MLP, local sliding-window
// attention on alternating layers, softcapping of attention and final
// logits (c·tanh(x/c)), and queries scaled by query_pre_attn_scalar^-½.
package gemma2

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)·√d
//	for each layer:  x += rmsnorm(attn(rmsnorm(x)))    (local or global, softcapped)
//	                 x += rmsnorm(geglu(rmsnorm(x)))
//	logits = softcap(rmsnorm(x)·embedᵀ)
func Graph(c *nn.Config, p *nn.Params, o nn.GraphOptions) (*ir.Graph, error) {
	return nn.SandwichNormGraph(c, p, o)
}

// Open builds the model over a checkpoint.
func Open(src nn.Source) (*nn.Model, error) {
	c, err := nn.ReadConfig(src, ConfigFromHF, ConfigFromGGUF)
	if err != nil {
		return nil, err
	}
	p := nn.NewParams(src.Weights, Names)
	return nn.NewModel(c, p, Graph), nil
}
