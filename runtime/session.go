package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/tensor"
)

// Session is one stream of tokens through the model: its KV cache and the
// tokens in it. Appending runs the new tokens (in chunks for long prompts)
// and returns the logits after the last one. A Session is not safe for
// concurrent use.
type Session struct {
	lm     *LM
	s      *compile.Session
	tokens []int32

	// Reused between steps: decoding allocates as little as it can.
	in   map[string]*tensor.Tensor
	pos  []int32
	rows []int32
	past *tensor.Tensor
}

// NewSession starts an empty session. Its KV cache (MaxSeq tokens) is
// allocated here, and one-token steps are planned, so the first token
// costs what every other does.
func (lm *LM) NewSession() (*Session, error) {
	p, err := lm.program(progKey{})
	if err != nil {
		return nil, err
	}
	s := lm.session(p)
	// Allocate the KV cache and plan one-token steps now, as an inference
	// context is set up before its first token: the first decode step then
	// costs what every other does.
	one := []int{1, 1}
	if err := s.s.Prepare(map[string][]int{"ids": one, "positions": one, "past": {1}, "rows": {1}}, nil); err != nil {
		s.Close()
		return nil, fmt.Errorf("runtime: %w", err)
	}
	return s, nil
}

func (lm *LM) session(p *compile.Program) *Session {
	return &Session{lm: lm, s: p.NewSession(), in: map[string]*tensor.Tensor{}, past: tensor.FromI32([]int32{0}, 1)}
}

// step runs ids after the cached tokens and returns the program's outputs:
// logits of the last position, or of every position when all. The outputs
// are the compiled session's (compile.Session.RunShared): valid until the
// next step.
func (s *Session) step(ctx context.Context, ids []int32, all bool) (map[string]*tensor.Tensor, error) {
	n, past := len(ids), len(s.tokens)
	s.pos = s.pos[:0]
	for i := range n {
		s.pos = append(s.pos, int32(past+i))
	}
	s.rows = s.rows[:0]
	if all {
		for i := range n {
			s.rows = append(s.rows, int32(i))
		}
	} else {
		s.rows = append(s.rows, int32(n-1))
	}
	s.past.I32()[0] = int32(past)
	s.in["ids"] = reuseI32(s.in["ids"], ids, 1, n)
	s.in["positions"] = reuseI32(s.in["positions"], s.pos, 1, n)
	s.in["past"] = s.past
	s.in["rows"] = reuseI32(s.in["rows"], s.rows, len(s.rows))
	out, err := s.s.RunShared(ctx, s.in, nil)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	s.tokens = append(s.tokens, ids...)
	return out, nil
}

// Tokens are the tokens in the cache, in order (shared; do not modify).
func (s *Session) Tokens() []int32 { return s.tokens }

// Len is the number of tokens in the cache.
func (s *Session) Len() int { return len(s.tokens) }

// Reset empties the cache.
func (s *Session) Reset() {
	s.s.Reset()
	s.tokens = s.tokens[:0]
}

// Truncate forgets every token after the first n (n ≤ Len). Nothing is
// cleared: later tokens overwrite the cache rows, and attention never reads
// past the tokens in it.
func (s *Session) Truncate(n int) {
	if n >= 0 && n < len(s.tokens) {
		s.tokens = s.tokens[:n]
	}
}

// Close frees the cache.
func (s *Session) Close() { s.s.Close() }

// Append runs ids after the tokens already in the cache and returns the
// logits of the last position. They live in a buffer the session reuses:
// valid until the next call that runs the session (Append, Generate,
// Continue), which overwrites them, so copy them to keep them. Tokens that
// would not fit the context are an error wrapping ErrContextOverflow, and
// nothing is run.
func (s *Session) Append(ctx context.Context, ids []int32) ([]float32, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("runtime: no tokens to append")
	}
	if n := len(s.tokens) + len(ids); n > s.lm.opt.MaxSeq {
		return nil, s.lm.overflow(n)
	}
	if err := s.lm.checkIDs(ids); err != nil {
		return nil, err
	}
	var logits []float32
	for done := 0; done < len(ids); {
		n := min(s.lm.opt.PrefillChunk, len(ids)-done)
		out, err := s.step(ctx, ids[done:done+n], false)
		if err != nil {
			return nil, err
		}
		logits = out["logits"].F32()
		done += n
	}
	return logits, nil
}

// reuseI32 returns t holding v with the given shape, reusing t's memory
// when it has that shape already (every decode step does). The compiled
// program copies inputs in, so overwriting one after a run is safe.
func reuseI32(t *tensor.Tensor, v []int32, shape ...int) *tensor.Tensor {
	if t == nil || !slices.Equal(t.Shape, shape) {
		return tensor.FromI32(v, shape...)
	}
	copy(t.I32(), v)
	return t
}
