// Package gemma3 is the text decoder of the Gemma 3 family (Gemma Team,
// "Gemma 3 Technical Report", arXiv:2503.19786; Hugging Face transformers
// models/gemma3/modeling_gemma3.py).
//
// Gemma 2's norms on both sides of attention and MLP, plus an RMSNorm over
// every query and key head (QK-norm), and local sliding-window layers
// (with their own rope base) between the global ones, five to one by
// default.
package gemma3

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)·√d
//	for each layer:  x += rmsnorm(attn(rmsnorm(x)))    (q/k norms; local or global rope)
//	                 x += rmsnorm(geglu(rmsnorm(x)))
//	logits = rmsnorm(x)·embedᵀ
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
	// Gemma3ForConditionalGeneration checkpoints keep the text model under
	// model.language_model (transformers ≥ 4.52) or language_model.model.
	p.AlsoUnder("model.language_model.", "language_model.model.")
	return nn.NewModel(c, p, Graph), nil
}
