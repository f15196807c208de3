// Package gemma is the Gemma (1) decoder family (Gemma Team, "Gemma: Open
// Models Based on Gemini Research and Technology", arXiv:2403.08295; Hugging
// Face transformers models/gemma/modeling_gemma.py).
//
// Llama-shaped, with the embeddings scaled by √hidden, RMSNorms that scale
// by (1+w), a GeGLU MLP (tanh GELU) and tied embeddings; the 2B model uses
// multi-query attention.
package gemma

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)·√d
//	for each layer:  x += attn(rmsnorm₁₊w(x))   (rope, GQA/MQA)
//	                 x += geglu(rmsnorm₁₊w(x))
//	logits = rmsnorm₁₊w(x)·embedᵀ
func Graph(c *nn.Config, p *nn.Params, o nn.GraphOptions) (*ir.Graph, error) {
	d := nn.NewDecoder(c, p, o)
	x := d.Embed()
	d.Hidden(0, x)
	for l := range c.Layers {
		x = d.Add(x, d.Attention(l, d.Norm(x, nn.L(l)+"input_layernorm")))
		x = d.Add(x, d.MLP(l, d.Norm(x, nn.L(l)+"post_attention_layernorm")))
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
	return &nn.Model{Config: c, Params: p, Graph: func(o nn.GraphOptions) (*ir.Graph, error) { return Graph(c, p, o) }}, nil
}
