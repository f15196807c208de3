package qwen3

import (
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Qwen3 config.json (transformers 5's rope_parameters
// or the older top-level rope_theta / rope_scaling; tied embeddings unless
// it says otherwise, rope base 1e6 by default).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	return nn.PlainConfigFromHF(data, nn.Config{Family: "qwen3", QKNorm: true, RoPELayout: ir.RoPESplitHalf}, true, 1e6)
}

// ConfigFromGGUF reads the "qwen3.*" metadata of a GGUF file.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	return nn.PlainConfigFromGGUF(md, nn.Config{Family: "qwen3", QKNorm: true, RoPELayout: ir.RoPESplitHalf, Act: ir.OpSilu})
}
