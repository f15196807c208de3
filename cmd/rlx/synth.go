package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/rlx-go/rlx/internal/progress"
	"github.com/rlx-go/rlx/synth"
	"github.com/spf13/cobra"
)

func init() {
	var (
		arch, preset, typ, out string
		seed                   uint64
		threads                int
	)
	cmd := &cobra.Command{
		Use:   "synth --arch ARCH --preset NAME --type TYPE -o FILE.gguf [--seed S]",
		Short: "Write a random-weight GGUF model with a real model's shapes (for benchmarks and tests)",
		Long: `Write a GGUF language model with the shapes and metadata of a real one and
random weights (N(0, 0.02²), norms near 1), loadable by rlx and llama.cpp alike.
The vocabulary is a byte-level BPE one of the model's size with ChatML control
tokens and chat template, so text prompts and rlx chat work too.

Architectures and presets:
` + presetHelp() + `
Types: F32, F16, BF16, and llama-quantize's mixes (Q8_0, Q4_0, Q4_K_M, Q5_K_M,
Q6_K, …) with the same per-tensor types llama-quantize picks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("synth: -o FILE.gguf is required")
			}
			s, err := synth.Preset(arch, preset)
			if err != nil {
				return err
			}
			ft, err := synth.FileType(typ)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			bar := progress.New(os.Stderr, "synth "+s.Name)
			t0 := time.Now()
			err = synth.Write(ctx, out, s, synth.Options{Type: ft, Seed: seed, Threads: threads, Progress: bar.Set})
			bar.Finish()
			if err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s %s, %d parameters, %d MiB, %.1fs\n",
				out, s.Name, ft, s.Params(), st.Size()>>20, time.Since(t0).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&arch, "arch", "qwen3", "architecture: "+strings.Join(synth.Archs, ", "))
	f.StringVar(&preset, "preset", "tiny", "model shape (see above)")
	f.StringVar(&typ, "type", "F16", "file type: F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …")
	f.StringVarP(&out, "output", "o", "", "output GGUF file")
	f.Uint64Var(&seed, "seed", 0, "random seed (the same seed writes the same file)")
	f.IntVar(&threads, "threads", 0, "threads generating and quantizing (0: all cores)")
	rootCmd.AddCommand(cmd)
}

func presetHelp() string {
	var b strings.Builder
	for _, a := range synth.Archs {
		fmt.Fprintf(&b, "  %-9s %s\n", a, strings.Join(synth.Presets(a), ", "))
	}
	return b.String()
}
