package gemma

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Gemma config.json. Gemma's MLP is GeGLU with the
// tanh GELU whatever hidden_act says, unless hidden_activation names
// another.
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	if h.HiddenActivation == "" {
		h.HiddenActivation = "gelu_pytorch_tanh"
	}
	c := &nn.Config{Family: "gemma", RoPELayout: ir.RoPESplitHalf, NormPlusOne: true}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	c.TieEmbeddings = h.Tie(true)
	if err := h.Layers(c, 10000, false); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "gemma.*" metadata. llama.cpp's converter stores
// Gemma's norm weights as 1+w, so they multiply plainly here.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "gemma" {
		return nil, fmt.Errorf("gemma: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "gemma", RoPELayout: ir.RoPESplitHalf, Act: ir.OpGeluTanh, TieEmbeddings: true}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	return c, c.Validate()
}
