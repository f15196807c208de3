package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/weights"
	"github.com/spf13/cobra"
)

func init() {
	cmd := &cobra.Command{
		Use:   "auto PATH [args…]",
		Short: "Work out what PATH is and run it with the right command",
		Long: `auto sniffs PATH — a GGUF file, a safetensors folder, an ONNX file or a WAV
file — and runs the command for it, passing the remaining arguments on:

  language model    rlx generate --weights PATH args… when args hold --prompt or
                    --prompt-ids, else rlx chat --weights PATH args…
  embedder          rlx embed --weights PATH args… (when rlx has that command)
  Silero VAD .onnx  rlx vad args… (the built-in Silero v5 weights; args name the WAV)
  .wav              rlx vad PATH args…

--dry-run prints the command instead of running it.`,
		Example: `  rlx auto Qwen3-0.6B-Q4_K_M.gguf --prompt "Hello" --max-tokens 32
  rlx auto ./SmolLM2-135M-Instruct          # chat
  rlx auto speech.wav --json`,
		Args:               cobra.MinimumNArgs(1),
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dry := false
			if i := slices.Index(args, "--dry-run"); i >= 0 {
				dry = true
				args = slices.Delete(slices.Clone(args), i, i+1)
			}
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return cmd.Help()
			}
			argv, err := autoCommand(args[0], args[1:])
			if err != nil {
				return fmt.Errorf("auto: %w", err)
			}
			if dry {
				fmt.Fprintln(cmd.OutOrStdout(), "rlx "+strings.Join(argv, " "))
				return nil
			}
			sub, rest, err := rootCmd.Find(argv)
			if err != nil || sub == rootCmd {
				return fmt.Errorf("auto: rlx has no %q command", argv[0])
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			sub.SetContext(ctx) // runners take their context from the command
			sub.SetIn(cmd.InOrStdin())
			sub.SetOut(cmd.OutOrStdout())
			sub.SetErr(cmd.ErrOrStderr())
			// The writers stick to the command; leave none behind for a later
			// Execute in the same process (tests, embedding programs).
			defer func() {
				sub.SetIn(nil)
				sub.SetOut(nil)
				sub.SetErr(nil)
			}()
			if err := sub.ParseFlags(rest); err != nil {
				return fmt.Errorf("%s: %w", sub.Name(), err)
			}
			pos := sub.Flags().Args()
			if sub.Args != nil {
				if err := sub.Args(sub, pos); err != nil {
					return fmt.Errorf("%s: %w", sub.Name(), err)
				}
			}
			return sub.RunE(sub, pos)
		},
	}
	rootCmd.AddCommand(cmd)
}

// autoCommand returns the rlx command line that runs path.
func autoCommand(path string, args []string) ([]string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".wav":
		return append([]string{"vad", path}, args...), nil
	case ".onnx":
		c, err := checkONNX(path, inspectOptions{})
		if err != nil {
			return nil, err
		}
		if c.Kind != "VAD" {
			return nil, fmt.Errorf("%s: not an ONNX model rlx runs (%s)", path, c.Detail)
		}
		return append([]string{"vad"}, args...), nil
	}
	r, err := weights.Resolve(path)
	if err != nil {
		return nil, err
	}
	fam, arch, err := sniffFamily(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch fam.Kind {
	case models.LM:
		for _, a := range args {
			name, _, _ := strings.Cut(a, "=")
			if name == "--prompt" || name == "--prompt-ids" {
				return append([]string{"generate", "--weights", path}, args...), nil
			}
		}
		return append([]string{"chat", "--weights", path}, args...), nil
	case models.Embedder:
		return append([]string{"embed", "--weights", path}, args...), nil
	}
	return nil, fmt.Errorf("%s: %s (%s) is a %v model; rlx auto has no runner for it yet", path, arch, fam.Name, fam.Kind)
}

// sniffFamily finds the registered family of a resolved checkpoint.
func sniffFamily(r *weights.Resolved) (models.Family, string, error) {
	if r.Format == weights.GGUF {
		f, err := gguf.Open(r.Files[0])
		if err != nil {
			return models.Family{}, "", err
		}
		arch := f.Metadata.Arch()
		f.Close()
		if fam, ok := models.ByGGUF(arch); ok {
			return fam, arch, nil
		}
		if k, ok := models.KnownByGGUF(arch); ok {
			return models.Family{}, arch, fmt.Errorf("architecture %q is known (%s) but not implemented", arch, k.Family)
		}
		return models.Family{}, arch, fmt.Errorf("architecture %q is unknown", arch)
	}
	if r.ConfigPath == "" {
		return models.Family{}, "", fmt.Errorf("no config.json beside the weights")
	}
	data, err := os.ReadFile(r.ConfigPath)
	if err != nil {
		return models.Family{}, "", err
	}
	var head struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return models.Family{}, "", fmt.Errorf("%s: %w", r.ConfigPath, err)
	}
	if fam, ok := models.ByHF(head.ModelType, head.Architectures); ok {
		return fam, head.ModelType, nil
	}
	if k, ok := models.KnownByHF(head.ModelType, head.Architectures); ok {
		return models.Family{}, head.ModelType, fmt.Errorf("model_type %q is known (%s) but not implemented", head.ModelType, k.Family)
	}
	return models.Family{}, head.ModelType, fmt.Errorf("model_type %q is unknown", head.ModelType)
}
