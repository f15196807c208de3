// Package embed runs encoder models (models/bert, models/nomicbert) over
// batches of token sequences and pools their outputs into sentence
// embeddings.
//
// Inputs of different lengths are sorted by length and cut into buckets of
// at most BatchSize sequences; each bucket is padded only to its own
// longest sequence, so padding costs little, and results come back in the
// caller's order. An Encoder is safe for concurrent use: each call takes a
// session of its own from a pool.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/tensor"
)

// ErrInput is wrapped by errors about a sequence the model cannot take (no
// tokens, an id outside the vocabulary, too long).
var ErrInput = errors.New("embed: invalid input")

// Options configures an Encoder.
type Options struct {
	// Pooling for sentence embeddings (Default: Mean).
	Pooling Pooling
	// Normalize scales every sentence embedding to unit length.
	Normalize bool
	// BatchSize is the most sequences run together (default 32).
	BatchSize int
	// MaxTokens caps the tokens of one bucket (BatchSize × its longest
	// sequence); 0 means 8192.
	MaxTokens int
	// Pooler adds BERT's pooler output (dense + tanh on [CLS]) to Results.
	Pooler bool
}

// Input is one token sequence. Types may be nil (all zero).
type Input struct {
	IDs   []int32
	Types []int32
	// Skip leading tokens left out of mean/max pooling (a prompt with
	// sentence-transformers' include_prompt false).
	Skip int
}

// Result is one sequence's outputs.
type Result struct {
	// Embedding is the pooled (and, with Options.Normalize, normalised)
	// sentence vector; nil with Pooling None.
	Embedding []float32
	// Tokens are the last hidden states, one row per token (only when
	// asked for).
	Tokens [][]float32
	// Pooler is BERT's pooler_output (only with Options.Pooler).
	Pooler []float32
}

// Encoder is a compiled encoder ready to embed.
type Encoder struct {
	model *bert.Model
	prog  *compile.Program
	o     Options
	pool  sync.Pool // *compile.Session
}

// New compiles model for be.
func New(model *bert.Model, be backend.Backend, o Options) (*Encoder, error) {
	if o.Pooling == Default {
		o.Pooling = Mean
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 32
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 8192
	}
	if o.Pooler && !model.Config.Pooler {
		return nil, fmt.Errorf("embed: %s checkpoint has no pooler", model.Family)
	}
	g, err := model.Graph(bert.GraphOptions{Pooler: o.Pooler})
	if err != nil {
		return nil, err
	}
	prog, err := compile.Compile(g, be, model.Params, compile.Options{})
	if err != nil {
		return nil, fmt.Errorf("embed: compiling %s: %w", model.Family, err)
	}
	return &Encoder{model: model, prog: prog, o: o}, nil
}

// Options returns the options in effect (defaults filled in).
func (e *Encoder) Options() Options { return e.o }

// Model is the encoder's model.
func (e *Encoder) Model() *bert.Model { return e.model }

// Close releases the compiled program.
func (e *Encoder) Close() {
	for {
		s, ok := e.pool.Get().(*compile.Session)
		if !ok {
			break
		}
		s.Close()
	}
	e.prog.Close()
}

// Embed returns one sentence embedding per input, in order.
func (e *Encoder) Embed(ctx context.Context, in []Input) ([][]float32, error) {
	res, err := e.Run(ctx, in, false)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(res))
	for i, r := range res {
		out[i] = r.Embedding
	}
	return out, nil
}

func (e *Encoder) check(i int, in Input) error {
	c := e.model.Config
	switch {
	case len(in.IDs) == 0:
		return fmt.Errorf("%w: input %d has no tokens", ErrInput, i)
	case in.Types != nil && len(in.Types) != len(in.IDs):
		return fmt.Errorf("%w: input %d has %d ids and %d token types", ErrInput, i, len(in.IDs), len(in.Types))
	case !c.Rotary && len(in.IDs) > c.MaxPositions:
		return fmt.Errorf("%w: input %d has %d tokens, the model's position table %d", ErrInput, i, len(in.IDs), c.MaxPositions)
	case in.Skip < 0:
		return fmt.Errorf("%w: input %d skips %d tokens", ErrInput, i, in.Skip)
	}
	for j, id := range in.IDs {
		if id < 0 || int(id) >= c.Vocab {
			return fmt.Errorf("%w: input %d token %d: id %d outside the vocabulary [0, %d)", ErrInput, i, j, id, c.Vocab)
		}
	}
	if in.Types != nil {
		for j, t := range in.Types {
			if t < 0 || (int(t) >= c.TypeVocab && !(c.TypeVocab == 0 && t == 0)) {
				return fmt.Errorf("%w: input %d token %d: token type %d outside [0, %d)", ErrInput, i, j, t, max(c.TypeVocab, 1))
			}
		}
	}
	return nil
}

// Run embeds every input; withTokens also returns the token-level outputs.
func (e *Encoder) Run(ctx context.Context, in []Input, withTokens bool) ([]Result, error) {
	for i := range in {
		if err := e.check(i, in[i]); err != nil {
			return nil, err
		}
	}
	order := make([]int, len(in))
	for i := range order {
		order[i] = i
	}
	// Longest first: the first bucket allocates the largest arena, and
	// later (shorter) buckets refit into it.
	slices.SortStableFunc(order, func(a, b int) int { return len(in[b].IDs) - len(in[a].IDs) })
	s, _ := e.pool.Get().(*compile.Session)
	if s == nil {
		s = e.prog.NewSession()
	}
	defer e.pool.Put(s)
	res := make([]Result, len(in))
	for start := 0; start < len(order); {
		longest := len(in[order[start]].IDs)
		n := min(e.o.BatchSize, max(1, e.o.MaxTokens/longest), len(order)-start)
		if err := e.bucket(ctx, s, in, order[start:start+n], longest, res, withTokens); err != nil {
			return nil, err
		}
		start += n
	}
	return res, nil
}

func (e *Encoder) bucket(ctx context.Context, s *compile.Session, in []Input, rows []int, seq int, res []Result, withTokens bool) error {
	c := e.model.Config
	B := len(rows)
	ids := make([]int32, B*seq)
	types := make([]int32, B*seq)
	mask := make([]float32, B*seq)
	negInf := float32(math.Inf(-1))
	for r, idx := range rows {
		x := in[idx]
		copy(ids[r*seq:], x.IDs)
		copy(types[r*seq:], x.Types)
		for j := len(x.IDs); j < seq; j++ {
			mask[r*seq+j] = negInf
		}
	}
	feeds := map[string]*tensor.Tensor{
		bert.InputIDs:  tensor.FromI32(ids, B, seq),
		bert.InputMask: tensor.FromF32(mask, B, 1, 1, seq),
	}
	if c.TypeVocab > 0 {
		feeds[bert.InputTypes] = tensor.FromI32(types, B, seq)
	}
	out, err := s.Run(ctx, feeds, nil)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	hidden := out[bert.OutHidden].F32()
	H := c.Hidden
	var pooler []float32
	if e.o.Pooler {
		pooler = out[bert.OutPooler].F32()
	}
	for r, idx := range rows {
		n := len(in[idx].IDs)
		tok := hidden[r*seq*H : (r*seq+n)*H]
		if e.o.Pooling != None {
			v := make([]float32, H)
			pool(v, tok, n, H, in[idx].Skip, e.o.Pooling)
			if e.o.Normalize {
				Normalize(v)
			}
			res[idx].Embedding = v
		}
		if withTokens {
			rowsOut := make([][]float32, n)
			flat := slices.Clone(tok)
			for j := range rowsOut {
				rowsOut[j] = flat[j*H : (j+1)*H : (j+1)*H]
			}
			res[idx].Tokens = rowsOut
		}
		if pooler != nil {
			res[idx].Pooler = slices.Clone(pooler[r*H : (r+1)*H])
		}
	}
	return nil
}
