package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/internal/progress"
	"github.com/rlx-go/rlx/runtime"
	"github.com/spf13/cobra"
)

// lmFlags are the model-loading flags generate and logits share.
type lmFlags struct {
	weights   string
	maxSeq    int
	threads   int
	precision string
	quant     string
	device    string
}

func (f *lmFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.weights, "weights", "", "GGUF file, folder of GGUF files, or safetensors folder with config.json")
	cmd.Flags().IntVar(&f.maxSeq, "max-seq", 0, "context length (KV cache size; default: the model's, at most 4096)")
	cmd.Flags().IntVar(&f.threads, "threads", 0, "CPU threads (default: all cores)")
	cmd.Flags().StringVar(&f.precision, "precision", "f16", "KV cache precision: f16 or f32")
	cmd.Flags().StringVar(&f.quant, "quant", "", "GGUF quantization to pick in a folder (Q4_K_M, Q8_0, F16, …)")
	cmd.Flags().StringVar(&f.device, "device", "cpu", "where to run: cpu, cuda (GPU 0) or cuda:N")
}

// samplingFlags are the sampling flags of chat and generate.
type samplingFlags struct {
	temp, topP, minP float64
	topK             int
	seed             uint64
	greedy           bool
}

func (s *samplingFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Float64Var(&s.temp, "temp", 0.8, "sampling temperature (0: greedy)")
	f.IntVar(&s.topK, "top-k", 40, "keep the K most likely tokens (0: all)")
	f.Float64Var(&s.topP, "top-p", 0.95, "keep the most likely tokens up to probability P (1: all)")
	f.Float64Var(&s.minP, "min-p", 0.05, "drop tokens below P times the most likely one (0: none)")
	f.Uint64Var(&s.seed, "seed", 0, "sampling seed")
	f.BoolVar(&s.greedy, "greedy", false, "always take the most likely token")
}

// options are the generation options the flags ask for.
func (s *samplingFlags) options() []rlx.GenerateOption {
	opts := []rlx.GenerateOption{rlx.Seed(s.seed), rlx.Temperature(s.temp), rlx.TopK(s.topK), rlx.TopP(s.topP), rlx.MinP(s.minP)}
	if s.greedy {
		opts = append(opts, rlx.Greedy())
	}
	return opts
}

// lmGCPercent is the GOGC the model commands run with unless the
// environment sets one.
const lmGCPercent = 10

// open loads the model, with a progress bar of the weights' preparation on
// stderr when it is a terminal.
func (f *lmFlags) open(stderr io.Writer) (*rlx.LM, error) {
	if f.weights == "" {
		return nil, errors.New("--weights PATH is required")
	}
	if os.Getenv("GOGC") == "" {
		// A quantized model's repacked weights are most of the heap and
		// live as long as the process; at the default GOGC of 100 the
		// collector lets garbage (sessions' buffers) grow to their size
		// again before it runs. A tenth of it costs no measurable GC time:
		// the copies hold no pointers, so a collection barely scans them
		// (docs/PERFORMANCE.md, peak RSS).
		debug.SetGCPercent(lmGCPercent)
	}
	opts := []rlx.Option{rlx.WithPrecision(f.precision), rlx.WithDevice(f.device)}
	if bar := progress.New(stderr, "loading weights"); bar != nil {
		defer bar.Finish()
		opts = append(opts, rlx.WithProgress(bar.Set))
	}
	if f.maxSeq > 0 {
		opts = append(opts, rlx.WithMaxSeq(f.maxSeq))
	}
	if f.threads > 0 {
		opts = append(opts, rlx.WithThreads(f.threads))
	}
	if f.quant != "" {
		opts = append(opts, rlx.WithQuant(f.quant))
	}
	return rlx.OpenLM(f.weights, opts...)
}

// parseIDs reads "1,2,3" (spaces allowed).
func parseIDs(s string) ([]int32, error) {
	var ids []int32
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--prompt-ids: %q is not a token id", f)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, errors.New("--prompt-ids: no ids")
	}
	return ids, nil
}

// promptIDs encodes --prompt or parses --prompt-ids (exactly one is set).
func promptIDs(lm *rlx.LM, text, ids string) ([]int32, error) {
	switch {
	case text != "" && ids != "":
		return nil, errors.New("give --prompt or --prompt-ids, not both")
	case ids != "":
		return parseIDs(ids)
	case text != "":
		out, err := lm.Encode(text)
		if errors.Is(err, rlx.ErrNoTokenizer) {
			return nil, errors.New("the model has no tokenizer: use --prompt-ids")
		}
		return out, err
	}
	return nil, errors.New("--prompt TEXT or --prompt-ids 1,2,3 is required")
}

// generateJSON is what --json prints.
type generateJSON struct {
	IDs          []int32         `json:"ids"`
	Text         string          `json:"text,omitempty"`
	PromptTokens int             `json:"prompt_tokens"`
	Stop         string          `json:"stop"`
	Timings      generateTimings `json:"timings"`
}

type generateTimings struct {
	PromptMS        float64 `json:"prompt_ms"`
	PromptPerSecond float64 `json:"prompt_per_second"`
	Generated       int     `json:"generated_tokens"`
	DecodeMS        float64 `json:"decode_ms"`
	DecodePerSecond float64 `json:"decode_per_second"`
}

func init() {
	var (
		lf                 lmFlags
		sf                 samplingFlags
		prompt, promptIDsS string
		maxTokens          int
		asJSON             bool
		stops              []string
		ignoreEOS          bool
	)
	cmd := &cobra.Command{
		Use:   "generate --weights PATH (--prompt TEXT | --prompt-ids 1,2,3) [--max-tokens N] [--temp T --top-k K --top-p P --min-p P --seed S] [--greedy] [--json]",
		Short: "Generate text with a decoder language model",
		Long: `Generate a continuation of a prompt with a decoder language model (Qwen3,
Qwen3-MoE, Llama 3.x, SmolLM2, Qwen2/2.5, Gemma 1/2/3) from a GGUF file or a
Hugging Face safetensors folder.

Sampling defaults to temperature 0.8, top-k 40, top-p 0.95, min-p 0.05 with
seed 0 (reproducible); --greedy (or --temp 0) takes the most likely token.
Generation stops at an end-of-generation token the model's metadata names,
a --stop string, --max-tokens, or a full context.

Without --json the text streams to stdout (ids when the model has no
tokenizer) and timings go to stderr. With --json one object is printed:
{"ids": [new tokens], "text": "...", "prompt_tokens": n, "stop": "...",
"timings": {...}}; text is omitted for models without a tokenizer (GGUF files
with tokenizer.ggml.model = none need --prompt-ids).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lm, err := lf.open(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer lm.Close()
			ids, err := promptIDs(lm, prompt, promptIDsS)
			if err != nil {
				return err
			}
			opts := append([]rlx.GenerateOption{rlx.MaxTokens(maxTokens)}, sf.options()...)
			if len(stops) > 0 {
				if lm.Tokenizer() == nil {
					return errors.New("--stop needs a model with a tokenizer")
				}
				opts = append(opts, rlx.Stop(stops...))
			}
			if ignoreEOS {
				opts = append(opts, rlx.IgnoreEOS())
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				opts = append(opts, rlx.OnToken(func(t runtime.Token) error {
					if lm.Tokenizer() == nil {
						_, err := fmt.Fprintf(out, "%d ", t.ID)
						return err
					}
					_, err := fmt.Fprint(out, t.Text)
					return err
				}))
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			res, err := lm.GenerateIDs(ctx, ids, opts...)
			if err != nil {
				return err
			}
			tm := res.Timings
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				ids := res.IDs
				if ids == nil {
					ids = []int32{}
				}
				return enc.Encode(generateJSON{IDs: ids, Text: res.Text, PromptTokens: res.PromptTokens, Stop: string(res.Stop),
					Timings: generateTimings{
						PromptMS: float64(tm.Prefill.Microseconds()) / 1e3, PromptPerSecond: tm.PrefillPerSecond(),
						Generated: tm.GenTokens, DecodeMS: float64(tm.Decode.Microseconds()) / 1e3, DecodePerSecond: tm.DecodePerSecond(),
					}})
			}
			fmt.Fprintln(out)
			fmt.Fprintf(cmd.ErrOrStderr(), "prompt: %d tokens, %.1f t/s; generated: %d tokens, %.1f t/s; stop: %s\n",
				tm.PromptTokens, tm.PrefillPerSecond(), tm.GenTokens, tm.DecodePerSecond(), res.Stop)
			return nil
		},
	}
	lf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&prompt, "prompt", "", "prompt text (encoded with the model's tokenizer)")
	f.StringVar(&promptIDsS, "prompt-ids", "", "prompt token ids, comma separated")
	f.IntVar(&maxTokens, "max-tokens", 128, "most new tokens (0: until a stop or a full context)")
	sf.register(cmd)
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.StringArrayVar(&stops, "stop", nil, "stop at this string (repeatable)")
	f.BoolVar(&ignoreEOS, "ignore-eos", false, "do not stop at end-of-generation tokens")
	rootCmd.AddCommand(cmd)
}
