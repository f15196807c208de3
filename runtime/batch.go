package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/tensor"
)

// batch is a left-padded batch in one session of a masked program: every
// row's tokens end at the same cache position, pads before them are masked
// out of attention and real tokens get positions counted from their row's
// first real token (what transformers' generate does).
type batch struct {
	lm    *LM
	s     *compile.Session
	rows  int
	past  int
	mask  []float32 // [rows, MaxSeq]: 0 for real tokens, -Inf for pads
	count []int     // real tokens per row so far
	all   bool      // logits of every position (else the last of each row)
}

func (lm *LM) newBatch(rows int, all bool) (*batch, error) {
	p, err := lm.program(progKey{})
	if err != nil {
		return nil, err
	}
	return &batch{lm: lm, s: p.NewSession(), rows: rows, mask: make([]float32, rows*lm.opt.MaxSeq), count: make([]int, rows), all: all}, nil
}

// step runs ids [rows, n] (real[b][t] says which are real) and returns the
// logits: [rows·n, vocab] when all, else [rows, vocab].
func (bt *batch) step(ctx context.Context, ids []int32, real [][]bool, n int) (*tensor.Tensor, error) {
	S := bt.lm.opt.MaxSeq
	if bt.past+n > S {
		return nil, bt.lm.overflow(bt.past + n)
	}
	pos := make([]int32, bt.rows*n)
	for b := range bt.rows {
		for t := range n {
			if real[b][t] {
				pos[b*n+t] = int32(bt.count[b])
				bt.count[b]++
			} else {
				pos[b*n+t] = 1
				bt.mask[b*S+bt.past+t] = float32(math.Inf(-1))
			}
		}
	}
	K := bt.past + n
	m := make([]float32, bt.rows*K)
	for b := range bt.rows {
		copy(m[b*K:(b+1)*K], bt.mask[b*S:b*S+K])
	}
	var sel []int32
	for b := range bt.rows {
		if bt.all {
			for t := range n {
				sel = append(sel, int32(b*n+t))
			}
		} else {
			sel = append(sel, int32(b*n+n-1))
		}
	}
	out, err := bt.s.Run(ctx, map[string]*tensor.Tensor{
		"ids":       tensor.FromI32(ids, bt.rows, n),
		"positions": tensor.FromI32(pos, bt.rows, n),
		"mask":      tensor.FromF32(m, bt.rows, 1, 1, K),
		"rows":      tensor.FromI32(sel, len(sel)),
	}, map[string]int{"past": bt.past})
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	bt.past += n
	return out["logits"], nil
}

// prefill runs the left-padded prompts in chunks and returns, per chunk,
// the logits output.
func (bt *batch) prefill(ctx context.Context, prompts [][]int32, each func(off, n int, logits *tensor.Tensor)) error {
	T := 0
	for _, p := range prompts {
		T = max(T, len(p))
	}
	pad := bt.lm.model.Config.PAD
	if pad < 0 {
		pad = 0
	}
	for off := 0; off < T; {
		n := min(bt.lm.opt.PrefillChunk, T-off)
		ids := make([]int32, bt.rows*n)
		real := make([][]bool, bt.rows)
		for b, p := range prompts {
			real[b] = make([]bool, n)
			start := T - len(p)
			for t := range n {
				if i := off + t - start; i >= 0 {
					ids[b*n+t], real[b][t] = p[i], true
				} else {
					ids[b*n+t] = pad
				}
			}
		}
		out, err := bt.step(ctx, ids, real, n)
		if err != nil {
			return err
		}
		if each != nil {
			each(off, n, out)
		}
		off += n
	}
	return nil
}

func (lm *LM) checkBatch(prompts [][]int32) error {
	if len(prompts) == 0 {
		return errors.New("runtime: empty batch")
	}
	for i, p := range prompts {
		if len(p) == 0 {
			return fmt.Errorf("runtime: batch row %d is empty", i)
		}
		if len(p) > lm.opt.MaxSeq {
			return fmt.Errorf("runtime: batch row %d: %w", i, lm.overflow(len(p)))
		}
		if err := lm.checkIDs(p); err != nil {
			return fmt.Errorf("runtime: batch row %d: %w", i, err)
		}
	}
	return nil
}

// BatchLogits runs prompts as one left-padded batch and returns, per row,
// the logits of its own positions (pads left out).
func (lm *LM) BatchLogits(ctx context.Context, prompts [][]int32) ([]*Logits, error) {
	if err := lm.checkBatch(prompts); err != nil {
		return nil, err
	}
	bt, err := lm.newBatch(len(prompts), true)
	if err != nil {
		return nil, err
	}
	defer bt.s.Close()
	T := 0
	for _, p := range prompts {
		T = max(T, len(p))
	}
	V := lm.model.Config.Vocab
	res := make([]*Logits, len(prompts))
	for b, p := range prompts {
		res[b] = &Logits{Rows: len(p), Vocab: V}
	}
	err = bt.prefill(ctx, prompts, func(off, n int, out *tensor.Tensor) {
		f := out.F32()
		for b, p := range prompts {
			start := T - len(p)
			for t := range n {
				if off+t >= start {
					res[b].Data = append(res[b].Data, f[(b*n+t)*V:(b*n+t+1)*V]...)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// GenerateBatch generates after each prompt, all rows in one left-padded
// batch. Row b samples with seed Sampler.Seed+b. Text decoding, callbacks
// and stop strings are single-stream features and are ignored here.
func (lm *LM) GenerateBatch(ctx context.Context, prompts [][]int32, o GenerateOptions) ([]*Result, error) {
	if err := lm.checkBatch(prompts); err != nil {
		return nil, err
	}
	if err := o.Sampler.Validate(); err != nil {
		return nil, err
	}
	stops := o.StopIDs
	if stops == nil && !o.IgnoreEOS {
		stops = lm.model.Config.EOS
	}
	bt, err := lm.newBatch(len(prompts), false)
	if err != nil {
		return nil, err
	}
	defer bt.s.Close()
	B, V := len(prompts), lm.model.Config.Vocab
	var last *tensor.Tensor
	if err := bt.prefill(ctx, prompts, func(_, _ int, out *tensor.Tensor) { last = out }); err != nil {
		return nil, err
	}
	res := make([]*Result, B)
	smp := make([]*Sampler, B)
	hist := make([][]int32, B)
	for b := range B {
		res[b] = &Result{PromptTokens: len(prompts[b])}
		so := o.Sampler
		so.Seed += uint64(b)
		smp[b] = NewSampler(so)
		hist[b] = append([]int32(nil), prompts[b]...)
	}
	done := make([]bool, B)
	ids := make([]int32, B)
	real := make([][]bool, B)
	for b := range real {
		real[b] = []bool{true}
	}
	for {
		f := last.F32()
		live := 0
		for b := range B {
			if done[b] {
				continue
			}
			if o.MaxTokens > 0 && len(res[b].IDs) >= o.MaxTokens {
				res[b].Stop, done[b] = StopLength, true
				continue
			}
			limitVocab(f[b*V:(b+1)*V], o.Vocab)
			id := smp[b].Sample(f[b*V:(b+1)*V], hist[b])
			if contains(stops, id) {
				res[b].Stop, done[b] = StopEOS, true
				continue
			}
			res[b].IDs = append(res[b].IDs, id)
			hist[b] = append(hist[b], id)
			ids[b] = id
			live++
		}
		if live == 0 {
			break
		}
		if bt.past >= lm.opt.MaxSeq {
			for b := range B {
				if !done[b] {
					res[b].Stop, done[b] = StopContext, true
				}
			}
			break
		}
		if last, err = bt.step(ctx, ids, real, 1); err != nil {
			return nil, err
		}
	}
	return res, nil
}
