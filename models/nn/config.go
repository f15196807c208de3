// Package nn holds what decoder-only language models share: one Config that
// every family's config.json or GGUF metadata is turned into, a parameter
// source over a checkpoint that names missing or misshapen tensors clearly,
// and the blocks (embedding, norms, grouped-query attention with rotary
// positions and a KV cache, gated MLPs, routed experts, the logit head) that
// the family packages compose into their graphs.
//
// A graph built here has the input "ids" I32 [batch, seq] and either the
// symbol "past" (the tokens already in the KV cache, shared by all rows) or,
// per row (GraphOptions.PerRow), the inputs "past" I32 [batch] and
// "positions" I32 [batch, seq]. Its output "logits" is [batch, 1, vocab] (the last
// position), or [n, vocab] for the positions listed in the input "rows"
// (GraphOptions.Rows).
package nn

import (
	"fmt"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/rope"
)

// Config describes a decoder-only transformer, whatever file it came from.
type Config struct {
	// Family is the model family's name ("qwen3", "llama", …).
	Family string

	Vocab, Hidden, Layers   int
	Heads, KVHeads, HeadDim int
	FFN                     int // dense MLP width
	Eps                     float64
	Act                     ir.Op // OpSilu (SwiGLU) or OpGeluTanh (GeGLU)
	NormPlusOne             bool  // norms scale by (1+w) (Gemma checkpoints from HF)
	EmbedScale              float64
	QKNorm                  bool // RMSNorm over each head of q and k (Qwen3, Gemma 3)
	QKVBias                 bool // biases on q, k, v projections (Qwen2)
	TieEmbeddings           bool // the head reuses the embedding table
	AttnScale               float64
	AttnSoftcap             float64
	FinalSoftcap            float64
	MaxPos                  int // max_position_embeddings / context_length
	RoPELayout              ir.RoPELayout
	RoPE                    []rope.Scaling // one per layer
	Window                  []int          // sliding window per layer (0: full attention)
	Experts, ExpertsUsed    int            // MoE; 0 for dense models
	ExpertFFN               int
	DenseLayers             []bool // MoE models: layers with a dense MLP instead of experts
	NormTopK                bool
	BOS, PAD                int32   // -1: none
	EOS                     []int32 // end-of-generation ids the model's metadata names
	PostNorms               bool    // norms after attention and MLP as well (Gemma 2, 3)
	// ResidualScale multiplies each sublayer's output before it joins the
	// residual stream (MiniCPM: scale_depth/√layers; 0: none), as
	// Decoder.Residual does.
	ResidualScale float64
	// LogitScale divides the final hidden state before the head (MiniCPM:
	// hidden_size/dim_model_base; 0: none).
	LogitScale float64
}

// Validate checks the sizes a graph depends on, naming the first bad field.
func (c *Config) Validate() error {
	pos := map[string]int{"vocab_size": c.Vocab, "hidden_size": c.Hidden, "num_hidden_layers": c.Layers,
		"num_attention_heads": c.Heads, "num_key_value_heads": c.KVHeads, "head_dim": c.HeadDim}
	for _, k := range []string{"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim"} {
		if pos[k] <= 0 || pos[k] > 1<<24 {
			return fmt.Errorf("%s: %s = %d is not a valid size", c.Family, k, pos[k])
		}
	}
	if c.Heads%c.KVHeads != 0 {
		return fmt.Errorf("%s: %d attention heads are not a multiple of %d key/value heads", c.Family, c.Heads, c.KVHeads)
	}
	if c.Experts == 0 && c.FFN <= 0 {
		return fmt.Errorf("%s: intermediate_size = %d is not a valid size", c.Family, c.FFN)
	}
	if c.Experts > 0 && (c.ExpertsUsed <= 0 || c.ExpertsUsed > c.Experts || c.ExpertFFN <= 0) {
		return fmt.Errorf("%s: %d of %d experts with width %d is not a valid mixture", c.Family, c.ExpertsUsed, c.Experts, c.ExpertFFN)
	}
	if len(c.RoPE) != c.Layers || len(c.Window) != c.Layers {
		return fmt.Errorf("%s: rope/window settings for %d/%d layers, want %d", c.Family, len(c.RoPE), len(c.Window), c.Layers)
	}
	for l, r := range c.RoPE {
		if r.Dim <= 0 || r.Dim > c.HeadDim || r.Dim%2 != 0 {
			return fmt.Errorf("%s: layer %d: rotary dimension %d for head size %d", c.Family, l, r.Dim, c.HeadDim)
		}
	}
	if c.Act != ir.OpSilu && c.Act != ir.OpGeluTanh && c.Act != ir.OpGeluErf {
		return fmt.Errorf("%s: unsupported activation %v", c.Family, c.Act)
	}
	return nil
}

// IsEOS reports whether id ends generation.
func (c *Config) IsEOS(id int32) bool {
	for _, e := range c.EOS {
		if e == id {
			return true
		}
	}
	return false
}
