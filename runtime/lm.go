// Package runtime runs decoder language models: sessions over a KV cache
// preallocated to the context length, chunked prefill then token-by-token
// decode, left-padded batches, sampling with penalties and stops, streaming
// through callbacks and iterators, and full-prompt logits.
//
// An LM compiles a model once for one backend: the same program decodes,
// scores every position of a prompt and runs batches of prompts of
// different lengths (every row has its own past and positions, and the rows
// whose logits are wanted are an input), so its weights are prepared once.
// A Session is one conversation's KV cache.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/tensor"
)

// ErrContextOverflow is wrapped by errors about a prompt (or prompt plus
// continuation) that does not fit the context window.
var ErrContextOverflow = errors.New("context window exceeded")

// Options configure an LM.
type Options struct {
	// MaxSeq is the context length: the KV cache holds this many tokens.
	// Zero means the model's own context length, capped at 4096.
	MaxSeq int
	// KV is the cache element type, F16 (default) or F32.
	KV tensor.DType
	// PrefillChunk is the most prompt tokens run at once (default 512).
	PrefillChunk int
	// Progress, when set, is called while New prepares the model, from
	// the goroutine that runs New, with the bytes of weights prepared so
	// far (packed or wrapped for the backend; each tensor counted once),
	// after each weight. The count only grows.
	Progress func(prepared int64)
}

// LM is a model compiled for one backend. It is safe for concurrent use;
// each Session is not.
type LM struct {
	model *nn.Model
	be    backend.Backend
	opt   Options

	mu    sync.Mutex
	progs map[progKey]*compile.Program
}

// progKey names a program: the normal one, or the one that also outputs
// hidden states (for Trace).
type progKey struct{ hidden bool }

// New compiles model for be.
func New(model *nn.Model, be backend.Backend, o Options) (*LM, error) {
	if o.MaxSeq <= 0 {
		o.MaxSeq = model.Config.MaxPos
		if o.MaxSeq <= 0 || o.MaxSeq > 4096 {
			o.MaxSeq = 4096
		}
	}
	if o.KV == tensor.Invalid {
		o.KV = tensor.F16
	}
	if o.KV != tensor.F16 && o.KV != tensor.F32 {
		return nil, fmt.Errorf("runtime: KV cache type %v (want F16 or F32)", o.KV)
	}
	if o.PrefillChunk <= 0 {
		o.PrefillChunk = 512
	}
	lm := &LM{model: model, be: be, opt: o, progs: map[progKey]*compile.Program{}}
	if o.Progress != nil {
		// Only the first program reports: later ones prepare the same
		// weights again.
		lm.be = &progressBackend{Backend: be, report: o.Progress, seen: map[*byte]bool{}}
	}
	_, err := lm.program(progKey{})
	lm.be = be
	if err != nil {
		return nil, err
	}
	return lm, nil
}

// progressBackend counts the bytes of the weights its Prepare calls are
// given, each distinct tensor once.
type progressBackend struct {
	backend.Backend
	report func(int64)
	seen   map[*byte]bool
	done   int64
}

// Prepare implements backend.Backend.
func (b *progressBackend) Prepare(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	k, err := b.Backend.Prepare(n, consts)
	grew := false
	for i, c := range consts {
		// Params are the weights; Const inputs are the graph's own tables.
		if c == nil || len(c.Data) == 0 || n.Inputs[i].Op == ir.OpConst || b.seen[&c.Data[0]] {
			continue
		}
		b.seen[&c.Data[0]] = true
		b.done += int64(len(c.Data))
		grew = true
	}
	if grew {
		b.report(b.done)
	}
	return k, err
}

// Config is the model's configuration.
func (lm *LM) Config() *nn.Config { return lm.model.Config }

// MaxSeq is the context length.
func (lm *LM) MaxSeq() int { return lm.opt.MaxSeq }

// Close releases the compiled programs.
func (lm *LM) Close() {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	for k, p := range lm.progs {
		p.Close()
		delete(lm.progs, k)
	}
}

func (lm *LM) program(k progKey) (*compile.Program, error) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if p, ok := lm.progs[k]; ok {
		return p, nil
	}
	g, err := lm.model.Graph(nn.GraphOptions{MaxSeq: lm.opt.MaxSeq, KV: lm.opt.KV, Hidden: k.hidden, PerRow: true, Rows: true})
	if err != nil {
		return nil, err
	}
	p, err := compile.Compile(g, lm.be, lm.model.Params, compile.Options{})
	if err != nil {
		return nil, fmt.Errorf("runtime: compiling %s: %w", lm.model.Config.Family, err)
	}
	lm.progs[k] = p
	return p, nil
}

func (lm *LM) checkIDs(ids []int32) error {
	v := int32(lm.model.Config.Vocab)
	for i, id := range ids {
		if id < 0 || id >= v {
			return fmt.Errorf("runtime: token %d (position %d) is outside the vocabulary of %d", id, i, v)
		}
	}
	return nil
}

func (lm *LM) overflow(n int) error {
	return fmt.Errorf("runtime: %d tokens do not fit the context of %d: %w", n, lm.opt.MaxSeq, ErrContextOverflow)
}

// Logits is PredictLogits's result: Rows × Vocab float32, row-major.
type Logits struct {
	Rows, Vocab int
	Data        []float32
}

// Row returns the logits of position i.
func (l *Logits) Row(i int) []float32 { return l.Data[i*l.Vocab : (i+1)*l.Vocab] }

// PredictLogits runs ids as one prompt and returns the logits of every
// position (chunked like a prefill, so any length up to the context runs).
func (lm *LM) PredictLogits(ctx context.Context, ids []int32) (*Logits, error) {
	out, err := lm.forward(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	return out.logits, nil
}

// Trace is everything a full forward pass can report, for parity tests and
// inspection: logits of every position and the residual stream after each
// layer ("hidden.i"), plus "final_hidden" after the final norm.
type Trace struct {
	logits *Logits
	Hidden map[string][]float32
}

// Logits of every position.
func (t *Trace) Logits() *Logits { return t.logits }

// Trace runs ids as one prompt and reports logits and hidden states.
func (lm *LM) Trace(ctx context.Context, ids []int32) (*Trace, error) {
	return lm.forward(ctx, ids, true)
}

func (lm *LM) forward(ctx context.Context, ids []int32, hidden bool) (*Trace, error) {
	if len(ids) == 0 {
		return nil, errors.New("runtime: no tokens")
	}
	if len(ids) > lm.opt.MaxSeq {
		return nil, lm.overflow(len(ids))
	}
	if err := lm.checkIDs(ids); err != nil {
		return nil, err
	}
	p, err := lm.program(progKey{hidden: hidden})
	if err != nil {
		return nil, err
	}
	s := lm.session(p)
	defer s.Close()
	V := lm.model.Config.Vocab
	tr := &Trace{logits: &Logits{Rows: len(ids), Vocab: V, Data: make([]float32, 0, len(ids)*V)}}
	if hidden {
		tr.Hidden = map[string][]float32{}
	}
	for done := 0; done < len(ids); {
		n := min(lm.opt.PrefillChunk, len(ids)-done)
		out, err := s.step(ctx, ids[done:done+n], true)
		if err != nil {
			return nil, err
		}
		tr.logits.Data = append(tr.logits.Data, out["logits"].F32()...)
		for name, t := range out {
			if name != "logits" {
				tr.Hidden[name] = append(tr.Hidden[name], t.F32()...)
			}
		}
		done += n
	}
	return tr, nil
}
