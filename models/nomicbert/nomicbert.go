// Package nomicbert is the NomicBERT encoder family (nomic-embed-text
// v1/v1.5 and Hugging Face's NomicBertModel): BERT's post-norm block with
// rotary positions instead of a position table, a SwiGLU feed-forward
// block, one fused QKV projection and no biases. The graph is
// models/bert's; this package reads the configuration and names.
package nomicbert

import (
	"encoding/json"
	"fmt"

	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/weights"
)

// HFNames are nomic's tensor names (shared by HF's NomicBertModel).
var HFNames = bert.Names{
	Word:      "embeddings.word_embeddings",
	TokenType: "embeddings.token_type_embeddings",
	EmbNorm:   "emb_ln",
	QKV:       "encoder.layers.%d.attn.Wqkv",
	AttnOut:   "encoder.layers.%d.attn.out_proj",
	AttnNorm:  "encoder.layers.%d.norm1",
	Up:        "encoder.layers.%d.mlp.fc11",
	Gate:      "encoder.layers.%d.mlp.fc12",
	Down:      "encoder.layers.%d.mlp.fc2",
	OutNorm:   "encoder.layers.%d.norm2",
}

// GGUFRules map nomic's names to llama.cpp's "nomic-bert" names.
var GGUFRules = weights.NewNames(
	weights.Rule{HF: "embeddings.word_embeddings", GGUF: "token_embd"},
	weights.Rule{HF: "embeddings.token_type_embeddings", GGUF: "token_types"},
	weights.Rule{HF: "emb_ln", GGUF: "token_embd_norm"},
	weights.Rule{HF: "encoder.layers.{N}.attn.Wqkv", GGUF: "blk.{N}.attn_qkv"},
	weights.Rule{HF: "encoder.layers.{N}.attn.out_proj", GGUF: "blk.{N}.attn_output"},
	weights.Rule{HF: "encoder.layers.{N}.norm1", GGUF: "blk.{N}.attn_output_norm"},
	weights.Rule{HF: "encoder.layers.{N}.mlp.fc11", GGUF: "blk.{N}.ffn_up"},
	weights.Rule{HF: "encoder.layers.{N}.mlp.fc12", GGUF: "blk.{N}.ffn_gate"},
	weights.Rule{HF: "encoder.layers.{N}.mlp.fc2", GGUF: "blk.{N}.ffn_down"},
	weights.Rule{HF: "encoder.layers.{N}.norm2", GGUF: "blk.{N}.layer_output_norm"},
)

func init() {
	models.Register(models.Family{
		Name:            "nomic_bert",
		Kind:            models.Embedder,
		HFModelTypes:    []string{"nomic_bert"},
		HFArchitectures: []string{"NomicBertModel"},
		GGUFArchs:       []string{"nomic-bert"},
		Open:            bert.OpenFunc(Open),
	})
}

// hfConfig covers both spellings: HF transformers' NomicBertConfig and
// nomic's own (GPT-2-style keys, read with trust_remote_code).
type hfConfig struct {
	Vocab        int     `json:"vocab_size"`
	Hidden       int     `json:"hidden_size"`
	Layers       int     `json:"num_hidden_layers"`
	Heads        int     `json:"num_attention_heads"`
	Intermediate int     `json:"intermediate_size"`
	MaxPos       int     `json:"max_position_embeddings"`
	TypeVocab    *int    `json:"type_vocab_size"`
	Eps          float64 `json:"layer_norm_eps"`
	Act          string  `json:"hidden_act"`
	HeadDim      int     `json:"head_dim"`
	RopeTheta    float64 `json:"rope_theta"`
	RopeParams   *struct {
		Theta float64 `json:"rope_theta"`
		Type  string  `json:"rope_type"`
	} `json:"rope_parameters"`

	NEmbd       int      `json:"n_embd"`
	NLayer      int      `json:"n_layer"`
	NHead       int      `json:"n_head"`
	NInner      int      `json:"n_inner"`
	NPositions  int      `json:"n_positions"`
	MaxTrained  int      `json:"max_trained_positions"`
	EpsNomic    float64  `json:"layer_norm_epsilon"`
	ActNomic    string   `json:"activation_function"`
	RotaryBase  float64  `json:"rotary_emb_base"`
	RotaryFrac  *float64 `json:"rotary_emb_fraction"`
	Interleaved bool     `json:"rotary_emb_interleaved"`
	ScaleBase   *float64 `json:"rotary_emb_scale_base"`
	QKVBias     bool     `json:"qkv_proj_bias"`
	FC1Bias     bool     `json:"mlp_fc1_bias"`
	FC2Bias     bool     `json:"mlp_fc2_bias"`
	Prenorm     bool     `json:"prenorm"`
	MoEEveryN   int      `json:"moe_every_n_layers"`
}

func first[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// ParseHF reads a NomicBERT config.json (either spelling).
func ParseHF(data []byte) (*bert.Config, error) {
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%w: %w", bert.ErrConfig, err)
	}
	switch {
	case h.Prenorm:
		return nil, fmt.Errorf("%w: nomic_bert with prenorm is not supported", bert.ErrConfig)
	case h.Interleaved:
		return nil, fmt.Errorf("%w: nomic_bert with interleaved rotary embeddings is not supported", bert.ErrConfig)
	case h.ScaleBase != nil:
		return nil, fmt.Errorf("%w: nomic_bert with rotary_emb_scale_base is not supported", bert.ErrConfig)
	case h.MoEEveryN > 0:
		return nil, fmt.Errorf("%w: nomic_bert mixture-of-experts (moe_every_n_layers) is not supported", bert.ErrConfig)
	case h.QKVBias != h.FC1Bias || h.FC1Bias != h.FC2Bias:
		return nil, fmt.Errorf("%w: nomic_bert with biases on only some projections is not supported", bert.ErrConfig)
	}
	c := &bert.Config{
		Vocab:        h.Vocab,
		Hidden:       first(h.Hidden, h.NEmbd),
		Layers:       first(h.Layers, h.NLayer),
		Heads:        first(h.Heads, h.NHead),
		Intermediate: first(h.Intermediate, h.NInner),
		MaxPositions: first(h.MaxTrained, h.MaxPos, h.NPositions),
		TypeVocab:    2,
		Eps:          first(h.Eps, h.EpsNomic, 1e-12),
		Rotary:       true,
		RopeTheta:    first(h.RopeTheta, h.RotaryBase, 10000),
		FusedQKV:     true,
		Biases:       h.QKVBias,
		GGUFPooling:  -1,
	}
	if h.RopeParams != nil {
		if h.RopeParams.Type != "" && h.RopeParams.Type != "default" {
			return nil, fmt.Errorf("%w: nomic_bert rope_type %q", bert.ErrConfig, h.RopeParams.Type)
		}
		c.RopeTheta = first(h.RopeParams.Theta, c.RopeTheta)
	}
	if h.TypeVocab != nil {
		c.TypeVocab = *h.TypeVocab
	}
	act, err := bert.ActivationByName(first(h.Act, h.ActNomic, "swiglu"))
	if err != nil {
		return nil, err
	}
	if act != bert.SwiGLU {
		return nil, fmt.Errorf("%w: nomic_bert activation %q (only SwiGLU)", bert.ErrConfig, first(h.Act, h.ActNomic))
	}
	c.Act = act
	if c.Heads > 0 {
		hd := first(h.HeadDim, c.Hidden/c.Heads)
		if hd*c.Heads != c.Hidden {
			return nil, fmt.Errorf("%w: head_dim %d × %d heads ≠ hidden %d", bert.ErrConfig, hd, c.Heads, c.Hidden)
		}
		frac := 1.0
		if h.RotaryFrac != nil {
			frac = *h.RotaryFrac
		}
		c.RotaryDim = int(float64(hd) * frac)
	}
	return c, c.Validate()
}

// Open loads a NomicBERT checkpoint: a safetensors folder (hfConfig is
// its config.json) or a GGUF file of architecture "nomic-bert".
func Open(m *weights.Map, hfConfig []byte) (*bert.Model, error) {
	var (
		c   *bert.Config
		err error
	)
	if md := m.GGUF(); md != nil {
		if c, err = bert.ParseGGUF(md); err != nil {
			return nil, err
		}
		c.Rotary, c.FusedQKV, c.Act = true, true, bert.SwiGLU
		c.RopeTheta = 10000
		if v, ok := md.Float64(md.Arch() + ".rope.freq_base"); ok {
			c.RopeTheta = v
		}
		if c.Heads > 0 {
			c.RotaryDim = c.Hidden / c.Heads
		}
		_, c.Biases = m.Lookup("blk.0.attn_qkv.bias")
	} else if c, err = ParseHF(hfConfig); err != nil {
		return nil, err
	}
	return bert.Finish(&bert.Model{Config: c, Names: HFNames, Params: nn.NewParams(m, GGUFRules), Family: "nomic_bert"})
}
