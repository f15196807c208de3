// Package rlx runs model checkpoints — Hugging Face safetensors folders and
// GGUF files — on the CPU, matching the reference implementations' outputs.
//
// OpenLM loads a decoder language model (Qwen3, Qwen3-MoE, Llama 3.x,
// SmolLM2, Qwen2/2.5, Gemma 1/2/3): it sniffs the format and architecture,
// picks the model family, loads the tokenizer and chat template beside the
// weights, and compiles the model for the CPU. Generate, Chat, Stream and
// Logits then run it; package runtime has the lower-level sessions.
package rlx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/chat"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/tokenizer"
	"github.com/rlx-go/rlx/weights"

	// The decoder families register themselves.
	_ "github.com/rlx-go/rlx/models/gemma"
	_ "github.com/rlx-go/rlx/models/gemma2"
	_ "github.com/rlx-go/rlx/models/gemma3"
	_ "github.com/rlx-go/rlx/models/llama"
	_ "github.com/rlx-go/rlx/models/qwen2"
	_ "github.com/rlx-go/rlx/models/qwen3"
	_ "github.com/rlx-go/rlx/models/qwen3moe"
)

// ErrUnsupported is wrapped by errors about checkpoints whose architecture
// rlx does not run.
var ErrUnsupported = errors.New("unsupported architecture")

// ErrNoTokenizer is returned by text methods of a model that has no
// tokenizer (GGUF files with tokenizer.ggml.model "none"): use token ids.
var ErrNoTokenizer = errors.New("rlx: the model has no tokenizer; pass token ids")

// LM is a decoder language model ready to generate. It is safe for
// concurrent use; every call runs in its own session.
type LM struct {
	w      *weights.Map
	model  *nn.Model
	rt     *runtime.LM
	tok    *tokenizer.Tokenizer
	tmpl   *chat.Template
	chatO  chat.Options
	family string
	pool   *parallel.Pool
	// be runs the programs; release frees it (a GPU) after they are closed.
	be      backend.Backend
	release func()
}

// OpenLM opens the checkpoint at path — a GGUF file, a folder of GGUF
// files (WithQuant picks one), or a safetensors folder with config.json —
// and prepares it to run.
//
// Memory: the CPU kernels pack most weights into their own layouts on the
// Go heap and drop the file's pages of each packed weight, so a loaded
// model holds about one copy of its weights plus the KV cache. At the
// default GOGC of 100 the collector lets garbage grow to the size of that
// heap before it runs; a program that keeps a model loaded should lower it
// (GOGC=10 or debug.SetGCPercent(10), as the rlx command does: the copies
// hold no pointers, so collections stay cheap).
func OpenLM(path string, opts ...Option) (*LM, error) {
	cfg := config{device: "cpu"}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	var wopts []weights.Option
	if cfg.prefer != "" {
		wopts = append(wopts, weights.Prefer(cfg.prefer))
	}
	w, err := weights.Open(path, wopts...)
	if err != nil {
		return nil, fmt.Errorf("rlx: %w", err)
	}
	lm := &LM{w: w}
	if err := lm.open(path, cfg); err != nil {
		lm.Close()
		return nil, err
	}
	return lm, nil
}

func (lm *LM) open(path string, cfg config) error {
	fam, hfJSON, err := family(path, lm.w)
	if err != nil {
		return err
	}
	var dir string
	if lm.w.GGUF() == nil {
		dir = filepath.Dir(lm.w.Resolved.ConfigPath)
	}
	open, isLM := fam.Open.(nn.OpenFunc)
	if fam.Kind != models.LM || !isLM {
		return fmt.Errorf("rlx: %s: %s is a %v model, not a language model: %w", path, fam.Name, fam.Kind, ErrUnsupported)
	}
	lm.family = fam.Name
	model, err := open(nn.Source{Weights: lm.w, HFConfig: hfJSON})
	if err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	lm.model = model
	if err := lm.loadTokenizer(dir); err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	if dir != "" {
		if err := addGenerationEOS(model.Config, filepath.Join(dir, "generation_config.json")); err != nil {
			return fmt.Errorf("rlx: %s: %w", path, err)
		}
	}
	if lm.tok != nil {
		for _, id := range lm.tok.Specials().EOT {
			if !model.Config.IsEOS(id) && int(id) < model.Config.Vocab {
				model.Config.EOS = append(model.Config.EOS, id)
			}
		}
	}
	ro := runtime.Options{MaxSeq: cfg.maxSeq, KV: cfg.kv}
	var (
		total    int64
		reported int64 = -1
	)
	report := func(done int64) {
		if done = min(done, total); done > reported {
			reported = done
			cfg.progress(done, total)
		}
	}
	if cfg.progress != nil {
		total = lm.weightBytes()
		report(0)
		ro.Progress = report
	}
	if cfg.maxMemory > 0 {
		if need := lm.memory(ro); need > cfg.maxMemory {
			return fmt.Errorf("rlx: %s needs about %d MiB (weights and KV cache), over the limit of %d MiB", path, need>>20, cfg.maxMemory>>20)
		}
	}
	co := cpu.Options{}
	if cfg.threads > 0 {
		lm.pool = parallel.New(cfg.threads)
		co.Pool = lm.pool
	}
	be, release, err := openBackend(cfg.device, co, cfg.kv != tensor.F32)
	if err != nil {
		return err
	}
	lm.be, lm.release = be, release
	rt, err := runtime.New(model, be, ro)
	if err != nil {
		return fmt.Errorf("rlx: %s: %w", path, err)
	}
	lm.rt = rt
	if cfg.progress != nil {
		report(total)
	}
	return nil
}

// weightBytes is the size of all the checkpoint's tensors.
func (lm *LM) weightBytes() int64 {
	var n int64
	for _, t := range lm.w.All() {
		n += int64(len(t.Data))
	}
	return n
}

// family finds the model family of opened weights: by the GGUF
// architecture, or by the model_type and architectures of the config.json
// beside safetensors files, which it returns for the family to parse.
func family(path string, w *weights.Map) (models.Family, []byte, error) {
	if md := w.GGUF(); md != nil {
		arch := md.Arch()
		fam, ok := models.ByGGUF(arch)
		if !ok {
			return fam, nil, unsupported(path, arch, func() (models.Known, bool) { return models.KnownByGGUF(arch) })
		}
		return fam, nil, nil
	}
	r := w.Resolved
	if r.ConfigPath == "" {
		return models.Family{}, nil, fmt.Errorf("rlx: %s: no config.json beside the safetensors files", path)
	}
	hfJSON, err := os.ReadFile(r.ConfigPath)
	if err != nil {
		return models.Family{}, nil, fmt.Errorf("rlx: %w", err)
	}
	var head struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(hfJSON, &head); err != nil {
		return models.Family{}, nil, fmt.Errorf("rlx: %s: %w", r.ConfigPath, err)
	}
	fam, ok := models.ByHF(head.ModelType, head.Architectures)
	if !ok {
		return fam, nil, unsupported(path, head.ModelType, func() (models.Known, bool) { return models.KnownByHF(head.ModelType, head.Architectures) })
	}
	return fam, hfJSON, nil
}

func unsupported(path, name string, known func() (models.Known, bool)) error {
	if name == "" {
		return fmt.Errorf("rlx: %s: the checkpoint names no architecture: %w", path, ErrUnsupported)
	}
	if k, ok := known(); ok {
		return fmt.Errorf("rlx: %s: KnownUnimplemented(%s): %w", path, k.Family, ErrUnsupported)
	}
	return fmt.Errorf("rlx: %s: architecture %q is unknown: %w", path, name, ErrUnsupported)
}

// memory estimates the bytes the weights and the KV cache take.
func (lm *LM) memory(ro runtime.Options) int64 {
	n := lm.weightBytes()
	c := lm.model.Config
	seq := ro.MaxSeq
	if seq <= 0 {
		seq = min(max(c.MaxPos, 1), 4096)
	}
	el := int64(2)
	if ro.KV == tensor.F32 {
		el = 4
	}
	return n + 2*int64(c.Layers)*int64(seq)*int64(c.KVHeads*c.HeadDim)*el
}

func (lm *LM) loadTokenizer(dir string) error {
	if md := lm.w.GGUF(); md != nil {
		if m, _ := md.String("tokenizer.ggml.model"); m == "" || m == "none" {
			return nil
		}
		// From the metadata already parsed: reopening the file would
		// decode its vocabulary strings a second time.
		v, err := tokenizer.VocabFromGGUF(md)
		if err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
		t, err := tokenizer.FromGGUF(v)
		if err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
		lm.tok = t
		if src, ok := md.String("tokenizer.chat_template"); ok {
			tmpl, err := chat.Parse(src)
			if err != nil {
				return fmt.Errorf("tokenizer.chat_template: %w", err)
			}
			lm.tmpl = tmpl
			if id, ok := t.BOS(); ok {
				lm.chatO.BOSToken, _ = t.IDToToken(id)
			}
			if id, ok := t.EOS(); ok {
				lm.chatO.EOSToken, _ = t.IDToToken(id)
			}
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil // weights without a tokenizer: ids only
	}
	t, err := tokenizer.Load(dir)
	if err != nil {
		return err
	}
	lm.tok = t
	if c, err := chat.LoadConfig(dir); err == nil && len(c.Templates) > 0 {
		tmpl, err := c.Template("")
		if err != nil {
			return err
		}
		lm.tmpl, lm.chatO = tmpl, c.Options()
	}
	return nil
}

// addGenerationEOS adds generation_config.json's eos_token_id (a number or
// a list) to the stop ids.
func addGenerationEOS(c *nn.Config, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var g struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ids, err := nn.TokenIDs(g.EOS)
	if err != nil {
		return fmt.Errorf("%s: eos_token_id: %w", path, err)
	}
	for _, id := range ids {
		if !c.IsEOS(id) {
			c.EOS = append(c.EOS, id)
		}
	}
	return nil
}

// Close releases the model.
func (lm *LM) Close() error {
	if lm.rt != nil {
		lm.rt.Close()
	}
	if lm.release != nil {
		lm.release()
	}
	if lm.pool != nil {
		lm.pool.Close()
	}
	return lm.w.Close()
}

// Family is the model family's name ("qwen3", "llama", …).
func (lm *LM) Family() string { return lm.family }

// Config is the model's configuration.
func (lm *LM) Config() *nn.Config { return lm.model.Config }

// Tokenizer is the model's tokenizer, nil when the checkpoint has none.
func (lm *LM) Tokenizer() *tokenizer.Tokenizer { return lm.tok }

// Runtime is the compiled model, for sessions, batches and benchmarks.
func (lm *LM) Runtime() *runtime.LM { return lm.rt }

// Encode turns text into ids, with the special tokens the tokenizer adds.
func (lm *LM) Encode(text string) ([]int32, error) {
	if lm.tok == nil {
		return nil, ErrNoTokenizer
	}
	return lm.tok.Encode(text, true)
}

// Generate continues prompt (text, encoded with the tokenizer's special
// tokens). The result holds the new ids and their text.
func (lm *LM) Generate(ctx context.Context, prompt string, opts ...GenerateOption) (*runtime.Result, error) {
	ids, err := lm.Encode(prompt)
	if err != nil {
		return nil, err
	}
	return lm.GenerateIDs(ctx, ids, opts...)
}

// GenerateIDs continues a prompt given as token ids.
func (lm *LM) GenerateIDs(ctx context.Context, ids []int32, opts ...GenerateOption) (*runtime.Result, error) {
	o, err := generateOptions(opts)
	if err != nil {
		return nil, err
	}
	lm.textOptions(&o)
	return lm.rt.Generate(ctx, ids, o)
}

// Stream is Generate as an iterator over the new tokens.
func (lm *LM) Stream(ctx context.Context, prompt string, opts ...GenerateOption) iter.Seq2[runtime.Token, error] {
	ids, err := lm.Encode(prompt)
	if err != nil {
		return func(yield func(runtime.Token, error) bool) { yield(runtime.Token{}, err) }
	}
	o, err := generateOptions(opts)
	if err != nil {
		return func(yield func(runtime.Token, error) bool) { yield(runtime.Token{}, err) }
	}
	lm.textOptions(&o)
	return lm.rt.Stream(ctx, ids, o)
}

// textOptions decodes text with the tokenizer and keeps sampling to the
// ids it has.
func (lm *LM) textOptions(o *runtime.GenerateOptions) {
	if lm.tok == nil {
		return
	}
	o.Decoder = lm.tok.NewStreamDecoder(true)
	if n := lm.tok.VocabSize(); n < lm.model.Config.Vocab {
		o.Vocab = n
	}
}

// ChatPrompt renders messages with the model's chat template, ending with
// the start of the assistant's turn.
func (lm *LM) ChatPrompt(messages []chat.Message) (string, error) {
	if lm.tmpl == nil {
		return "", errors.New("rlx: the model has no chat template")
	}
	o := lm.chatO
	o.AddGenerationPrompt = true
	return lm.tmpl.Apply(messages, o)
}

// Chat renders messages with the chat template and generates the
// assistant's reply.
func (lm *LM) Chat(ctx context.Context, messages []chat.Message, opts ...GenerateOption) (*runtime.Result, error) {
	if lm.tok == nil {
		return nil, ErrNoTokenizer
	}
	prompt, err := lm.ChatPrompt(messages)
	if err != nil {
		return nil, err
	}
	// The template writes the special tokens itself, as transformers'
	// apply_chat_template(tokenize=True) assumes.
	ids, err := lm.tok.Encode(prompt, false)
	if err != nil {
		return nil, err
	}
	return lm.GenerateIDs(ctx, ids, opts...)
}

// Logits returns the logits of every position of ids ([len(ids), vocab]).
func (lm *LM) Logits(ctx context.Context, ids []int32) (*runtime.Logits, error) {
	return lm.rt.PredictLogits(ctx, ids)
}
