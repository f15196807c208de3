package llama

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/rope"
)

// ConfigFromHF reads a Llama config.json (Llama 2/3.x, SmolLM2, Mistral-
// and MiniCPM-shaped Llama configs), with llama3/linear/yarn/dynamic/
// longrope rope scaling from rope_parameters or the older rope_theta /
// rope_scaling. MiniCPM's scale_emb, scale_depth and dim_model_base
// become the embedding, residual and logit scales.
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
	var x hfExtra
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("llama: config.json: %w", err)
	}
	c.TieEmbeddings = h.Tie(h.ModelType == "minicpm")
	if err := h.Layers(c, 10000, true); err != nil {
		return nil, err
	}
	// Mistral's sliding_window applies to every layer.
	if h.ModelType == "mistral" && len(h.LayerTypes) == 0 {
		for l := range c.Window {
			c.Window[l] = h.Window()
		}
	}
	if err := x.longrope(c); err != nil {
		return nil, err
	}
	if err := x.miniCPM(c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// hfExtra is what config.json holds beyond nn.HFConfig: longrope's factor
// lists and MiniCPM's scales.
type hfExtra struct {
	RoPEParameters json.RawMessage `json:"rope_parameters"`
	RoPEScaling    json.RawMessage `json:"rope_scaling"`
	// Phi-3 keeps original_max_position_embeddings beside
	// max_position_embeddings; MiniCPM inside rope_scaling.
	OriginalMaxPos int      `json:"original_max_position_embeddings"`
	ScaleEmb       *float64 `json:"scale_emb"`
	ScaleDepth     *float64 `json:"scale_depth"`
	DimModelBase   *float64 `json:"dim_model_base"`
}

type longropeParams struct {
	Short []float64 `json:"short_factor"`
	Long  []float64 `json:"long_factor"`
}

// longrope gives longrope layers their factor lists (and the original
// context length when only the top level names it).
func (x *hfExtra) longrope(c *nn.Config) error {
	uses := false
	for _, r := range c.RoPE {
		uses = uses || r.Type == "longrope"
	}
	if !uses {
		return nil
	}
	var p longropeParams
	raw := x.RoPEParameters
	if len(raw) == 0 || string(raw) == "null" {
		raw = x.RoPEScaling
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("llama: config.json: longrope factors: %w", err)
	}
	if len(p.Short) == 0 {
		// transformers 5 may key rope_parameters by layer type.
		var byType map[string]json.RawMessage
		if json.Unmarshal(raw, &byType) == nil && len(byType["full_attention"]) > 0 {
			if err := json.Unmarshal(byType["full_attention"], &p); err != nil {
				return fmt.Errorf("llama: config.json: longrope factors: %w", err)
			}
		}
	}
	lr := &rope.Longrope{Short: p.Short, Long: p.Long}
	for l := range c.RoPE {
		r := &c.RoPE[l]
		if r.Type != "longrope" {
			continue
		}
		r.Longrope = lr
		if r.OriginalMaxPos == 0 {
			r.OriginalMaxPos = x.OriginalMaxPos
		}
		if len(p.Short) != r.Dim/2 || len(p.Long) != r.Dim/2 {
			return fmt.Errorf("llama: config.json: longrope has %d short and %d long factors, want %d (rotary dimension %d)",
				len(p.Short), len(p.Long), r.Dim/2, r.Dim)
		}
	}
	return nil
}

// miniCPM sets MiniCPM's scales: embeddings × scale_emb, each sublayer's
// output × scale_depth/√layers, the final hidden state ÷
// (hidden_size/dim_model_base) before the head.
func (x *hfExtra) miniCPM(c *nn.Config) error {
	if x.ScaleEmb != nil {
		c.EmbedScale = *x.ScaleEmb
	}
	if x.ScaleDepth != nil {
		c.ResidualScale = *x.ScaleDepth / math.Sqrt(float64(c.Layers))
	}
	if x.DimModelBase != nil {
		if !(*x.DimModelBase > 0) {
			return fmt.Errorf("llama: config.json: dim_model_base %v must be positive", *x.DimModelBase)
		}
		c.LogitScale = float64(c.Hidden) / *x.DimModelBase
	}
	for _, v := range []float64{c.EmbedScale, c.ResidualScale, c.LogitScale} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("llama: config.json: MiniCPM scale %v", v)
		}
	}
	return nil
}

// ConfigFromGGUF reads "llama.*" or "minicpm.*" metadata. llama.cpp's
// converter permutes the rows of Q and K so that each rotated pair is
// adjacent (the original Llama layout), so GGUF Llama models rotate
// interleaved pairs; Llama 3's frequency scaling comes as the rope_freqs
// tensor, longrope's factors as rope_factors_short/long (read by Open).
// MiniCPM files carry embedding_scale, residual_scale and logit_scale
// (the value the final hidden state is divided by); files without them get
// MiniCPM 1/2's constants: 12, 1.4/√layers and hidden/256.
func ConfigFromGGUF(md *gguf.Metadata) (*nn.Config, error) {
	a := md.Arch()
	if a != "llama" && a != "minicpm" {
		return nil, fmt.Errorf("llama: GGUF architecture is %q", a)
	}
	c := &nn.Config{Family: "llama", RoPELayout: ir.RoPEInterleaved, Act: ir.OpSilu}
	if err := nn.GGUFCommon(md, c); err != nil {
		return nil, err
	}
	if c.FFN == 0 {
		return nil, fmt.Errorf("llama: gguf: %s.feed_forward_length is missing", a)
	}
	if a == "minicpm" {
		c.EmbedScale, c.ResidualScale, c.LogitScale = 12, 1.4/math.Sqrt(float64(c.Layers)), float64(c.Hidden)/256
		for key, dst := range map[string]*float64{"embedding_scale": &c.EmbedScale, "residual_scale": &c.ResidualScale, "logit_scale": &c.LogitScale} {
			if v, ok := md.Float64(a + "." + key); ok {
				if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
					return nil, fmt.Errorf("llama: gguf: %s.%s = %v", a, key, v)
				}
				*dst = v
			}
		}
	}
	return c, c.Validate()
}
