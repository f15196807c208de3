package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
)

// ErrConfig is wrapped by errors about a configuration the encoder cannot
// run (missing or inconsistent sizes, an unknown activation).
var ErrConfig = errors.New("bert: invalid configuration")

// maxLayers bounds the layer count read from a file before anything is
// allocated from it.
const maxLayers = 1024

// Activation is the feed-forward block's non-linearity.
type Activation int

// Activations.
const (
	GeluErf  Activation = iota + 1 // HF "gelu": 0.5·x·(1+erf(x/√2))
	GeluTanh                       // "gelu_new", "gelu_pytorch_tanh"
	Relu                           // "relu"
	SwiGLU                         // up(x)·silu(gate(x)) (NomicBERT)
)

// Config describes one encoder: BERT and the families that share its
// post-norm block (NomicBERT: rotary positions, SwiGLU, no biases).
type Config struct {
	Vocab        int
	Hidden       int
	Layers       int
	Heads        int
	Intermediate int
	// MaxPositions is the size of the absolute position table, or the
	// longest sequence a rotary model was trained for.
	MaxPositions int
	// TypeVocab is the number of token types (0: no token type table).
	TypeVocab int
	Eps       float64
	Act       Activation
	// Rotary replaces the absolute position table with rotary embeddings
	// of base RopeTheta over RotaryDim elements of each head (split-half).
	Rotary    bool
	RopeTheta float64
	RotaryDim int
	// FusedQKV: one [3·hidden, hidden] projection instead of three.
	FusedQKV bool
	// Biases on the attention and feed-forward projections.
	Biases bool
	// Pooler: the checkpoint has BERT's pooler (dense + tanh on [CLS]).
	Pooler bool
	// GGUFPooling is llama.cpp's pooling_type from a GGUF file (-1: absent;
	// 0 none, 1 mean, 2 cls, 3 last).
	GGUFPooling int
}

// HeadDim is the width of one attention head.
func (c *Config) HeadDim() int { return c.Hidden / c.Heads }

// Validate checks the sizes before any tensor is looked at.
func (c *Config) Validate() error {
	switch {
	case c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Intermediate <= 0 || c.Vocab <= 0:
		return fmt.Errorf("%w: hidden %d, layers %d, heads %d, intermediate %d, vocab %d must be positive", ErrConfig, c.Hidden, c.Layers, c.Heads, c.Intermediate, c.Vocab)
	case c.Layers > maxLayers:
		return fmt.Errorf("%w: %d layers", ErrConfig, c.Layers)
	case c.Hidden%c.Heads != 0:
		return fmt.Errorf("%w: hidden %d is not a multiple of %d heads", ErrConfig, c.Hidden, c.Heads)
	case !c.Rotary && c.MaxPositions <= 0:
		return fmt.Errorf("%w: max_position_embeddings %d", ErrConfig, c.MaxPositions)
	case c.Rotary && (c.RotaryDim <= 0 || c.RotaryDim > c.HeadDim() || c.RotaryDim%2 != 0 || c.RopeTheta <= 0):
		return fmt.Errorf("%w: rotary dim %d (head %d), base %g", ErrConfig, c.RotaryDim, c.HeadDim(), c.RopeTheta)
	case c.Act < GeluErf || c.Act > SwiGLU:
		return fmt.Errorf("%w: activation %d", ErrConfig, c.Act)
	case c.Eps < 0:
		return fmt.Errorf("%w: layer norm epsilon %g", ErrConfig, c.Eps)
	}
	return nil
}

// ActivationByName maps a config.json hidden_act / activation_function.
func ActivationByName(s string) (Activation, error) {
	switch strings.ToLower(s) {
	case "gelu", "":
		return GeluErf, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh":
		return GeluTanh, nil
	case "relu":
		return Relu, nil
	case "swiglu", "silu", "swish":
		return SwiGLU, nil
	}
	return 0, fmt.Errorf("%w: activation %q", ErrConfig, s)
}

type hfBert struct {
	Vocab        int     `json:"vocab_size"`
	Hidden       int     `json:"hidden_size"`
	Layers       int     `json:"num_hidden_layers"`
	Heads        int     `json:"num_attention_heads"`
	Intermediate int     `json:"intermediate_size"`
	MaxPos       int     `json:"max_position_embeddings"`
	TypeVocab    *int    `json:"type_vocab_size"`
	Eps          float64 `json:"layer_norm_eps"`
	Act          string  `json:"hidden_act"`
	PosType      string  `json:"position_embedding_type"`
}

// ParseHF reads a BertModel config.json.
func ParseHF(data []byte) (*Config, error) {
	var h hfBert
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if h.PosType != "" && h.PosType != "absolute" {
		return nil, fmt.Errorf("%w: position_embedding_type %q (only \"absolute\")", ErrConfig, h.PosType)
	}
	c := &Config{Vocab: h.Vocab, Hidden: h.Hidden, Layers: h.Layers, Heads: h.Heads, Intermediate: h.Intermediate,
		MaxPositions: h.MaxPos, TypeVocab: 2, Eps: h.Eps, Biases: true, GGUFPooling: -1}
	if h.TypeVocab != nil {
		c.TypeVocab = *h.TypeVocab
	}
	if c.Eps == 0 {
		c.Eps = 1e-12
	}
	var err error
	if c.Act, err = ActivationByName(h.Act); err != nil {
		return nil, err
	}
	if c.Act == SwiGLU {
		return nil, fmt.Errorf("%w: BERT with activation %q", ErrConfig, h.Act)
	}
	return c, c.Validate()
}

// ParseGGUF reads the "<arch>.*" keys llama.cpp writes for BERT-like
// encoders (bert, nomic-bert).
func ParseGGUF(md *gguf.Metadata) (*Config, error) {
	arch := md.Arch()
	need := func(key string) (int, error) {
		v, ok := md.Int(arch + "." + key)
		if !ok {
			return 0, fmt.Errorf("%w: gguf key %s.%s is missing", ErrConfig, arch, key)
		}
		return v, nil
	}
	c := &Config{GGUFPooling: -1, Eps: 1e-12}
	var err error
	if c.Hidden, err = need("embedding_length"); err != nil {
		return nil, err
	}
	if c.Layers, err = need("block_count"); err != nil {
		return nil, err
	}
	if c.Heads, err = need("attention.head_count"); err != nil {
		return nil, err
	}
	if c.Intermediate, err = need("feed_forward_length"); err != nil {
		return nil, err
	}
	c.MaxPositions, _ = md.Int(arch + ".context_length")
	if v, ok := md.Float64(arch + ".attention.layer_norm_epsilon"); ok {
		c.Eps = v
	}
	if v, ok := md.Int(arch + ".vocab_size"); ok {
		c.Vocab = v
	} else if toks, ok := md.Strings("tokenizer.ggml.tokens"); ok {
		c.Vocab = len(toks)
	}
	if v, ok := md.Int(arch + ".pooling_type"); ok {
		c.GGUFPooling = v
	}
	if causal, ok := md.Bool(arch + ".attention.causal"); ok && causal {
		return nil, fmt.Errorf("%w: %s.attention.causal is true: not an encoder", ErrConfig, arch)
	}
	c.TypeVocab, _ = md.Int("tokenizer.ggml.token_type_count")
	return c, nil
}
