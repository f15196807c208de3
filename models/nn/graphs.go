package nn

import "github.com/rlx-go/rlx/ir"

// PreNormGraph writes the pre-norm decoder that Llama, Gemma, Qwen2 and
// Qwen3 share:
//
//	x = embed(ids)
//	for each layer:  x += attn(norm(x))
//	                 x += mlp(norm(x))
//	logits = head(norm(x))
//
// The families differ only in what their Config says (embedding, residual
// and logit scales, (1+w) norms, q/k/v biases, QK-norm, the activation),
// which the Decoder's blocks follow, so one function writes them all.
func PreNormGraph(c *Config, p *Params, o GraphOptions) (*ir.Graph, error) {
	d := NewDecoder(c, p, o)
	x := d.Embed()
	d.Hidden(0, x)
	for l := range c.Layers {
		x = d.Residual(x, d.Attention(l, d.Norm(x, L(l)+"input_layernorm")))
		x = d.Residual(x, d.MLP(l, d.Norm(x, L(l)+"post_attention_layernorm")))
		d.Hidden(l+1, x)
	}
	return d.Head(x)
}

// SandwichNormGraph writes the decoder of Gemma 2 and Gemma 3, which
// normalizes each sublayer's output as well as its input:
//
//	x = embed(ids)
//	for each layer:  x += norm(attn(norm(x)))
//	                 x += norm(mlp(norm(x)))
//	logits = head(norm(x))
func SandwichNormGraph(c *Config, p *Params, o GraphOptions) (*ir.Graph, error) {
	d := NewDecoder(c, p, o)
	x := d.Embed()
	d.Hidden(0, x)
	for l := range c.Layers {
		h := d.Attention(l, d.Norm(x, L(l)+"input_layernorm"))
		x = d.Residual(x, d.Norm(h, L(l)+"post_attention_layernorm"))
		h = d.MLP(l, d.Norm(x, L(l)+"pre_feedforward_layernorm"))
		x = d.Residual(x, d.Norm(h, L(l)+"post_feedforward_layernorm"))
		d.Hidden(l+1, x)
	}
	return d.Head(x)
}
