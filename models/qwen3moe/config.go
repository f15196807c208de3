package qwen3moe

import (
	"fmt"
	"slices"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Qwen3-MoE config.json: num_experts (num_local_experts
// in transformers 5), num_experts_per_tok, moe_intermediate_size,
// norm_topk_prob, and which layers are sparse (decoder_sparse_step,
// mlp_only_layers).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	c := &nn.Config{Family: "qwen3moe", QKNorm: true, RoPELayout: ir.RoPESplitHalf}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.TieEmbeddings = h.Tie(false)
	c.Experts = h.NumExperts
	if c.Experts == 0 {
		c.Experts = h.NumLocalExperts
	}
	c.ExpertsUsed, c.ExpertFFN, c.NormTopK = h.NumExpertsPerTok, h.MoEIntermediateSize, h.NormTopKProb
	step := max(h.DecoderSparseStep, 1)
	c.DenseLayers = make([]bool, c.Layers)
	for l := range c.DenseLayers {
		c.DenseLayers[l] = slices.Contains(h.MLPOnlyLayers, l) || (l+1)%step != 0
	}
	useWindow := h.UseSlidingWindow != nil && *h.UseSlidingWindow
	if err := h.Layers(c, 1e6, useWindow); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "qwen3moe.*" metadata (llama.cpp always renormalises
// the selected experts' weights for this architecture).
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "qwen3moe" {
		return nil, fmt.Errorf("qwen3moe: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "qwen3moe", QKNorm: true, RoPELayout: ir.RoPESplitHalf, Act: ir.OpSilu, NormTopK: true}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	c.Experts, _ = md.Int("qwen3moe.expert_count")
	c.ExpertsUsed, _ = md.Int("qwen3moe.expert_used_count")
	c.ExpertFFN, _ = md.Int("qwen3moe.expert_feed_forward_length")
	c.DenseLayers = make([]bool, c.Layers)
	return c, c.Validate()
}
