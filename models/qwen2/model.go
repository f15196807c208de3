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
	return nn.PreNormGraph(c, p, o)
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
