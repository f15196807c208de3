package runtime

import (
	"context"
	"errors"
	"iter"
	"math"
	"strings"
	"time"
)

// TextDecoder turns generated ids into text as they arrive
// (*tokenizer.StreamDecoder is one).
type TextDecoder interface {
	Add(id int32) (string, error)
	Flush() (string, error)
}

// GenerateOptions control one generation.
type GenerateOptions struct {
	// MaxTokens caps the new tokens (0: until a stop or the context is full).
	MaxTokens int
	Sampler   SamplerOptions
	// StopIDs end generation when produced (not included in the result).
	// Nil means the model's end-of-generation ids; use IgnoreEOS to run on.
	StopIDs   []int32
	IgnoreEOS bool
	// StopStrings end generation when the text contains one; the text is
	// cut before it. They need a Decoder.
	StopStrings []string
	// Decoder, when set, makes text: Token.Text and Result.Text.
	Decoder TextDecoder
	// Vocab, when > 0, limits sampling to ids below it: models whose
	// embedding table is padded past the tokenizer's last id (Qwen's
	// 151936 rows for 151669 tokens) must not produce the padding.
	Vocab int
	// OnToken, when set, receives every new token as it is produced;
	// returning an error stops generation with that error.
	OnToken func(Token) error
}

// Token is one generated token and the text it completed (text may lag a
// token behind where a character spans tokens or a stop string may start).
type Token struct {
	ID   int32
	Text string
}

// StopReason says why generation ended.
type StopReason string

// Stop reasons.
const (
	StopEOS     StopReason = "eos"     // an end-of-generation id
	StopString  StopReason = "stop"    // a stop string
	StopLength  StopReason = "length"  // MaxTokens reached
	StopContext StopReason = "context" // the context window is full
)

// Timings measure a generation.
type Timings struct {
	PromptTokens int           `json:"prompt_tokens"`
	Prefill      time.Duration `json:"prefill_ns"`
	GenTokens    int           `json:"generated_tokens"`
	Decode       time.Duration `json:"decode_ns"`
}

// PrefillPerSecond is prompt tokens per second.
func (t Timings) PrefillPerSecond() float64 { return rate(t.PromptTokens, t.Prefill) }

// DecodePerSecond is generated tokens per second (the first token comes
// from the prefill, so it is not counted).
func (t Timings) DecodePerSecond() float64 { return rate(t.GenTokens-1, t.Decode) }

func rate(n int, d time.Duration) float64 {
	if n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Result is a finished generation.
type Result struct {
	IDs          []int32 // new tokens only, stop id excluded
	Text         string  // with a Decoder
	PromptTokens int
	Stop         StopReason
	Timings      Timings
}

// Generate runs prompt in a fresh session and generates after it.
func (lm *LM) Generate(ctx context.Context, prompt []int32, o GenerateOptions) (*Result, error) {
	s, err := lm.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Generate(ctx, prompt, o)
}

// Stream is Generate as an iterator of tokens; a failure is yielded once
// as the last pair. Breaking out of the loop stops generation.
func (lm *LM) Stream(ctx context.Context, prompt []int32, o GenerateOptions) iter.Seq2[Token, error] {
	return func(yield func(Token, error) bool) {
		stop := errors.New("stopped")
		o.OnToken = func(t Token) error {
			if !yield(t, nil) {
				return stop
			}
			return nil
		}
		if _, err := lm.Generate(ctx, prompt, o); err != nil && !errors.Is(err, stop) {
			yield(Token{}, err)
		}
	}
}

// Generate appends prompt to the session (it may continue a conversation
// already in the cache) and generates. A prompt that does not fit is an
// error wrapping ErrContextOverflow; generation that fills the context
// stops with StopContext.
func (s *Session) Generate(ctx context.Context, prompt []int32, o GenerateOptions) (*Result, error) {
	if err := o.Sampler.Validate(); err != nil {
		return nil, err
	}
	if len(o.StopStrings) > 0 && o.Decoder == nil {
		return nil, errors.New("runtime: stop strings need a text decoder")
	}
	stops := o.StopIDs
	if stops == nil && !o.IgnoreEOS {
		stops = s.lm.model.Config.EOS
	}
	res := &Result{PromptTokens: len(prompt)}
	t0 := time.Now()
	logits, err := s.Append(ctx, prompt)
	if err != nil {
		return nil, err
	}
	res.Timings.PromptTokens, res.Timings.Prefill = len(prompt), time.Since(t0)
	t1 := time.Now()
	defer func() { res.Timings.Decode = time.Since(t1) }()
	smp := NewSampler(o.Sampler)
	var text strings.Builder
	held := "" // decoded text not yet emitted: it may start a stop string
	emit := func(id int32, piece string) error {
		if o.OnToken == nil {
			return nil
		}
		return o.OnToken(Token{ID: id, Text: piece})
	}
	for {
		limitVocab(logits, o.Vocab)
		id := smp.Sample(logits, s.tokens)
		if contains(stops, id) {
			res.Stop = StopEOS
			break
		}
		res.IDs = append(res.IDs, id)
		res.Timings.GenTokens++
		piece := ""
		if o.Decoder != nil {
			p, err := o.Decoder.Add(id)
			if err != nil {
				return nil, err
			}
			held += p
			if cut, hit := findStop(held, o.StopStrings); hit {
				text.WriteString(held[:cut])
				if err := emit(id, held[:cut]); err != nil {
					return nil, err
				}
				held = ""
				res.Stop = StopString
				break
			}
			safe := len(held) - stopPrefix(held, o.StopStrings)
			piece, held = held[:safe], held[safe:]
			text.WriteString(piece)
		}
		if err := emit(id, piece); err != nil {
			return nil, err
		}
		// The last token is not run: nothing would use its logits.
		if o.MaxTokens > 0 && len(res.IDs) >= o.MaxTokens {
			res.Stop = StopLength
			break
		}
		if s.Len() >= s.lm.opt.MaxSeq {
			res.Stop = StopContext
			break
		}
		if logits, err = s.Append(ctx, []int32{id}); err != nil {
			return nil, err
		}
	}
	if o.Decoder != nil && res.Stop != StopString {
		rest, err := o.Decoder.Flush()
		if err != nil {
			return nil, err
		}
		held += rest
		if cut, hit := findStop(held, o.StopStrings); hit {
			held = held[:cut]
			res.Stop = StopString
		}
		text.WriteString(held)
		if held != "" && o.OnToken != nil {
			if err := o.OnToken(Token{ID: -1, Text: held}); err != nil {
				return nil, err
			}
		}
	}
	res.Text = text.String()
	return res, nil
}

// Continue generates after the whole token sequence ids (a conversation
// so far, say), reusing the longest prefix of it already in the cache: only
// the rest is run. The cache keeps the tokens it ran; a later Continue
// with the conversation extended runs only the new part.
func (s *Session) Continue(ctx context.Context, ids []int32, o GenerateOptions) (*Result, error) {
	if len(ids) == 0 {
		return nil, errors.New("runtime: no tokens")
	}
	n := 0
	for n < len(ids) && n < len(s.tokens) && ids[n] == s.tokens[n] {
		n++
	}
	// At least one token must run to have logits to sample from.
	n = min(n, len(ids)-1)
	s.Truncate(n)
	res, err := s.Generate(ctx, ids[n:], o)
	if res != nil {
		res.PromptTokens = len(ids)
		res.Timings.PromptTokens = len(ids) - n
	}
	return res, err
}

func limitVocab(logits []float32, n int) {
	if n > 0 && n < len(logits) {
		inf := float32(math.Inf(-1))
		for i := n; i < len(logits); i++ {
			logits[i] = inf
		}
	}
}

func contains(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// findStop returns where the earliest stop string starts in s.
func findStop(s string, stops []string) (int, bool) {
	best := -1
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(s, st); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best, best >= 0
}

// stopPrefix is the length of the longest suffix of s that is a proper
// prefix of a stop string: text that must wait for the next token.
func stopPrefix(s string, stops []string) int {
	n := 0
	for _, st := range stops {
		for k := min(len(st)-1, len(s)); k > n; k-- {
			if strings.HasSuffix(s, st[:k]) {
				n = k
				break
			}
		}
	}
	return n
}
