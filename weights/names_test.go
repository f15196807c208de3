package weights

import "testing"

// TestSandwichNormNames: the four per-layer norms of Gemma 2 and 3 map to
// llama.cpp's names for them, not to DecoderNames' (where HF's
// post_attention_layernorm is the MLP's input norm, GGUF's ffn_norm), and
// every name maps back.
func TestSandwichNormNames(t *testing.T) {
	for hf, gguf := range map[string]string{
		"model.layers.3.input_layernorm.weight":            "blk.3.attn_norm.weight",
		"model.layers.3.post_attention_layernorm.weight":   "blk.3.post_attention_norm.weight",
		"model.layers.3.pre_feedforward_layernorm.weight":  "blk.3.ffn_norm.weight",
		"model.layers.3.post_feedforward_layernorm.weight": "blk.3.post_ffw_norm.weight",
		"model.layers.0.self_attn.q_norm.weight":           "blk.0.attn_q_norm.weight",
		"model.layers.0.mlp.down_proj.weight":              "blk.0.ffn_down.weight",
		"model.embed_tokens.weight":                        "token_embd.weight",
	} {
		if got, ok := SandwichNormNames.ToGGUF(hf); !ok || got != gguf {
			t.Errorf("ToGGUF(%s) = %q, %v; want %s", hf, got, ok, gguf)
		}
		if got, ok := SandwichNormNames.ToHF(gguf); !ok || got != hf {
			t.Errorf("ToHF(%s) = %q, %v; want %s", gguf, got, ok, hf)
		}
	}
	if got, _ := DecoderNames.ToGGUF("model.layers.3.post_attention_layernorm.weight"); got != "blk.3.ffn_norm.weight" {
		t.Errorf("DecoderNames maps post_attention_layernorm to %q", got)
	}
}
