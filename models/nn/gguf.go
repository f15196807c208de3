package nn

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/rope"
)

// GGUFCommon fills a Config from the "<arch>.*" keys llama.cpp writes for
// every decoder: sizes, norm epsilon, rope base and scaling, sliding window,
// and the special token ids. Families then set what is theirs.
func GGUFCommon(md *gguf.Metadata, c *Config) error {
	arch := md.Arch()
	need := func(key string) (int, error) {
		v, ok := md.Int(arch + "." + key)
		if !ok {
			return 0, fmt.Errorf("gguf: %s.%s is missing", arch, key)
		}
		return v, nil
	}
	var err error
	if c.Hidden, err = need("embedding_length"); err != nil {
		return err
	}
	if c.Layers, err = need("block_count"); err != nil {
		return err
	}
	if c.Layers <= 0 || c.Layers > maxLayers {
		return fmt.Errorf("gguf: %s.block_count = %d is not a valid layer count", arch, c.Layers)
	}
	if c.Heads, err = need("attention.head_count"); err != nil {
		return err
	}
	c.FFN, _ = md.Int(arch + ".feed_forward_length")
	c.KVHeads = c.Heads
	if v, ok := md.Int(arch + ".attention.head_count_kv"); ok {
		c.KVHeads = v
	}
	c.HeadDim = 0
	if v, ok := md.Int(arch + ".attention.key_length"); ok {
		c.HeadDim = v
	} else if c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if v, ok := md.Int(arch + ".attention.value_length"); ok && v != c.HeadDim {
		return fmt.Errorf("gguf: %s.attention.value_length %d differs from key_length %d", arch, v, c.HeadDim)
	}
	c.Eps = 1e-6
	if v, ok := md.Float64(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.Eps = v
	}
	c.MaxPos, _ = md.Int(arch + ".context_length")
	if v, ok := md.Int(arch + ".vocab_size"); ok {
		c.Vocab = v
	} else if toks, ok := md.Strings("tokenizer.ggml.tokens"); ok {
		c.Vocab = len(toks)
	}
	c.BOS, c.PAD = -1, -1
	if v, ok := md.Int("tokenizer.ggml.bos_token_id"); ok {
		c.BOS = int32(v)
	}
	if v, ok := md.Int("tokenizer.ggml.padding_token_id"); ok {
		c.PAD = int32(v)
	}
	c.EOS = nil
	for _, k := range []string{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if v, ok := md.Int(k); ok && !c.IsEOS(int32(v)) {
			c.EOS = append(c.EOS, int32(v))
		}
	}
	c.Window = make([]int, c.Layers)
	c.RoPE = make([]rope.Scaling, c.Layers)
	rope, err := GGUFRoPE(md, c.HeadDim, 10000)
	if err != nil {
		return err
	}
	for l := range c.RoPE {
		c.RoPE[l] = rope
	}
	return nil
}

// GGUFRoPE reads rope.freq_base, rope.dimension_count and rope.scaling.*.
func GGUFRoPE(md *gguf.Metadata, headDim int, defBase float64) (rope.Scaling, error) {
	arch := md.Arch()
	s := rope.Scaling{Type: "default", Theta: defBase, Dim: headDim}
	if v, ok := md.Float64(arch + ".rope.freq_base"); ok {
		s.Theta = v
	}
	if v, ok := md.Int(arch + ".rope.dimension_count"); ok {
		s.Dim = v
	}
	typ, _ := md.String(arch + ".rope.scaling.type")
	factor, _ := md.Float64(arch + ".rope.scaling.factor")
	switch typ {
	case "", "none":
	case "linear":
		if factor > 0 && factor != 1 {
			s.Type, s.Factor = "linear", factor
		}
	case "yarn":
		s.Type, s.Factor = "yarn", factor
		s.OriginalMaxPos, _ = md.Int(arch + ".rope.scaling.original_context_length")
		if v, ok := md.Float64(arch + ".rope.scaling.attn_factor"); ok {
			s.AttentionFactor = v
		}
	case "longrope":
		// The factors are the rope_factors_short/long tensors, which the
		// family reads; llama.cpp scales cos and sin by attn_factor only.
		s.Type = "longrope"
		s.OriginalMaxPos, _ = md.Int(arch + ".rope.scaling.original_context_length")
		s.AttentionFactor = 1
		if v, ok := md.Float64(arch + ".rope.scaling.attn_factor"); ok && v > 0 {
			s.AttentionFactor = v
		}
	default:
		return s, fmt.Errorf("gguf: %s.rope.scaling.type %q is not supported", arch, typ)
	}
	if s.Theta <= 0 || s.Dim <= 0 {
		return s, fmt.Errorf("gguf: rope base %v, dimension %d", s.Theta, s.Dim)
	}
	return s, nil
}
