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
