package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/convert"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant/mix"
	"github.com/spf13/cobra"
)

func init() {
	var typ string
	var pure bool
	var threads int
	cmd := &cobra.Command{
		Use:   "quantize IN OUT.gguf --type Q4_K_M",
		Short: "Quantize a GGUF or Hugging Face safetensors checkpoint as llama-quantize does",
		Long: `Quantize converts the F32, F16 and BF16 weight matrices of a GGUF file to a
llama.cpp quantization mix and writes a GGUF that llama.cpp loads. The type of
each tensor follows llama-quantize's rules for the mix (for Q4_K_M: Q6_K for
the output matrix and for attn_v / ffn_down in some layers, Q4_K elsewhere;
norms and other 1-D tensors stay as they are), and the bytes are identical to
llama-quantize's output without an importance matrix.

IN may also be a Hugging Face checkpoint folder (config.json with
model.safetensors or its shards) of a supported family (qwen3, llama,
qwen2, gemma, gemma2, gemma3, qwen3moe): it is converted to GGUF the way
llama.cpp's convert_hf_to_gguf.py lays it out, then quantized; --type may
then also be F32, F16 or BF16. The tokenizer is not converted
(tokenizer.ggml.model is "none").

Mixes: ` + mixNames() + `.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			if typ == "" {
				return errors.New("quantize: --type is required (" + mixNames() + ")")
			}
			ft, ok := gguf.ParseFileType(typ)
			if strings.EqualFold(filepath.Ext(in), ".safetensors") {
				in = filepath.Dir(in)
			}
			hf := convert.IsCheckpoint(in)
			if !ok || !supportedMix(ft) && !(hf && isFloat(ft)) {
				return fmt.Errorf("quantize: unsupported --type %q (have %s; F32, F16, BF16 for safetensors)", typ, mixNames())
			}
			if st, err := os.Stat(in); err == nil && st.IsDir() && !hf {
				return fmt.Errorf("quantize: %s: a folder must hold a Hugging Face checkpoint (config.json and safetensors)", in)
			}
			if abs(in) == abs(out) {
				return errors.New("quantize: the output must be a different file from the input")
			}
			pool := parallel.Default()
			if threads > 0 {
				pool = parallel.New(threads)
				defer pool.Close()
			}
			if hf {
				rep, err := convert.ToGGUF(cmd.Context(), in, out, convert.Options{Type: ft, Quantize: mix.Options{Pure: pure, Pool: pool}})
				if err != nil {
					return fmt.Errorf("quantize: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "converted %s (%s) to %s (%s): %d tensors\n", in, rep.Arch, out, ft, rep.Tensors)
				if rep.Quantize == nil {
					return nil
				}
				printReport(cmd, out, ft, rep.Quantize)
				return nil
			}
			rep, err := mix.QuantizeFile(cmd.Context(), in, out, ft, mix.Options{Pure: pure, Pool: pool})
			if err != nil {
				return fmt.Errorf("quantize: %w", err)
			}
			printReport(cmd, out, ft, rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "quantization mix ("+mixNames()+")")
	cmd.Flags().BoolVar(&pure, "pure", false, "give every quantizable tensor the mix's base type (llama-quantize --pure)")
	cmd.Flags().IntVar(&threads, "threads", 0, "worker threads (default: all cores)")
	rootCmd.AddCommand(cmd)
}

func printReport(cmd *cobra.Command, out string, ft gguf.FileType, rep *mix.Report) {
	var parts []string
	for t, n := range rep.Types {
		parts = append(parts, fmt.Sprintf("%s×%d", t, n))
	}
	sort.Strings(parts)
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s): %d tensors, %d quantized [%s], %.1f MiB → %.1f MiB\n",
		out, ft, rep.Tensors, rep.Quantized, strings.Join(parts, " "),
		float64(rep.BytesIn)/(1<<20), float64(rep.BytesOut)/(1<<20))
}

// isFloat reports whether ft is one of the float file types a conversion
// writes directly (F32, F16, BF16).
func isFloat(ft gguf.FileType) bool { return ft == 0 || ft == 1 || ft == 32 }

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
