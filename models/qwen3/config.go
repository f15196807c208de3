package qwen3

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Qwen3 config.json (transformers 5's rope_parameters
// or the older top-level rope_theta / rope_scaling).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	c := &nn.Config{Family: "qwen3", QKNorm: true, RoPELayout: ir.RoPESplitHalf}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.TieEmbeddings = h.Tie(true)
	useWindow := h.UseSlidingWindow != nil && *h.UseSlidingWindow
	if err := h.Layers(c, 1e6, useWindow); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads the "qwen3.*" metadata of a GGUF file.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "qwen3" {
		return nil, fmt.Errorf("qwen3: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "qwen3", QKNorm: true, RoPELayout: ir.RoPESplitHalf, Act: ir.OpSilu}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}
