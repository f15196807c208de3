// Package qwen2 is the Qwen2 and Qwen2.5 decoder family (Qwen2 Technical Report,
// arXiv:2407.10671; Hugging Face transformers models/qwen2/modeling_qwen2.py).
//
// Llama-shaped (RMSNorm, GQA with rotary positions, SwiGLU) with biases on
// the query, key and value projections.
package qwen2

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)
//	for each layer:  x += attn(rmsnorm(x))   (q/k/v biases, rope, GQA)
//	                 x += swiglu(rmsnorm(x))
//	logits = head(rmsnorm(x))
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
