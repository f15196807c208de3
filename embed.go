package rlx

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/runtime/embed"
	"github.com/rlx-go/rlx/tokenizer"
	"github.com/rlx-go/rlx/weights"

	// The encoder families register themselves.
	_ "github.com/rlx-go/rlx/models/nomicbert"
)

// EmbedderOption configures OpenEmbedder. The shared options (WithThreads,
// WithDevice, WithMaxSeq, WithQuant) are EmbedderOptions too; WithMaxSeq
// sets the truncation length.
type EmbedderOption interface {
	applyEmbedder(*embedderConfig) error
}

type embedderConfig struct {
	base      config
	batch     int
	normalize *bool
	pooling   embed.Pooling
	prefix    *string
	pooler    bool
}

func (o Option) applyEmbedder(c *embedderConfig) error { return o(&c.base) }

type embedderOption func(*embedderConfig) error

func (o embedderOption) applyEmbedder(c *embedderConfig) error { return o(c) }

// WithBatchSize sets how many texts run through the model together
// (default 32). Texts are sorted by length first, so a batch pads little.
func WithBatchSize(n int) EmbedderOption {
	return embedderOption(func(c *embedderConfig) error {
		if n <= 0 {
			return fmt.Errorf("rlx: batch size %d", n)
		}
		c.batch = n
		return nil
	})
}

// WithNormalize scales every embedding to unit length (on) or leaves it
// as pooled (off), overriding the checkpoint's Normalize module.
func WithNormalize(on bool) EmbedderOption {
	return embedderOption(func(c *embedderConfig) error {
		c.normalize = &on
		return nil
	})
}

// WithPooling picks the pooling — "mean", "cls", "max", "last",
// "mean_sqrt_len" — overriding the checkpoint's 1_Pooling/config.json
// (or a GGUF file's pooling_type).
func WithPooling(name string) EmbedderOption {
	return embedderOption(func(c *embedderConfig) error {
		p, err := embed.ParsePooling(name)
		if err != nil {
			return fmt.Errorf("rlx: %w", err)
		}
		if p == embed.None {
			return errors.New("rlx: pooling \"none\": use EmbedTokens for token-level outputs")
		}
		c.pooling = p
		return nil
	})
}

// WithPrefix puts an instruction before every text ("query: " for E5,
// "search_query: " for nomic-embed-text, BGE's retrieval instruction),
// replacing the checkpoint's default prompt. With include_prompt false in
// 1_Pooling/config.json its tokens are left out of the pooling, as
// sentence-transformers does.
func WithPrefix(s string) EmbedderOption {
	return embedderOption(func(c *embedderConfig) error {
		c.prefix = &s
		return nil
	})
}

// WithPooler makes EmbedTokens' results carry BERT's pooler output (and
// fails on checkpoints without a pooler, such as GGUF files).
func WithPooler() EmbedderOption {
	return embedderOption(func(c *embedderConfig) error {
		c.pooler = true
		return nil
	})
}

// Embedder turns texts into vectors with an encoder model (BERT, MiniLM,
// BGE, E5, NomicBERT). It is safe for concurrent use.
type Embedder struct {
	w       *weights.Map
	enc     *embed.Encoder
	tok     *tokenizer.Tokenizer
	family  string
	prefix  string
	skip    int
	lower   bool
	maxLen  int
	pool    *parallel.Pool
	release func() // frees the device (a GPU) after the encoder
	folder  *embed.Folder
	typeIDs bool
}

// TokenInput is one pre-tokenized input for EmbedIDs: ids and optional
// token types.
type TokenInput = embed.Input

// OpenEmbedder opens an encoder checkpoint — a sentence-transformers
// folder, a Hugging Face folder with config.json and safetensors, or a
// GGUF file of architecture bert or nomic-bert — with its tokenizer and
// pooling configuration, and compiles it for the CPU.
//
// A sentence-transformers folder behaves as in Python: modules.json,
// 1_Pooling/config.json, sentence_bert_config.json (max_seq_length,
// do_lower_case) and a Normalize module are honoured. Texts longer than
// max_seq_length tokens (special tokens included) are cut at the end, as
// sentence-transformers does.
func OpenEmbedder(path string, opts ...EmbedderOption) (*Embedder, error) {
	cfg := embedderConfig{base: config{device: "cpu"}}
	for _, o := range opts {
		if err := o.applyEmbedder(&cfg); err != nil {
			return nil, err
		}
	}
	e := &Embedder{}
	if err := e.open(path, cfg); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Embedder) open(path string, cfg embedderConfig) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("rlx: %w", err)
	}
	folder := &embed.Folder{ModelDir: path, IncludePrompt: true}
	if st.IsDir() {
		if folder, err = embed.ReadFolder(path); err != nil {
			return fmt.Errorf("rlx: %s: %w", path, err)
		}
	}
	e.folder = folder
	var wopts []weights.Option
	if cfg.base.prefer != "" {
		wopts = append(wopts, weights.Prefer(cfg.base.prefer))
	}
	if e.w, err = weights.Open(folder.ModelDir, wopts...); err != nil {
		return fmt.Errorf("rlx: %w", err)
	}
	fam, hfJSON, err := family(path, e.w)
	if err != nil {
		return err
	}
	open, isEnc := fam.Open.(bert.OpenFunc)
	if fam.Kind != models.Embedder || !isEnc {
		return fmt.Errorf("rlx: %s: %s is a %v model, not a text encoder (use OpenLM for language models): %w", path, fam.Name, fam.Kind, ErrUnsupported)
	}
	e.family = fam.Name
	model, err := open(e.w, hfJSON)
	if err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	c := model.Config
	e.typeIDs = c.TypeVocab > 0

	o := embed.Options{Pooling: folder.Pooling, BatchSize: cfg.batch, Normalize: folder.Normalize, Pooler: cfg.pooler}
	if o.Pooling == embed.Default {
		switch c.GGUFPooling {
		case 2:
			o.Pooling = embed.CLS
		case 3:
			o.Pooling = embed.Last
		}
	}
	if cfg.pooling != embed.Default {
		o.Pooling = cfg.pooling
	}
	if cfg.normalize != nil {
		o.Normalize = *cfg.normalize
	}

	e.maxLen = folder.MaxSeqLength
	if e.maxLen == 0 || (!c.Rotary && e.maxLen > c.MaxPositions) {
		e.maxLen = c.MaxPositions
	}
	if cfg.base.maxSeq > 0 {
		if !c.Rotary && cfg.base.maxSeq > c.MaxPositions {
			return fmt.Errorf("rlx: %s: WithMaxSeq(%d) is longer than the model's %d positions", path, cfg.base.maxSeq, c.MaxPositions)
		}
		e.maxLen = cfg.base.maxSeq
	}
	if e.maxLen <= 0 {
		e.maxLen = 512
	}
	e.lower = folder.Lowercase
	e.prefix = folder.DefaultPrompt
	if cfg.prefix != nil {
		e.prefix = *cfg.prefix
	}
	if err := e.loadTokenizer(path, folder); err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	if e.prefix != "" && !folder.IncludePrompt && e.tok != nil {
		ids, err := e.tok.Encode(e.prefix, true)
		if err != nil {
			return fmt.Errorf("rlx: prefix: %w", err)
		}
		e.skip = len(ids)
		if e.skip > 0 && e.tok.IsSpecial(ids[e.skip-1]) {
			e.skip--
		}
	}

	co := cpu.Options{}
	if cfg.base.threads > 0 {
		e.pool = parallel.New(cfg.base.threads)
		co.Pool = e.pool
	}
	be, release, err := openBackend(cfg.base.device, co, false)
	if err != nil {
		return err
	}
	e.release = release
	if e.enc, err = embed.New(model, be, o); err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	return nil
}

func (e *Embedder) loadTokenizer(path string, f *embed.Folder) error {
	var err error
	if md := e.w.GGUF(); md != nil {
		if m, _ := md.String("tokenizer.ggml.model"); m == "" || m == "none" {
			return nil
		}
		if e.tok, err = tokenizer.LoadGGUF(e.w.Files()[0]); err != nil {
			return err
		}
	} else {
		for _, dir := range []string{f.ModelDir, path} {
			if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if e.tok, err = tokenizer.Load(dir); err != nil {
				return err
			}
			break
		}
		if e.tok == nil {
			return nil
		}
	}
	e.tok.SetPadding(nil)
	e.tok.SetTruncation(&tokenizer.Truncation{MaxLength: e.maxLen})
	return nil
}

// Close releases the model.
func (e *Embedder) Close() error {
	if e.enc != nil {
		e.enc.Close()
	}
	if e.release != nil {
		e.release()
	}
	if e.pool != nil {
		e.pool.Close()
	}
	if e.w != nil {
		return e.w.Close()
	}
	return nil
}

// Family is the model family's name ("bert", "nomic_bert").
func (e *Embedder) Family() string { return e.family }

// Dim is the length of the embeddings.
func (e *Embedder) Dim() int { return e.enc.Model().Config.Hidden }

// MaxSeqLength is the truncation length in tokens (special tokens
// included).
func (e *Embedder) MaxSeqLength() int { return e.maxLen }

// Pooling is the pooling in effect ("mean", "cls", …).
func (e *Embedder) Pooling() string { return e.enc.Options().Pooling.String() }

// Tokenize returns the model inputs for texts: prefix, lowercasing and
// truncation applied, as Embed does.
func (e *Embedder) Tokenize(texts []string) ([]TokenInput, error) {
	if e.tok == nil {
		return nil, ErrNoTokenizer
	}
	in := make([]TokenInput, len(texts))
	for i, t := range texts {
		t = e.prefix + t
		if e.lower {
			t = strings.ToLower(t)
		}
		enc, err := e.tok.EncodeFull(t, true)
		if err != nil {
			return nil, fmt.Errorf("rlx: text %d: %w", i, err)
		}
		in[i] = TokenInput{IDs: enc.IDs, Skip: e.skip}
		if e.typeIDs {
			in[i].Types = enc.TypeIDs
		}
	}
	return in, nil
}

// Embed returns one embedding per text, in order.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	in, err := e.Tokenize(texts)
	if err != nil {
		return nil, err
	}
	return e.EmbedIDs(ctx, in)
}

// EmbedIDs embeds pre-tokenized inputs (no prefix, lowercasing or
// truncation is applied to them).
func (e *Embedder) EmbedIDs(ctx context.Context, in []TokenInput) ([][]float32, error) {
	out, err := e.enc.Embed(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("rlx: %w", err)
	}
	return out, nil
}

// TokenEmbeddings are the token-level outputs of one text.
type TokenEmbeddings = embed.Result

// EmbedTokens returns, per text, the pooled embedding together with the
// last hidden state of every token (and BERT's pooler output with
// WithPooler).
func (e *Embedder) EmbedTokens(ctx context.Context, texts []string) ([]TokenEmbeddings, error) {
	in, err := e.Tokenize(texts)
	if err != nil {
		return nil, err
	}
	return e.EmbedTokenIDs(ctx, in)
}

// EmbedTokenIDs is EmbedTokens for pre-tokenized inputs.
func (e *Embedder) EmbedTokenIDs(ctx context.Context, in []TokenInput) ([]TokenEmbeddings, error) {
	out, err := e.enc.Run(ctx, in, true)
	if err != nil {
		return nil, fmt.Errorf("rlx: %w", err)
	}
	return out, nil
}
