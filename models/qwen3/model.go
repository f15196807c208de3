// Package qwen3 is the Qwen3 dense decoder family (Qwen3 Technical Report,
// arXiv:2505.09388; Hugging Face transformers models/qwen3/modeling_qwen3.py).
//
// Qwen3 is a pre-norm transformer like Llama with grouped-query attention,
// SwiGLU and rotary positions, plus an RMSNorm over every query and key head
// before the rotation (QK-norm), and no bias on the projections. From
// safetensors (config.json) or GGUF (general.architecture "qwen3").
package qwen3

import (
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// Graph writes the model:
//
//	x = embed(ids)
//	for each layer:  x += attn(rmsnorm(x))   (q/k per-head rmsnorm, rope, GQA)
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
