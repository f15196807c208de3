package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant/mix"
	"github.com/spf13/cobra"
)

func init() {
	var typ string
	var pure bool
	var threads int
	cmd := &cobra.Command{
		Use:   "quantize IN.gguf OUT.gguf --type Q4_K_M",
		Short: "Quantize a GGUF checkpoint (F32/F16/BF16) as llama-quantize does",
		Long: `Quantize converts the F32, F16 and BF16 weight matrices of a GGUF file to a
llama.cpp quantization mix and writes a GGUF that llama.cpp loads. The type of
each tensor follows llama-quantize's rules for the mix (for Q4_K_M: Q6_K for
the output matrix and for attn_v / ffn_down in some layers, Q4_K elsewhere;
norms and other 1-D tensors stay as they are), and the bytes are identical to
llama-quantize's output without an importance matrix.

Mixes: ` + mixNames() + `.
Safetensors input is not supported yet: it needs the model family's tensor
names and GGUF metadata, which arrive with the model packages.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			if typ == "" {
				return errors.New("quantize: --type is required (" + mixNames() + ")")
			}
			ft, ok := gguf.ParseFileType(typ)
			if !ok || !supportedMix(ft) {
				return fmt.Errorf("quantize: unsupported --type %q (have %s)", typ, mixNames())
			}
			if st, err := os.Stat(in); err == nil && st.IsDir() || strings.EqualFold(filepath.Ext(in), ".safetensors") {
				return fmt.Errorf("quantize: %s: only GGUF input is supported for now; safetensors needs a model family's converter", in)
			}
			if abs(in) == abs(out) {
				return errors.New("quantize: the output must be a different file from the input")
			}
			pool := parallel.Default()
			if threads > 0 {
				pool = parallel.New(threads)
				defer pool.Close()
			}
			rep, err := mix.QuantizeFile(cmd.Context(), in, out, ft, mix.Options{Pure: pure, Pool: pool})
			if err != nil {
				return fmt.Errorf("quantize: %w", err)
			}
			var parts []string
			for t, n := range rep.Types {
				parts = append(parts, fmt.Sprintf("%s×%d", t, n))
			}
			sort.Strings(parts)
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s): %d tensors, %d quantized [%s], %.1f MiB → %.1f MiB\n",
				out, ft, rep.Tensors, rep.Quantized, strings.Join(parts, " "),
				float64(rep.BytesIn)/(1<<20), float64(rep.BytesOut)/(1<<20))
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "quantization mix ("+mixNames()+")")
	cmd.Flags().BoolVar(&pure, "pure", false, "give every quantizable tensor the mix's base type (llama-quantize --pure)")
	cmd.Flags().IntVar(&threads, "threads", 0, "worker threads (default: all cores)")
	rootCmd.AddCommand(cmd)
}

func supportedMix(ft gguf.FileType) bool {
	for _, f := range mix.FileTypes {
		if f == ft {
			return true
		}
	}
	return false
}

func mixNames() string {
	var s []string
	for _, f := range mix.FileTypes {
		s = append(s, f.String())
	}
	return strings.Join(s, ", ")
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
