package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/tensor"
)

// batch runs several streams in one session. Every row has its own past:
// prompts of different lengths are right-padded, the pads after a row's
// tokens are written to its cache but never attended, and the row's next
// tokens overwrite them. Each row therefore computes exactly what it would
// alone.
type batch struct {
	lm   *LM
	s    *compile.Session
	past []int32 // tokens in each row's cache
}

func (lm *LM) newBatch(rows int) (*batch, error) {
	p, err := lm.program(progKey{})
	if err != nil {
		return nil, err
	}
	return &batch{lm: lm, s: p.NewSession(), past: make([]int32, rows)}, nil
}

// step runs ids [rows, n] at each row's past (advancing it by adv[b]) and
// returns the logits of the flattened positions sel ([len(sel), vocab]).
func (bt *batch) step(ctx context.Context, ids []int32, n int, adv []int32, sel []int32) (*tensor.Tensor, error) {
	B := len(bt.past)
	pos := make([]int32, B*n)
	for b := range B {
		if int(bt.past[b])+n > bt.lm.opt.MaxSeq {
			return nil, bt.lm.overflow(int(bt.past[b]) + n)
		}
		for t := range n {
			pos[b*n+t] = bt.past[b] + int32(t)
		}
	}
	out, err := bt.s.Run(ctx, map[string]*tensor.Tensor{
		"ids":       tensor.FromI32(ids, B, n),
		"positions": tensor.FromI32(pos, B, n),
		"past":      tensor.FromI32(append([]int32(nil), bt.past...), B),
		"rows":      tensor.FromI32(sel, len(sel)),
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	for b := range B {
		bt.past[b] += adv[b]
	}
	return out["logits"], nil
}

// prefill runs the right-padded prompts in chunks; each(b, t, row) gets the
// logits of position t of prompt b when want(b, t) asks for them.
func (bt *batch) prefill(ctx context.Context, prompts [][]int32, want func(b, t int) bool, each func(b, t int, row []float32)) error {
	T := 0
	for _, p := range prompts {
		T = max(T, len(p))
	}
	pad := max(bt.lm.model.Config.PAD, 0)
	V := bt.lm.model.Config.Vocab
	B := len(prompts)
	for off := 0; off < T; {
		n := min(bt.lm.opt.PrefillChunk, T-off)
		ids := make([]int32, B*n)
		adv := make([]int32, B)
		var sel []int32
		type at struct{ b, t int }
		var where []at
		for b, p := range prompts {
			for t := range n {
				if off+t < len(p) {
					ids[b*n+t] = p[off+t]
					adv[b]++
					if want(b, off+t) {
						sel = append(sel, int32(b*n+t))
						where = append(where, at{b, off + t})
					}
				} else {
					ids[b*n+t] = pad
				}
			}
		}
		// Pads advance no row: the row's next chunk (or token) overwrites them.
		if len(sel) == 0 {
			sel = append(sel, 0) // the output needs one row; it is not used
		}
		out, err := bt.step(ctx, ids, n, adv, sel)
		if err != nil {
			return err
		}
		f := out.F32()
		for i, w := range where {
			each(w.b, w.t, f[i*V:(i+1)*V])
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

// BatchLogits runs prompts as one batch and returns, per prompt, the logits
// of each of its positions.
func (lm *LM) BatchLogits(ctx context.Context, prompts [][]int32) ([]*Logits, error) {
	if err := lm.checkBatch(prompts); err != nil {
		return nil, err
	}
	bt, err := lm.newBatch(len(prompts))
	if err != nil {
		return nil, err
	}
	defer bt.s.Close()
	V := lm.model.Config.Vocab
	res := make([]*Logits, len(prompts))
	for b, p := range prompts {
		res[b] = &Logits{Rows: len(p), Vocab: V, Data: make([]float32, len(p)*V)}
	}
	err = bt.prefill(ctx, prompts, func(int, int) bool { return true }, func(b, t int, row []float32) {
		copy(res[b].Data[t*V:], row)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// GenerateBatch generates after each prompt, all rows in one batch. Row b
// samples with seed Sampler.Seed+b. Text decoding, callbacks and stop
// strings are single-stream features and are ignored here.
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
	B, V := len(prompts), lm.model.Config.Vocab
	bt, err := lm.newBatch(B)
	if err != nil {
		return nil, err
	}
	defer bt.s.Close()
	last := make([]float32, B*V)
	err = bt.prefill(ctx, prompts, func(b, t int) bool { return t == len(prompts[b])-1 }, func(b, _ int, row []float32) {
		copy(last[b*V:], row)
	})
	if err != nil {
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
	adv := make([]int32, B)
	sel := make([]int32, B)
	for b := range sel {
		sel[b] = int32(b)
	}
	for {
		live := 0
		for b := range B {
			if done[b] {
				adv[b] = 0
				continue
			}
			row := last[b*V : (b+1)*V]
			limitVocab(row, o.Vocab)
			id := smp[b].Sample(row, hist[b])
			if contains(stops, id) {
				res[b].Stop, done[b], adv[b] = StopEOS, true, 0
				continue
			}
			res[b].IDs = append(res[b].IDs, id)
			hist[b] = append(hist[b], id)
			ids[b], adv[b] = id, 1
			if o.MaxTokens > 0 && len(res[b].IDs) >= o.MaxTokens {
				res[b].Stop, done[b], adv[b] = StopLength, true, 0
				continue
			}
			if int(bt.past[b]) >= lm.opt.MaxSeq {
				res[b].Stop, done[b], adv[b] = StopContext, true, 0
				continue
			}
			live++
		}
		if live == 0 {
			break
		}
		// Finished rows run a token too (the batch has one shape) but do
		// not advance: their cache is never read again.
		for b := range B {
			if done[b] {
				ids[b] = 0
			}
		}
		out, err := bt.stepDecode(ctx, ids, adv, sel)
		if err != nil {
			return nil, err
		}
		copy(last, out.F32())
	}
	return res, nil
}

// stepDecode is step for one token per row, where a finished row's write
// position may sit at the end of its cache: it rewrites its last slot.
func (bt *batch) stepDecode(ctx context.Context, ids, adv, sel []int32) (*tensor.Tensor, error) {
	saved := append([]int32(nil), bt.past...)
	for b := range bt.past {
		if adv[b] == 0 && int(bt.past[b]) >= bt.lm.opt.MaxSeq {
			bt.past[b] = int32(bt.lm.opt.MaxSeq - 1)
		}
	}
	out, err := bt.step(ctx, ids, 1, adv, sel)
	for b := range bt.past {
		bt.past[b] = saved[b] + adv[b]
	}
	return out, err
}
