package qwen2

import (
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Qwen2/Qwen2.5 config.json (untied embeddings unless
// it says otherwise, rope base 1e6 by default).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	return nn.PlainConfigFromHF(data, nn.Config{Family: "qwen2", QKVBias: true, RoPELayout: ir.RoPESplitHalf}, false, 1e6)
}

// ConfigFromGGUF reads "qwen2.*" metadata.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	return nn.PlainConfigFromGGUF(md, nn.Config{Family: "qwen2", QKVBias: true, RoPELayout: ir.RoPESplitHalf, Act: ir.OpSilu})
}
