package qwen2

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Qwen2/Qwen2.5 config.json.
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	c := &nn.Config{Family: "qwen2", QKVBias: true, RoPELayout: ir.RoPESplitHalf}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.TieEmbeddings = h.Tie(false)
	useWindow := h.UseSlidingWindow != nil && *h.UseSlidingWindow
	if err := h.Layers(c, 1e6, useWindow); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "qwen2.*" metadata.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "qwen2" {
		return nil, fmt.Errorf("qwen2: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "qwen2", QKVBias: true, RoPELayout: ir.RoPESplitHalf, Act: ir.OpSilu}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}
