package gemma2

import (
	"fmt"
	"math"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Gemma 2 config.json: query_pre_attn_scalar, the two
// softcaps, and sliding-window layers (layer_types, or every even layer in
// configs written before it existed).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	if h.HiddenActivation == "" {
		h.HiddenActivation = "gelu_pytorch_tanh"
	}
	c := &nn.Config{Family: "gemma2", RoPELayout: ir.RoPESplitHalf, NormPlusOne: true, PostNorms: true}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	c.TieEmbeddings = h.Tie(true)
	c.AttnSoftcap, c.FinalSoftcap = nn.F64(h.AttnLogitSoftcapping), nn.F64(h.FinalLogitSoftcapping)
	if h.QueryPreAttnScalar > 0 {
		c.AttnScale = 1 / math.Sqrt(h.QueryPreAttnScalar)
	}
	if len(h.LayerTypes) == 0 {
		h.LayerTypes = make([]string, h.NumHiddenLayers)
		for l := range h.LayerTypes {
			h.LayerTypes[l] = "full_attention"
			if l%2 == 0 {
				h.LayerTypes[l] = "sliding_attention"
			}
		}
	}
	if err := h.Layers(c, 10000, true); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "gemma2.*" metadata: even layers slide, norms were
// stored as 1+w by llama.cpp's converter, and the query scale is
// 1/√head_dim (1/√(hidden/heads) for the 27B model, as llama.cpp does).
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "gemma2" {
		return nil, fmt.Errorf("gemma2: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "gemma2", RoPELayout: ir.RoPESplitHalf, Act: ir.OpGeluTanh, TieEmbeddings: true, PostNorms: true}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	c.AttnSoftcap, _ = md.Float64("gemma2.attn_logit_softcapping")
	c.FinalSoftcap, _ = md.Float64("gemma2.final_logit_softcapping")
	c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
	if c.Layers == 46 && c.Heads > 0 {
		c.AttnScale = 1 / math.Sqrt(float64(c.Hidden/c.Heads))
	}
	w, _ := md.Int("gemma2.attention.sliding_window")
	for l := range c.Window {
		if l%2 == 0 {
			c.Window[l] = w
		}
	}
	return c, c.Validate()
}
