package gemma2

import "github.com/rlx-go/rlx/weights"

// Names maps Gemma 2's Hugging Face tensor names to llama.cpp's. Its four
// norms per layer name differently from Llama's: HF's
// post_attention_layernorm is GGUF's post_attention_norm (not ffn_norm),
// and the feed-forward pre/post norms are ffn_norm and post_ffw_norm.
var Names = weights.NewNames(
	weights.Rule{HF: "model.embed_tokens", GGUF: "token_embd"},
	weights.Rule{HF: "model.norm", GGUF: "output_norm"},
	weights.Rule{HF: "lm_head", GGUF: "output"},
	weights.Rule{HF: "model.layers.{N}.input_layernorm", GGUF: "blk.{N}.attn_norm"},
	weights.Rule{HF: "model.layers.{N}.self_attn.q_proj", GGUF: "blk.{N}.attn_q"},
	weights.Rule{HF: "model.layers.{N}.self_attn.k_proj", GGUF: "blk.{N}.attn_k"},
	weights.Rule{HF: "model.layers.{N}.self_attn.v_proj", GGUF: "blk.{N}.attn_v"},
	weights.Rule{HF: "model.layers.{N}.self_attn.o_proj", GGUF: "blk.{N}.attn_output"},
	weights.Rule{HF: "model.layers.{N}.self_attn.q_norm", GGUF: "blk.{N}.attn_q_norm"},
	weights.Rule{HF: "model.layers.{N}.self_attn.k_norm", GGUF: "blk.{N}.attn_k_norm"},
	weights.Rule{HF: "model.layers.{N}.post_attention_layernorm", GGUF: "blk.{N}.post_attention_norm"},
	weights.Rule{HF: "model.layers.{N}.pre_feedforward_layernorm", GGUF: "blk.{N}.ffn_norm"},
	weights.Rule{HF: "model.layers.{N}.post_feedforward_layernorm", GGUF: "blk.{N}.post_ffw_norm"},
	weights.Rule{HF: "model.layers.{N}.mlp.gate_proj", GGUF: "blk.{N}.ffn_gate"},
	weights.Rule{HF: "model.layers.{N}.mlp.up_proj", GGUF: "blk.{N}.ffn_up"},
	weights.Rule{HF: "model.layers.{N}.mlp.down_proj", GGUF: "blk.{N}.ffn_down"},
)
