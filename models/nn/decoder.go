package nn

import (
	"fmt"
	"math"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/rope"
	"github.com/rlx-go/rlx/tensor"
)

// GraphOptions choose which graph of a model to build.
type GraphOptions struct {
	// MaxSeq is the KV cache length: the most tokens a session holds.
	MaxSeq int
	// KV is the cache element type: F16 (the default when zero) or F32.
	KV tensor.DType
	// Rows computes logits only for the positions listed in the input
	// "rows" (I32 [n], indices into the flattened [batch·seq] positions):
	// the output is [n, vocab]. Decoding asks for the last position,
	// scoring for all of them, from one compiled program. Without Rows the
	// output is the last position of every batch row, [batch, 1, vocab].
	Rows bool
	// Hidden adds the outputs "hidden.0" (embeddings) … "hidden.L" (each
	// layer's residual stream) and "final_hidden" (after the final norm).
	Hidden bool
	// PerRow gives every batch row its own past (input "past", I32
	// [batch]: the tokens already in that row's cache) and positions
	// (input "positions", I32 [batch, seq]). Rows may then hold prompts of
	// different lengths (right-padded: pads after a row's tokens are never
	// attended and are overwritten as it goes on) or streams at different
	// points. Without it, all rows share the symbol "past".
	PerRow bool
}

// Decoder builds one graph of a decoder-only model. Family packages call
// its blocks in the order their paper describes.
type Decoder struct {
	*ir.Builder
	C *Config
	P *Params
	O GraphOptions

	Batch, Seq, Past ir.Dim
	ids, pos, rows   ir.Value
	pastRows         ir.Value
	inv              map[string]invFreq
	params           map[string]ir.Value
}

type invFreq struct {
	v      ir.Value
	factor float64
}

// NewDecoder starts a graph: it declares the inputs.
func NewDecoder(c *Config, p *Params, o GraphOptions) *Decoder {
	if o.KV == tensor.Invalid {
		o.KV = tensor.F16
	}
	d := &Decoder{Builder: ir.NewBuilder(), C: c, P: p, O: o,
		Batch: ir.Sym("batch"), Seq: ir.Sym("seq"), Past: ir.Sym("past"), inv: map[string]invFreq{}, params: map[string]ir.Value{}}
	if o.MaxSeq <= 0 {
		d.Fail(fmt.Errorf("%s: the KV cache needs a positive length, got %d", c.Family, o.MaxSeq))
	}
	d.ids = d.Input("ids", tensor.I32, d.Batch, d.Seq)
	if o.PerRow {
		d.pos = d.Input("positions", tensor.I32, d.Batch, d.Seq)
		d.pastRows = d.Input("past", tensor.I32, d.Batch)
		d.Past = ir.N(0) // unused: every row has its own
	} else {
		d.pos = d.Range(d.Past, d.Seq, tensor.I32)
	}
	if o.Rows {
		d.rows = d.Input("rows", tensor.I32, ir.Sym("rows"))
	}
	return d
}

// W declares the weight name (a Hugging Face name) with the shape the
// configuration implies; a missing or misshapen tensor fails the build
// with an error naming it.
func (d *Decoder) W(name string, dims ...int) ir.Value {
	if v, ok := d.params[name]; ok {
		return v
	}
	dt, err := d.P.Tensor(name, dims...)
	if err != nil {
		d.Fail(err)
		return ir.Value{}
	}
	v := d.Param(name, dt, ir.Ints(dims...)...)
	d.params[name] = v
	return v
}

// L is the name prefix of layer l's tensors.
func L(l int) string { return fmt.Sprintf("model.layers.%d.", l) }

// Embed looks the input ids up in the embedding table (scaled by
// EmbedScale where the family does so).
func (d *Decoder) Embed() ir.Value {
	d.Label("embed")
	x := d.Gather(d.W("model.embed_tokens.weight", d.C.Vocab, d.C.Hidden), d.ids)
	if d.C.EmbedScale != 0 {
		// Rounded to float32 first, as both references do.
		x = d.Scale(x, float64(float32(d.C.EmbedScale)))
	}
	return x
}

// Norm is the model's RMSNorm with the weight name (without ".weight").
func (d *Decoder) Norm(x ir.Value, name string) ir.Value {
	d.Label(name)
	w := d.W(name+".weight", d.C.Hidden)
	if d.C.NormPlusOne {
		return d.RMSNormPlusOne(x, w, d.C.Eps)
	}
	return d.RMSNorm(x, w, d.C.Eps)
}

func (d *Decoder) headNorm(x ir.Value, name string) ir.Value {
	w := d.W(name+".weight", d.C.HeadDim)
	if d.C.NormPlusOne {
		return d.RMSNormPlusOne(x, w, d.C.Eps)
	}
	return d.RMSNorm(x, w, d.C.Eps)
}

func (d *Decoder) invFreq(l int) (ir.Value, float64) {
	r := d.C.RoPE[l]
	key := fmt.Sprintf("%+v", r)
	if f, ok := d.inv[key]; ok {
		return f.v, f.factor
	}
	seq := 0
	if r.Type == "longrope" {
		// The cache length picks short or long factors, as llama.cpp's
		// context size does (transformers switches on the sequence so far).
		seq = d.O.MaxSeq
	}
	v, factor, err := rope.InvFreq(r, seq)
	if err != nil {
		d.Fail(fmt.Errorf("%s: layer %d rope: %w", d.C.Family, l, err))
		return ir.Value{}, 1
	}
	// llama.cpp stores Llama 3's frequency scaling as a tensor of divisors.
	if t, ok := d.P.Find("rope_freqs.weight"); ok {
		f, err := t.Float32()
		if err != nil || len(f) != len(v) {
			d.Fail(fmt.Errorf("%s: rope_freqs.weight: %d values for %d frequencies (%v)", d.C.Family, len(f), len(v), err))
			return ir.Value{}, 1
		}
		for i := range v {
			v[i] /= f[i]
		}
	}
	c := d.ConstF32(v, len(v))
	d.inv[key] = invFreq{c, factor}
	return c, factor
}

// InvFreq returns the rotary inverse frequencies of layer l (for tests).
func InvFreq(c *Config, l int) ([]float32, error) {
	v, _, err := rope.InvFreq(c.RoPE[l], 0)
	return v, err
}

// Attention is layer l's self-attention over the normed stream x: q, k, v
// projections (with biases where the family has them), per-head q/k norms,
// rotary positions, grouped-query attention over the KV cache (causal,
// sliding window, logit softcap, query scale as configured) and the output
// projection.
func (d *Decoder) Attention(l int, x ir.Value) ir.Value {
	c := d.C
	d.Label(fmt.Sprintf("layer%d.attn", l))
	p := L(l) + "self_attn."
	proj := func(name string, heads int) ir.Value {
		var bias ir.Value
		if c.QKVBias {
			bias = d.W(p+name+".bias", heads*c.HeadDim)
		}
		y := d.Linear(x, d.W(p+name+".weight", heads*c.HeadDim, c.Hidden), bias)
		return d.Reshape(y, d.Batch, d.Seq, ir.N(heads), ir.N(c.HeadDim))
	}
	q, k, v := proj("q_proj", c.Heads), proj("k_proj", c.KVHeads), proj("v_proj", c.KVHeads)
	if c.QKNorm {
		q = d.headNorm(q, p+"q_norm")
		k = d.headNorm(k, p+"k_norm")
	}
	inv, factor := d.invFreq(l)
	ra := ir.RoPEAttr{Layout: c.RoPELayout, RotaryDim: c.RoPE[l].Dim, Scale: factor}
	q, k = d.RoPE(q, d.pos, inv, ra), d.RoPE(k, d.pos, inv, ra)
	cache := d.KVCache(fmt.Sprintf("layer%d", l), d.O.KV, d.Batch, ir.N(d.O.MaxSeq), c.KVHeads, c.HeadDim)
	a := d.Builder.Attention(q, k, v, ir.AttentionOptions{
		Causal: true, Window: c.Window[l], Softcap: c.AttnSoftcap, Scale: c.AttnScale,
		Cache: &cache, Past: d.Past, PastRows: d.pastRows,
	})
	a = d.Reshape(a, d.Batch, d.Seq, ir.N(c.Heads*c.HeadDim))
	return d.Linear(a, d.W(p+"o_proj.weight", c.Hidden, c.Heads*c.HeadDim), ir.Value{})
}

func (d *Decoder) act(x ir.Value) ir.Value {
	switch d.C.Act {
	case ir.OpGeluTanh:
		return d.GeluTanh(x)
	case ir.OpGeluErf:
		return d.GeluErf(x)
	}
	return d.Silu(x)
}

// GatedMLP is down(act(gate·x) ⊙ up·x) with the weights under prefix
// (SwiGLU with silu, GeGLU with gelu).
func (d *Decoder) GatedMLP(x ir.Value, prefix string, width int) ir.Value {
	c := d.C
	gate := d.Linear(x, d.W(prefix+"gate_proj.weight", width, c.Hidden), ir.Value{})
	up := d.Linear(x, d.W(prefix+"up_proj.weight", width, c.Hidden), ir.Value{})
	return d.Linear(d.Mul(d.act(gate), up), d.W(prefix+"down_proj.weight", c.Hidden, width), ir.Value{})
}

// MLP is layer l's dense feed-forward block.
func (d *Decoder) MLP(l int, x ir.Value) ir.Value {
	d.Label(fmt.Sprintf("layer%d.mlp", l))
	return d.GatedMLP(x, L(l)+"mlp.", d.C.FFN)
}

// MoE is layer l's routed mixture of experts: a softmax router picks the
// ExpertsUsed best experts per token (their probabilities renormalised to
// sum to one when NormTopK), and the token's output is the weighted sum of
// those experts' gated MLPs. Only the selected experts run.
func (d *Decoder) MoE(l int, x ir.Value) ir.Value {
	c := d.C
	d.Label(fmt.Sprintf("layer%d.moe", l))
	p := L(l) + "mlp."
	probs := d.Softmax(d.Linear(x, d.W(p+"gate.weight", c.Experts, c.Hidden), ir.Value{}), -1)
	// The k-th largest probability is the threshold of each token's choice.
	top, _ := d.TopK(probs, c.ExpertsUsed)
	kth := d.Slice(top, 2, ir.N(c.ExpertsUsed-1), ir.N(c.ExpertsUsed))
	w := d.Where(d.GreaterEq(probs, kth), probs, d.Scalar(0, tensor.F32))
	if c.NormTopK {
		w = d.Div(w, d.ReduceSum(w, true, -1))
	}
	gates := make([]ir.Value, c.Experts)
	ups := make([]ir.Value, c.Experts)
	downs := make([]ir.Value, c.Experts)
	for e := range c.Experts {
		pe := fmt.Sprintf("%sexperts.%d.", p, e)
		gates[e] = d.W(pe+"gate_proj.weight", c.ExpertFFN, c.Hidden)
		ups[e] = d.W(pe+"up_proj.weight", c.ExpertFFN, c.Hidden)
		downs[e] = d.W(pe+"down_proj.weight", c.Hidden, c.ExpertFFN)
	}
	tokens := d.Batch.Mul(d.Seq)
	y := d.MoEExperts(d.Reshape(x, tokens, ir.N(c.Hidden)), d.Reshape(w, tokens, ir.N(c.Experts)), gates, ups, downs, c.Act)
	return d.Reshape(y, d.Batch, d.Seq, ir.N(c.Hidden))
}

// Residual adds a sublayer's output y to the residual stream x, scaled by
// ResidualScale where the family does so.
func (d *Decoder) Residual(x, y ir.Value) ir.Value {
	if d.C.ResidualScale != 0 {
		// Rounded to float32 first, as both references do.
		y = d.Scale(y, float64(float32(d.C.ResidualScale)))
	}
	return d.Add(x, y)
}

// Hidden records the residual stream after i layers (when asked for).
func (d *Decoder) Hidden(i int, x ir.Value) {
	if d.O.Hidden {
		d.Output(fmt.Sprintf("hidden.%d", i), x)
	}
}

// Head applies the final norm and the language-model head (the embedding
// table when tied or when the checkpoint has no separate head), caps the
// logits where the family does, and builds the graph.
func (d *Decoder) Head(x ir.Value) (*ir.Graph, error) {
	c := d.C
	d.Label("head")
	x = d.Norm(x, "model.norm")
	if d.O.Hidden {
		d.Output("final_hidden", x)
	}
	if d.O.Rows {
		x = d.Gather(d.Reshape(x, d.Batch.Mul(d.Seq), ir.N(c.Hidden)), d.rows)
	} else {
		x = d.Slice(x, 1, d.Seq.AddN(-1), d.Seq)
	}
	head := "lm_head.weight"
	if c.TieEmbeddings || !d.P.Has(head) {
		head = "model.embed_tokens.weight"
	}
	if c.LogitScale != 0 {
		x = d.Div(x, d.Scalar(float64(float32(c.LogitScale)), tensor.F32))
	}
	logits := d.Linear(x, d.W(head, c.Vocab, c.Hidden), ir.Value{})
	if c.FinalSoftcap > 0 {
		logits = d.Softcap(logits, c.FinalSoftcap)
	}
	d.Output("logits", logits)
	g, err := d.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Family, err)
	}
	return g, nil
}

// SqrtHidden is √hidden, Gemma's embedding scale.
func SqrtHidden(c *Config) float64 { return math.Sqrt(float64(c.Hidden)) }
