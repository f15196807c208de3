package llama

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Llama config.json (Llama 2/3.x, SmolLM2, Mistral-
// and MiniCPM-shaped Llama configs), with llama3/linear/yarn/dynamic rope
// scaling from rope_parameters or the older rope_theta / rope_scaling.
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	c := &nn.Config{Family: "llama", RoPELayout: ir.RoPESplitHalf, QKVBias: h.AttentionBias}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	if h.MLPBias {
		return nil, fmt.Errorf("llama: config.json: mlp_bias is not supported")
	}
	c.TieEmbeddings = h.Tie(false)
	if err := h.Layers(c, 10000, true); err != nil {
		return nil, err
	}
	// Mistral's sliding_window applies to every layer.
	if h.ModelType == "mistral" && len(h.LayerTypes) == 0 {
		for l := range c.Window {
			c.Window[l] = h.Window()
		}
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "llama.*" metadata. llama.cpp's converter permutes
// the rows of Q and K so that each rotated pair is adjacent (the original
// Llama layout), so GGUF Llama models rotate interleaved pairs; Llama 3's
// frequency scaling comes as the rope_freqs tensor.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "llama" {
		return nil, fmt.Errorf("llama: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "llama", RoPELayout: ir.RoPEInterleaved, Act: ir.OpSilu}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	if c.FFN == 0 {
		return nil, fmt.Errorf("llama: gguf: llama.feed_forward_length is missing")
	}
	return c, c.Validate()
}
