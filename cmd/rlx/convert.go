package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlx-go/rlx/format/onnx"
	"github.com/rlx-go/rlx/models/silero"
	"github.com/spf13/cobra"
)

func init() {
	var out, source, license string
	cmd := &cobra.Command{
		Use:   "convert MODEL.onnx -o OUT.safetensors",
		Short: "Convert a model's weights to safetensors (ONNX: Silero VAD v5)",
		Long: `Convert extracts the weights of a recognised ONNX model and writes them as
float32 safetensors under rlx's tensor names, after checking that the graph
has the structure rlx implements. Supported: Silero VAD v5 (both the 16 kHz
and 8 kHz branches). The output's metadata records the source file's name and
sha256, and --source / --license when given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("convert: the output file is required (-o OUT.safetensors)")
			}
			if !strings.EqualFold(filepath.Ext(args[0]), ".onnx") {
				return fmt.Errorf("convert: %s: only .onnx input is supported", args[0])
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			m, err := onnx.Decode(data)
			if err != nil {
				return fmt.Errorf("convert: %s: %w", args[0], err)
			}
			params, err := silero.FromONNX(m)
			if err != nil {
				return fmt.Errorf("convert: %s: not a supported model: %w", args[0], err)
			}
			sum := sha256.Sum256(data)
			md := map[string]string{
				"model":         "silero-vad-v5",
				"source_file":   filepath.Base(args[0]),
				"source_sha256": hex.EncodeToString(sum[:]),
				"converted_by":  "rlx convert",
			}
			if source != "" {
				md["source"] = source
			}
			if license != "" {
				md["license"] = license
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			if err := silero.WriteSafetensors(f, params, md); err != nil {
				f.Close()
				os.Remove(out)
				return fmt.Errorf("convert: %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d tensors (silero-vad-v5, source sha256 %s)\n", out, len(params), md["source_sha256"])
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output safetensors file")
	cmd.Flags().StringVar(&source, "source", "", "where the input came from, recorded in the metadata")
	cmd.Flags().StringVar(&license, "license", "", "the weights' license, recorded in the metadata")
	rootCmd.AddCommand(cmd)
}
