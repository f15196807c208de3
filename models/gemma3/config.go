package gemma3

import (
	"fmt"
	"math"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// ConfigFromHF reads a Gemma 3 text config.json (model_type gemma3_text,
// or the text_config of a gemma3 checkpoint): local and global layers with
// their own rope parameters (rope_parameters keyed by layer type, or the
// older rope_local_base_freq / rope_theta / rope_scaling), and the layer
// pattern (layer_types or sliding_window_pattern).
func ConfigFromHF(data []byte) (*nn.Config, error) {
	h, err := nn.ParseHF(data)
	if err != nil {
		return nil, err
	}
	if h.HiddenActivation == "" {
		h.HiddenActivation = "gelu_pytorch_tanh"
	}
	c := &nn.Config{Family: "gemma3", RoPELayout: ir.RoPESplitHalf, NormPlusOne: true, PostNorms: true, QKNorm: true}
	if err := h.Common(c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	c.TieEmbeddings = h.Tie(true)
	c.AttnSoftcap, c.FinalSoftcap = nn.F64(h.AttnLogitSoftcapping), nn.F64(h.FinalLogitSoftcapping)
	if h.QueryPreAttnScalar > 0 {
		c.AttnScale = 1 / math.Sqrt(h.QueryPreAttnScalar)
	}
	if len(h.LayerTypes) == 0 && h.SlidingWindowPattern == 0 && h.SlidingWindowPattern2 == 0 {
		h.SlidingWindowPattern = 6
	}
	if err := h.Layers(c, 1e6, true); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ConfigFromGGUF reads "gemma3.*" metadata as llama.cpp does: every
// sliding_window_pattern-th layer (6 by default) is global with the file's
// rope base and scaling, the others are local with base 10000 and no
// scaling; norms were stored as 1+w by the converter.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	if a := md.Arch(); a != "gemma3" {
		return nil, fmt.Errorf("gemma3: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "gemma3", RoPELayout: ir.RoPESplitHalf, Act: ir.OpGeluTanh, TieEmbeddings: true, PostNorms: true, QKNorm: true}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	c.EmbedScale = nn.SqrtHidden(c)
	c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
	if c.Layers == 62 && c.Heads > 0 {
		c.AttnScale = 1 / math.Sqrt(float64(c.Hidden/c.Heads))
	}
	w, _ := md.Int("gemma3.attention.sliding_window")
	pat := 6
	if v, ok := md.Int("gemma3.attention.sliding_window_pattern"); ok && v > 0 {
		pat = v
	}
	for l := range c.Window {
		if (l+1)%pat != 0 {
			c.Window[l] = w
			c.RoPE[l].Theta, c.RoPE[l].Type, c.RoPE[l].Factor = 10000, "default", 0
		}
	}
	return c, c.Validate()
}
