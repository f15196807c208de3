package nn

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/rope"
)

// HFConfig is the subset of a Hugging Face config.json that decoder
// families read. Families copy what they need into a Config.
type HFConfig struct {
	ModelType             string          `json:"model_type"`
	Architectures         []string        `json:"architectures"`
	VocabSize             int             `json:"vocab_size"`
	HiddenSize            int             `json:"hidden_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	HeadDim               int             `json:"head_dim"`
	IntermediateSize      int             `json:"intermediate_size"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	HiddenAct             string          `json:"hidden_act"`
	HiddenActivation      string          `json:"hidden_activation"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RoPEParameters        json.RawMessage `json:"rope_parameters"`
	RoPETheta             float64         `json:"rope_theta"`
	RoPELocalBaseFreq     float64         `json:"rope_local_base_freq"`
	RoPEScaling           json.RawMessage `json:"rope_scaling"`
	PartialRotaryFactor   float64         `json:"partial_rotary_factor"`
	SlidingWindow         *int            `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	SlidingWindowPattern  int             `json:"sliding_window_pattern"`
	SlidingWindowPattern2 int             `json:"_sliding_window_pattern"`
	LayerTypes            []string        `json:"layer_types"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	QueryPreAttnScalar    float64         `json:"query_pre_attn_scalar"`
	AttnLogitSoftcapping  *float64        `json:"attn_logit_softcapping"`
	FinalLogitSoftcapping *float64        `json:"final_logit_softcapping"`
	NumExperts            int             `json:"num_experts"`
	NumLocalExperts       int             `json:"num_local_experts"`
	NumExpertsPerTok      int             `json:"num_experts_per_tok"`
	MoEIntermediateSize   int             `json:"moe_intermediate_size"`
	NormTopKProb          bool            `json:"norm_topk_prob"`
	DecoderSparseStep     int             `json:"decoder_sparse_step"`
	MLPOnlyLayers         []int           `json:"mlp_only_layers"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	PadTokenID            json.RawMessage `json:"pad_token_id"`
	TextConfig            json.RawMessage `json:"text_config"`
}

// ParseHF reads config.json. A multimodal wrapper's text_config (Gemma 3)
// is read in its place, keeping the outer token ids where the inner has none.
func ParseHF(data []byte) (*HFConfig, error) {
	var h HFConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if len(h.TextConfig) > 0 && string(h.TextConfig) != "null" {
		var t HFConfig
		if err := json.Unmarshal(h.TextConfig, &t); err != nil {
			return nil, fmt.Errorf("config.json: text_config: %w", err)
		}
		if t.ModelType == "" {
			t.ModelType = h.ModelType
		}
		t.Architectures = h.Architectures
		if len(t.EOSTokenID) == 0 {
			t.EOSTokenID = h.EOSTokenID
		}
		if len(t.BOSTokenID) == 0 {
			t.BOSTokenID = h.BOSTokenID
		}
		h = t
	}
	return &h, nil
}

// Tie reports tie_word_embeddings, or def when the file does not say.
func (h *HFConfig) Tie(def bool) bool {
	if h.TieWordEmbeddings == nil {
		return def
	}
	return *h.TieWordEmbeddings
}

// Activation is hidden_activation, else hidden_act.
func (h *HFConfig) Activation() string {
	if h.HiddenActivation != "" {
		return h.HiddenActivation
	}
	return h.HiddenAct
}

// TokenIDs parses an id field that may be a number, a list or null.
func TokenIDs(raw json.RawMessage) ([]int32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int32{int32(one)}, nil
	}
	var many []int64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("token id %s is neither a number nor a list", raw)
	}
	out := make([]int32, len(many))
	for i, v := range many {
		out[i] = int32(v)
	}
	return out, nil
}

// maxLayers bounds the per-layer tables a configuration can ask for before
// Validate has looked at it.
const maxLayers = 1 << 12

// Common fills the fields every decoder family reads the same way.
func (h *HFConfig) Common(c *Config) error {
	if h.NumHiddenLayers <= 0 || h.NumHiddenLayers > maxLayers {
		return fmt.Errorf("config.json: num_hidden_layers = %d is not a valid layer count", h.NumHiddenLayers)
	}
	c.Vocab, c.Hidden, c.Layers = h.VocabSize, h.HiddenSize, h.NumHiddenLayers
	c.Heads, c.KVHeads, c.HeadDim = h.NumAttentionHeads, h.NumKeyValueHeads, h.HeadDim
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.HeadDim == 0 && c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	c.FFN, c.Eps, c.MaxPos = h.IntermediateSize, h.RMSNormEps, h.MaxPositionEmbeddings
	if c.Eps == 0 {
		c.Eps = 1e-6
	}
	c.BOS, c.PAD = -1, -1
	if ids, err := TokenIDs(h.BOSTokenID); err != nil {
		return fmt.Errorf("config.json: bos_token_id: %w", err)
	} else if len(ids) > 0 {
		c.BOS = ids[0]
	}
	if ids, err := TokenIDs(h.PadTokenID); err != nil {
		return fmt.Errorf("config.json: pad_token_id: %w", err)
	} else if len(ids) > 0 {
		c.PAD = ids[0]
	}
	eos, err := TokenIDs(h.EOSTokenID)
	if err != nil {
		return fmt.Errorf("config.json: eos_token_id: %w", err)
	}
	c.EOS = eos
	switch a := h.Activation(); a {
	case "silu", "swish", "":
		c.Act = opSilu
	case "gelu_pytorch_tanh", "gelu_new", "gelu_fast":
		c.Act = opGeluTanh
	case "gelu":
		c.Act = opGeluErf
	default:
		return fmt.Errorf("config.json: hidden_act %q is not supported", a)
	}
	return nil
}

// RoPE returns the rotary settings for layers of layerType
// ("full_attention", "sliding_attention"; "" for models without layer
// types). It reads transformers 5's rope_parameters — flat, or keyed by
// layer type — and the older top-level rope_theta and rope_scaling.
func (h *HFConfig) RoPE(layerType string, defTheta float64) (rope.Scaling, error) {
	headDim := h.HeadDim
	if headDim == 0 && h.NumAttentionHeads > 0 {
		headDim = h.HiddenSize / h.NumAttentionHeads
	}
	var p map[string]any
	if len(h.RoPEParameters) > 0 && string(h.RoPEParameters) != "null" {
		if err := json.Unmarshal(h.RoPEParameters, &p); err != nil {
			return rope.Scaling{}, fmt.Errorf("config.json: rope_parameters: %w", err)
		}
		if sub, ok := p[layerType].(map[string]any); ok {
			p = sub
		} else if _, ok := p["full_attention"].(map[string]any); ok {
			p, _ = p["full_attention"].(map[string]any)
		}
	} else {
		p = map[string]any{}
		if len(h.RoPEScaling) > 0 && string(h.RoPEScaling) != "null" {
			if err := json.Unmarshal(h.RoPEScaling, &p); err != nil {
				return rope.Scaling{}, fmt.Errorf("config.json: rope_scaling: %w", err)
			}
		}
		theta := h.RoPETheta
		if theta == 0 {
			theta = defTheta
		}
		// Gemma 3 before transformers 5: local layers use their own base and
		// no scaling.
		if layerType == "sliding_attention" && h.RoPELocalBaseFreq > 0 {
			p = map[string]any{"rope_type": "default", "rope_theta": h.RoPELocalBaseFreq}
		} else {
			p["rope_theta"] = theta
		}
	}
	num := func(k string) float64 {
		if v, ok := p[k].(float64); ok {
			return v
		}
		return 0
	}
	typ, _ := p["rope_type"].(string)
	if typ == "" {
		typ, _ = p["type"].(string)
	}
	if typ == "" {
		typ = "default"
	}
	prf := num("partial_rotary_factor")
	if prf == 0 {
		prf = h.PartialRotaryFactor
	}
	dim := headDim
	if prf > 0 && prf < 1 {
		dim = int(float64(headDim) * prf)
	}
	theta := num("rope_theta")
	if theta == 0 {
		theta = defTheta
	}
	s := rope.Scaling{
		Type: typ, Theta: theta, Dim: dim, Factor: num("factor"),
		LowFreqFactor: num("low_freq_factor"), HighFreqFactor: num("high_freq_factor"),
		OriginalMaxPos: int(num("original_max_position_embeddings")), MaxPos: h.MaxPositionEmbeddings,
		AttentionFactor: num("attention_factor"), BetaFast: num("beta_fast"), BetaSlow: num("beta_slow"),
		MScale: num("mscale"), MScaleAllDim: num("mscale_all_dim"),
	}
	if t, ok := p["truncate"].(bool); ok && !t {
		s.NoTruncate = true
	}
	if math.IsNaN(s.Theta) || s.Theta <= 0 {
		return s, fmt.Errorf("config.json: rope_theta %v", s.Theta)
	}
	return s, nil
}

// Window returns sliding_window (0 when null or absent).
func (h *HFConfig) Window() int {
	if h.SlidingWindow == nil {
		return 0
	}
	return *h.SlidingWindow
}

// F64 dereferences an optional float (0 for null).
func F64(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// Types returns each layer's attention type: layer_types when the file
// has it, else every sliding_window_pattern-th layer global and the others
// sliding (Gemma 3 before transformers 5), else all full attention.
func (h *HFConfig) Types() []string {
	n := min(max(h.NumHiddenLayers, 0), maxLayers)
	out := make([]string, n)
	pat := h.SlidingWindowPattern
	if pat == 0 {
		pat = h.SlidingWindowPattern2
	}
	for l := range out {
		switch {
		case len(h.LayerTypes) == n:
			out[l] = h.LayerTypes[l]
		case pat > 0 && h.Window() > 0:
			if (l+1)%pat == 0 {
				out[l] = "full_attention"
			} else {
				out[l] = "sliding_attention"
			}
		default:
			out[l] = "full_attention"
		}
	}
	return out
}

// Layers fills c.RoPE and c.Window per layer from Types: sliding layers
// get sliding_window (when useWindow) and their own rope parameters where
// the file gives them.
func (h *HFConfig) Layers(c *Config, defTheta float64, useWindow bool) error {
	types := h.Types()
	c.RoPE = make([]rope.Scaling, len(types))
	c.Window = make([]int, len(types))
	for l, t := range types {
		r, err := h.RoPE(t, defTheta)
		if err != nil {
			return err
		}
		c.RoPE[l] = r
		if t == "sliding_attention" && useWindow {
			c.Window[l] = h.Window()
		}
	}
	return nil
}
