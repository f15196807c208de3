package bert

import (
	"fmt"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/rope"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// Names are the tensor names an encoder's graph asks for, without
// ".weight"/".bias". Per-layer names hold one %d for the layer index.
// An empty name is a tensor the family does not have.
type Names struct {
	Word, Position, TokenType, EmbNorm string
	Q, K, V, QKV, AttnOut, AttnNorm    string
	Up, Gate, Down, OutNorm            string
	Pooler                             string
}

// HFNames are BertModel's Hugging Face names.
var HFNames = Names{
	Word:      "embeddings.word_embeddings",
	Position:  "embeddings.position_embeddings",
	TokenType: "embeddings.token_type_embeddings",
	EmbNorm:   "embeddings.LayerNorm",
	Q:         "encoder.layer.%d.attention.self.query",
	K:         "encoder.layer.%d.attention.self.key",
	V:         "encoder.layer.%d.attention.self.value",
	AttnOut:   "encoder.layer.%d.attention.output.dense",
	AttnNorm:  "encoder.layer.%d.attention.output.LayerNorm",
	Up:        "encoder.layer.%d.intermediate.dense",
	Down:      "encoder.layer.%d.output.dense",
	OutNorm:   "encoder.layer.%d.output.LayerNorm",
	Pooler:    "pooler.dense",
}

// GGUFRules map BertModel's names to llama.cpp's (the pooler has no GGUF
// twin: llama.cpp's converter drops it).
var GGUFRules = weights.NewNames(
	weights.Rule{HF: "embeddings.word_embeddings", GGUF: "token_embd"},
	weights.Rule{HF: "embeddings.position_embeddings", GGUF: "position_embd"},
	weights.Rule{HF: "embeddings.token_type_embeddings", GGUF: "token_types"},
	weights.Rule{HF: "embeddings.LayerNorm", GGUF: "token_embd_norm"},
	weights.Rule{HF: "encoder.layer.{N}.attention.self.query", GGUF: "blk.{N}.attn_q"},
	weights.Rule{HF: "encoder.layer.{N}.attention.self.key", GGUF: "blk.{N}.attn_k"},
	weights.Rule{HF: "encoder.layer.{N}.attention.self.value", GGUF: "blk.{N}.attn_v"},
	weights.Rule{HF: "encoder.layer.{N}.attention.output.dense", GGUF: "blk.{N}.attn_output"},
	weights.Rule{HF: "encoder.layer.{N}.attention.output.LayerNorm", GGUF: "blk.{N}.attn_output_norm"},
	weights.Rule{HF: "encoder.layer.{N}.intermediate.dense", GGUF: "blk.{N}.ffn_up"},
	weights.Rule{HF: "encoder.layer.{N}.output.dense", GGUF: "blk.{N}.ffn_down"},
	weights.Rule{HF: "encoder.layer.{N}.output.LayerNorm", GGUF: "blk.{N}.layer_output_norm"},
)

// WithPrefix prefixes every name (checkpoints saved from BertForMaskedLM
// and friends keep the encoder under "bert.").
func (n Names) WithPrefix(p string) Names {
	for _, s := range []*string{&n.Word, &n.Position, &n.TokenType, &n.EmbNorm, &n.Q, &n.K, &n.V, &n.QKV,
		&n.AttnOut, &n.AttnNorm, &n.Up, &n.Gate, &n.Down, &n.OutNorm, &n.Pooler} {
		if *s != "" {
			*s = p + *s
		}
	}
	return n
}

// Model is an encoder checkpoint ready to be turned into graphs.
type Model struct {
	Config *Config
	Names  Names
	Params *nn.Params
	// Family is the registered family name ("bert", "nomic_bert").
	Family string
}

// OpenFunc is the constructor a family registers: m is the checkpoint and
// hfConfig its config.json (nil for GGUF).
type OpenFunc func(m *weights.Map, hfConfig []byte) (*Model, error)

// GraphOptions selects the graph's outputs.
type GraphOptions struct {
	// Pooler adds output "pooler": tanh(dense(hidden[:, 0])), BERT's
	// pooler_output. It needs a checkpoint with a pooler.
	Pooler bool
}

// Inputs and outputs of the graphs Model.Graph builds.
const (
	InputIDs   = "ids"    // I32 [batch, seq]
	InputTypes = "types"  // I32 [batch, seq] (only when Config.TypeVocab > 0)
	InputMask  = "mask"   // F32 [batch, 1, 1, seq]: 0 for tokens, -inf (or a large negative) for padding
	OutHidden  = "hidden" // F32 [batch, seq, hidden]: last_hidden_state
	OutPooler  = "pooler" // F32 [batch, hidden]
)

// Check resolves every tensor the graph needs, checking its shape, so that
// a wrong checkpoint fails when it is opened rather than when it first runs.
func (m *Model) Check() error {
	_, err := m.Graph(GraphOptions{Pooler: m.Config.Pooler})
	return err
}

// Graph builds the encoder over symbolic batch and seq: one graph serves
// every batch shape.
func (m *Model) Graph(o GraphOptions) (*ir.Graph, error) {
	c, n := m.Config, m.Names
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b := ir.NewBuilder()
	var firstErr error
	w := func(name string, dims ...int) ir.Value {
		dt, err := m.Params.Tensor(name, dims...)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return ir.Value{}
		}
		d := make([]ir.Dim, len(dims))
		for i, v := range dims {
			d[i] = ir.N(v)
		}
		return b.Param(name, dt, d...)
	}
	lin := func(x ir.Value, name string, out, in int) ir.Value {
		var bias ir.Value
		if c.Biases {
			bias = w(name+".bias", out)
		}
		return b.Linear(x, w(name+".weight", out, in), bias)
	}
	norm := func(x ir.Value, name string) ir.Value {
		return b.LayerNorm(x, w(name+".weight", c.Hidden), w(name+".bias", c.Hidden), c.Eps)
	}
	batch, seq := ir.Sym("batch"), ir.Sym("seq")
	H, hd := c.Hidden, c.HeadDim()

	b.Label("embeddings")
	ids := b.Input(InputIDs, tensor.I32, batch, seq)
	x := b.Gather(w(n.Word+".weight", c.Vocab, H), ids)
	if c.TypeVocab > 0 && n.TokenType != "" {
		types := b.Input(InputTypes, tensor.I32, batch, seq)
		x = b.Add(x, b.Gather(w(n.TokenType+".weight", c.TypeVocab, H), types))
	}
	pos := b.Range(ir.N(0), seq, tensor.I32)
	if !c.Rotary {
		x = b.Add(x, b.Gather(w(n.Position+".weight", c.MaxPositions, H), pos))
	}
	x = norm(x, n.EmbNorm)
	mask := b.Input(InputMask, tensor.F32, batch, ir.N(1), ir.N(1), seq)
	var invFreq ir.Value
	if c.Rotary {
		f, _, err := rope.InvFreq(rope.Scaling{Type: "default", Theta: c.RopeTheta, Dim: c.RotaryDim}, 0)
		if err != nil {
			return nil, fmt.Errorf("bert: rotary frequencies: %w", err)
		}
		invFreq = b.ConstF32(f, len(f))
	}
	heads := func(v ir.Value) ir.Value { return b.Reshape(v, batch, seq, ir.N(c.Heads), ir.N(hd)) }
	for l := range c.Layers {
		L := func(s string) string { return fmt.Sprintf(s, l) }
		b.Label(fmt.Sprintf("layer%d.attn", l))
		var q, k, v ir.Value
		if n.QKV != "" {
			qkv := b.Split(lin(x, L(n.QKV), 3*H, H), 2, ir.N(H), ir.N(H), ir.N(H))
			if len(qkv) == 3 {
				q, k, v = qkv[0], qkv[1], qkv[2]
			}
		} else {
			q, k, v = lin(x, L(n.Q), H, H), lin(x, L(n.K), H, H), lin(x, L(n.V), H, H)
		}
		q, k, v = heads(q), heads(k), heads(v)
		if c.Rotary {
			ra := ir.RoPEAttr{Layout: ir.RoPESplitHalf, RotaryDim: c.RotaryDim}
			q = b.RoPE(q, pos, invFreq, ra)
			k = b.RoPE(k, pos, invFreq, ra)
		}
		a := b.Attention(q, k, v, ir.AttentionOptions{Mask: mask})
		a = b.Reshape(a, batch, seq, ir.N(H))
		x = norm(b.Add(x, lin(a, L(n.AttnOut), H, H)), L(n.AttnNorm))

		b.Label(fmt.Sprintf("layer%d.ffn", l))
		var f ir.Value
		switch c.Act {
		case SwiGLU:
			f = b.Mul(lin(x, L(n.Up), c.Intermediate, H), b.Silu(lin(x, L(n.Gate), c.Intermediate, H)))
		case GeluTanh:
			f = b.GeluTanh(lin(x, L(n.Up), c.Intermediate, H))
		case Relu:
			f = b.Relu(lin(x, L(n.Up), c.Intermediate, H))
		default:
			f = b.GeluErf(lin(x, L(n.Up), c.Intermediate, H))
		}
		x = norm(b.Add(x, lin(f, L(n.Down), H, c.Intermediate)), L(n.OutNorm))
	}
	b.Output(OutHidden, x)
	if o.Pooler {
		if n.Pooler == "" {
			return nil, fmt.Errorf("bert: %s has no pooler", m.Family)
		}
		b.Label("pooler")
		cls := b.Reshape(b.Slice(x, 1, ir.N(0), ir.N(1)), batch, ir.N(H))
		p := b.Linear(cls, w(n.Pooler+".weight", H, H), w(n.Pooler+".bias", H))
		b.Output(OutPooler, b.Tanh(p))
	}
	if firstErr != nil {
		return nil, firstErr
	}
	g, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("bert: %s graph: %w", m.Family, err)
	}
	return g, nil
}
