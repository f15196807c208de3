package weights

import (
	"slices"
	"strings"
)

// Rule pairs a Hugging Face tensor-name pattern with its GGUF twin. In both,
// "{N}" (and any other "{X}") stands for a run of decimal digits — a block
// or expert index — that carries over to the other side. Patterns name the
// module, without ".weight" or ".bias", which carry over unchanged; a
// pattern that itself ends in ".weight" or ".bias" matches only that.
type Rule struct {
	HF, GGUF string
}

// Names maps tensor names between the Hugging Face and GGUF conventions.
// Model families build one from their own rules; a Map given one through
// WithNames finds a tensor by either name.
type Names struct {
	rules []Rule
}

// NewNames returns a mapping made of rules, tried in order.
func NewNames(rules ...Rule) *Names { return &Names{rules: append([]Rule(nil), rules...)} }

// With returns a new Names with extra rules tried after n's.
func (n *Names) With(rules ...Rule) *Names {
	return &Names{rules: append(append([]Rule(nil), n.rules...), rules...)}
}

// ToGGUF maps a Hugging Face name to its GGUF name.
func (n *Names) ToGGUF(hf string) (string, bool) { return n.rename(hf, true) }

// ToHF maps a GGUF name to its Hugging Face name.
func (n *Names) ToHF(gguf string) (string, bool) { return n.rename(gguf, false) }

// rename applies the first rule whose pattern on the name's side (HF when
// toGGUF, else GGUF) matches name.
func (n *Names) rename(name string, toGGUF bool) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, r := range n.rules {
		from, to := r.GGUF, r.HF
		if toGGUF {
			from, to = r.HF, r.GGUF
		}
		if s, ok := rewrite(name, from, to); ok {
			return s, true
		}
	}
	return "", false
}

// rewrite matches name against pattern from and, on success, fills to with
// the captured placeholders and the carried-over suffix.
func rewrite(name, from, to string) (string, bool) {
	if caps, ok := match(name, from); ok {
		return fill(to, caps), true
	}
	for _, suffix := range []string{".weight", ".bias"} {
		if base, found := strings.CutSuffix(name, suffix); found {
			if caps, ok := match(base, from); ok {
				return fill(to, caps) + suffix, true
			}
		}
	}
	return "", false
}

// match reports whether s matches pattern, capturing "{X}" placeholders.
func match(s, pattern string) (map[string]string, bool) {
	var caps map[string]string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return caps, s == pattern
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return caps, s == pattern
		}
		lit, key := pattern[:i], pattern[i+1:i+j]
		pattern = pattern[i+j+1:]
		if !strings.HasPrefix(s, lit) {
			return nil, false
		}
		s = s[len(lit):]
		k := 0
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == 0 {
			return nil, false
		}
		if caps == nil {
			caps = map[string]string{}
		}
		if prev, seen := caps[key]; seen && prev != s[:k] {
			return nil, false
		}
		caps[key] = s[:k]
		s = s[k:]
	}
}

func fill(pattern string, caps map[string]string) string {
	for k, v := range caps {
		pattern = strings.ReplaceAll(pattern, "{"+k+"}", v)
	}
	return pattern
}

// DecoderNames covers the tensors most decoder-only LMs share (Llama,
// Qwen2/3, Mistral, Gemma): embeddings, final norm and head, attention,
// gated MLP and their norms, and Mixture-of-Experts routers and experts.
// Families extend it with With for their own extras. GGUF files converted
// by llama.cpp may also change a tensor's layout (Llama's Q/K rows are
// permuted for its RoPE kernel), and GGUF stacks a MoE layer's experts
// into one 3-D tensor (blk.N.ffn_gate_exps) where HF keeps one tensor per
// expert; both are the family's business, not a matter of names.
var DecoderNames = NewNames(slices.Concat(
	attentionRules,
	[]Rule{{"model.layers.{N}.post_attention_layernorm", "blk.{N}.ffn_norm"}},
	mlpRules,
	[]Rule{{"model.layers.{N}.mlp.gate", "blk.{N}.ffn_gate_inp"}},
)...)

// SandwichNormNames are the names of Gemma 2 and Gemma 3, whose four norms
// per layer llama.cpp names differently from DecoderNames: HF's
// post_attention_layernorm (after attention, not before the MLP) is GGUF's
// post_attention_norm, and the feed-forward pre/post norms are ffn_norm and
// post_ffw_norm.
var SandwichNormNames = NewNames(slices.Concat(
	attentionRules,
	[]Rule{
		{"model.layers.{N}.post_attention_layernorm", "blk.{N}.post_attention_norm"},
		{"model.layers.{N}.pre_feedforward_layernorm", "blk.{N}.ffn_norm"},
		{"model.layers.{N}.post_feedforward_layernorm", "blk.{N}.post_ffw_norm"},
	},
	mlpRules,
)...)

// attentionRules name the embeddings, the final norm and head, and each
// layer's attention with its input norm, alike in every decoder.
var attentionRules = []Rule{
	{"model.embed_tokens", "token_embd"},
	{"model.norm", "output_norm"},
	{"lm_head", "output"},
	{"model.layers.{N}.input_layernorm", "blk.{N}.attn_norm"},
	{"model.layers.{N}.self_attn.q_proj", "blk.{N}.attn_q"},
	{"model.layers.{N}.self_attn.k_proj", "blk.{N}.attn_k"},
	{"model.layers.{N}.self_attn.v_proj", "blk.{N}.attn_v"},
	{"model.layers.{N}.self_attn.o_proj", "blk.{N}.attn_output"},
	{"model.layers.{N}.self_attn.q_norm", "blk.{N}.attn_q_norm"},
	{"model.layers.{N}.self_attn.k_norm", "blk.{N}.attn_k_norm"},
}

// mlpRules name a gated MLP's three projections.
var mlpRules = []Rule{
	{"model.layers.{N}.mlp.gate_proj", "blk.{N}.ffn_gate"},
	{"model.layers.{N}.mlp.up_proj", "blk.{N}.ffn_up"},
	{"model.layers.{N}.mlp.down_proj", "blk.{N}.ffn_down"},
}
