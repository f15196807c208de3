package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/pprof"
	"time"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/runtime"
	"github.com/spf13/cobra"
)

// lmBenchResult is one test of `rlx bench` (one line of its table).
type lmBenchResult struct {
	Model    string    `json:"model"`
	Family   string    `json:"family"`
	Size     int64     `json:"size_bytes"`
	Params   int64     `json:"params"`
	Test     string    `json:"test"` // "pp128", "tg64", "tg64 @ d512"
	NPrompt  int       `json:"n_prompt"`
	NGen     int       `json:"n_gen"`
	Depth    int       `json:"n_depth"`
	Threads  int       `json:"threads"`
	Samples  []float64 `json:"samples_ts"`
	MedianTS float64   `json:"median_ts"`
	MinTS    float64   `json:"min_ts"`
	MaxTS    float64   `json:"max_ts"`
	// PeakRSS is the process's peak resident memory so far (weights,
	// packed copies, KV cache, scratch), 0 where unknown.
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
}

func init() {
	var (
		lf                 lmFlags
		prompts, gens, dep []int
		runs               int
		asJSON             bool
		cpuProfile         string
		memProfile         string
		seed               uint64
	)
	benchCmd.Use = "bench --weights PATH [-p 128] [-n 64] [-d 0] [--threads N] [-r 3] [--json] | bench gemm|membw|vad …"
	benchCmd.Short = "Measure a language model's prompt and generation speed (like llama-bench), or a kernel's"
	benchCmd.Long = `With --weights, measure a decoder language model as llama-bench does, so
the two can be compared on the same file:

  ppP        a prompt of P random token ids run in a fresh cache (prefill);
  tgN        N tokens decoded one at a time;
  … @ dD     the same after D tokens already in the cache (prefilled, not timed).

Every test runs once to warm up, then -r times; the table shows tokens per
second as the median and the slowest and fastest run. -p, -n and -d take
comma-separated lists (0 skips a test). The subcommands time single kernels.`
	benchCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if lf.weights == "" {
			return cmd.Help()
		}
		if runs <= 0 {
			return fmt.Errorf("bench: -r must be positive (got %d)", runs)
		}
		depths := dep
		if len(depths) == 0 {
			depths = []int{0}
		}
		need := 0
		for _, d := range depths {
			for _, p := range prompts {
				need = max(need, d+p)
			}
			for _, n := range gens {
				need = max(need, d+n)
			}
			if d < 0 {
				return fmt.Errorf("bench: -d %d is negative", d)
			}
		}
		for _, v := range append(append([]int{}, prompts...), gens...) {
			if v < 0 {
				return fmt.Errorf("bench: -p and -n must be ≥ 0 (got %d)", v)
			}
		}
		o := lf
		if o.maxSeq == 0 {
			o.maxSeq = max(need, 16)
		}
		if need > o.maxSeq {
			return fmt.Errorf("bench: the tests need %d tokens of context, --max-seq is %d", need, o.maxSeq)
		}
		lm, err := o.open(cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer lm.Close()
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		if memProfile != "" {
			defer func() {
				if err := writeHeapProfile(memProfile); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "bench:", err)
				}
			}()
		}
		b := &lmBench{lm: lm.Runtime(), vocab: lm.Config().Vocab, rng: rand.New(rand.NewPCG(seed, 1))}
		base := lmBenchResult{Model: filepath.Base(lf.weights), Family: lm.Family(), Threads: lf.threads}
		if base.Threads == 0 {
			base.Threads = goruntime.GOMAXPROCS(0)
		}
		base.Size, base.Params = modelSize(lf.weights)
		var results []lmBenchResult
		out := cmd.OutOrStdout()
		const row = "| %-32s | %9s | %7s | %7s | %-14s | %10s | %8s | %8s |\n"
		if !asJSON {
			fmt.Fprintf(out, row, "model", "size", "params", "threads", "test", "t/s median", "min", "max")
		}
		for _, d := range depths {
			type test struct {
				p, n int
			}
			var tests []test
			for _, p := range prompts {
				if p > 0 {
					tests = append(tests, test{p: p})
				}
			}
			for _, n := range gens {
				if n > 0 {
					tests = append(tests, test{n: n})
				}
			}
			for _, t := range tests {
				samples := make([]float64, 0, runs)
				for i := range runs + 1 {
					var ts float64
					var err error
					if t.p > 0 {
						ts, err = b.prompt(ctx, d, t.p)
					} else {
						ts, err = b.generate(ctx, d, t.n)
					}
					if err != nil {
						return err
					}
					if i > 0 { // the first run warms up
						samples = append(samples, ts)
					}
				}
				r := base
				r.NPrompt, r.NGen, r.Depth, r.Samples = t.p, t.n, d, samples
				r.Test = fmt.Sprintf("pp%d", t.p)
				if t.n > 0 {
					r.Test = fmt.Sprintf("tg%d", t.n)
				}
				if d > 0 {
					r.Test += fmt.Sprintf(" @ d%d", d)
				}
				st := stats(samples)
				r.MedianTS, r.MinTS, r.MaxTS = st.Median, st.Min, st.Max
				r.PeakRSS = peakRSS()
				results = append(results, r)
				if !asJSON {
					fmt.Fprintf(out, row, r.Model, fmt.Sprintf("%.0f MiB", float64(r.Size)/(1<<20)),
						fmtParams(r.Params), fmt.Sprint(r.Threads), r.Test,
						fmt.Sprintf("%.2f", r.MedianTS), fmt.Sprintf("%.2f", r.MinTS), fmt.Sprintf("%.2f", r.MaxTS))
				}
			}
		}
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(results)
		}
		return nil
	}
	lf.register(benchCmd)
	f := benchCmd.Flags()
	f.IntSliceVarP(&prompts, "n-prompt", "p", []int{128}, "prompt lengths to time (pp tests)")
	f.IntSliceVarP(&gens, "n-gen", "n", []int{64}, "generation lengths to time (tg tests)")
	f.IntSliceVarP(&dep, "n-depth", "d", []int{0}, "tokens already in the cache before each test")
	f.IntVarP(&runs, "repetitions", "r", 5, "timed runs per test (after one warm-up)")
	f.BoolVar(&asJSON, "json", false, "print JSON (one object per test)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the timed runs to this file")
	f.StringVar(&memProfile, "memprofile", "", "write a heap profile (pprof) to this file after the tests: in-use and allocated bytes by call site")
	f.Uint64Var(&seed, "seed", 1, "seed of the random token ids")
}

// lmBench runs the timed tests on fresh sessions.
type lmBench struct {
	lm    *runtime.LM
	vocab int
	rng   *rand.Rand
}

func (b *lmBench) ids(n int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(b.rng.IntN(b.vocab))
	}
	return ids
}

// session starts a cache holding depth random tokens.
func (b *lmBench) session(ctx context.Context, depth int) (*runtime.Session, error) {
	s, err := b.lm.NewSession()
	if err != nil {
		return nil, err
	}
	if depth > 0 {
		if _, err := s.Append(ctx, b.ids(depth)); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// prompt times one prefill of p tokens after depth and returns tokens/s.
func (b *lmBench) prompt(ctx context.Context, depth, p int) (float64, error) {
	s, err := b.session(ctx, depth)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	ids := b.ids(p)
	t0 := time.Now()
	if _, err := s.Append(ctx, ids); err != nil {
		return 0, err
	}
	return float64(p) / time.Since(t0).Seconds(), nil
}

// generate times n single-token steps after depth and returns tokens/s.
// Each step's input is a random id, as llama-bench's is: sampling is not
// part of what is measured.
func (b *lmBench) generate(ctx context.Context, depth, n int) (float64, error) {
	s, err := b.session(ctx, depth)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	ids := b.ids(n)
	t0 := time.Now()
	for i := range n {
		if _, err := s.Append(ctx, ids[i:i+1]); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// modelSize is the file's bytes and number of weights (0, 0 for a
// folder: only GGUF files are counted).
func modelSize(path string) (bytes, params int64) {
	f, err := gguf.Open(path)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	for _, t := range f.Tensors {
		params += int64(t.Elements())
	}
	return f.Size, params
}

func fmtParams(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	}
	return fmt.Sprintf("%.2f M", float64(n)/1e6)
}

// writeHeapProfile writes the heap profile after a collection, so that
// in-use bytes are what the model still holds.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	goruntime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
