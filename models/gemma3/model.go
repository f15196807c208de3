// Package gemma2 is the Gemma 2 decoder family (Gemma Team, "Gemma 2:
// Improving Open Language Models at a Practical Size", arXiv:2408.00118;
// Hugging Face transformers models/gemma2/modeling_gemma2.py).
//
// Gemma with norms on both sides of attention and MLP, local sliding-window
// attention on alternating layers, softcapping of attention and final
// logits (c·tanh(x/c)), and queries scaled by query_pre_attn_scalar^-½.
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
	d := nn.NewDecoder(c, p, o)
	x := d.Embed()
	d.Hidden(0, x)
	for l := range c.Layers {
		h := d.Attention(l, d.Norm(x, nn.L(l)+"input_layernorm"))
		x = d.Add(x, d.Norm(h, nn.L(l)+"post_attention_layernorm"))
		h = d.MLP(l, d.Norm(x, nn.L(l)+"pre_feedforward_layernorm"))
		x = d.Add(x, d.Norm(h, nn.L(l)+"post_feedforward_layernorm"))
		d.Hidden(l+1, x)
	}
	return d.Head(x)
}

// Open builds the model over a checkpoint.
func Open(src nn.Source) (*nn.Model, error) {
	var c *nn.Config
	var err error
	if src.HFConfig != nil {
		c, err = ConfigFromHF(src.HFConfig)
	} else {
		c, err = ConfigFromGGUF(src.Weights.GGUF())
	}
	if err != nil {
		return nil, err
	}
	p := nn.NewParams(src.Weights, Names)
	// Gemma3ForConditionalGeneration checkpoints keep the text model under
	// model.language_model (transformers ≥ 4.52) or language_model.model.
	p.AlsoUnder("model.language_model.", "language_model.model.")
	return &nn.Model{Config: c, Params: p, Graph: func(o nn.GraphOptions) (*ir.Graph, error) { return Graph(c, p, o) }}, nil
}
