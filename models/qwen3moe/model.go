// Package qwen3moe is the Qwen3 mixture-of-experts decoder family (Qwen3
// Technical Report, arXiv:2505.09388; Hugging Face transformers
// models/qwen3_moe/modeling_qwen3_moe.py), e.g. Qwen3-30B-A3B.
//
// Qwen3's attention (QK-norm, GQA, rope) with the MLP replaced by routed
// experts: a softmax router over E experts keeps the top k per token
// (renormalised when norm_topk_prob), each expert a SwiGLU MLP.
package qwen3moe

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)
//	for each layer:  x += attn(rmsnorm(x))             (q/k norms, rope, GQA)
//	                 x += Σ_topk r_e·swiglu_e(rmsnorm(x))
//	logits = head(rmsnorm(x))
func Graph(c *nn.Config, p *nn.Params, o nn.GraphOptions) (*ir.Graph, error) {
	d := nn.NewDecoder(c, p, o)
	x := d.Embed()
	d.Hidden(0, x)
	for l := range c.Layers {
		x = d.Add(x, d.Attention(l, d.Norm(x, nn.L(l)+"input_layernorm")))
		h := d.Norm(x, nn.L(l)+"post_attention_layernorm")
		if c.DenseLayers[l] {
			x = d.Add(x, d.MLP(l, h))
		} else {
			x = d.Add(x, d.MoE(l, h))
		}
		d.Hidden(l+1, x)
	}
	return d.Head(x)
}

// Open builds the model over a checkpoint.
func Open(src nn.Source) (*nn.Model, error) {
	c, err := nn.ReadConfig(src, ConfigFromHF, ConfigFromGGUF)
	if err != nil {
		return nil, err
	}
	p := nn.NewParams(src.Weights, Names)
	if err := splitExperts(c, p); err != nil {
		return nil, err
	}
	return nn.NewModel(c, p, Graph), nil
}
