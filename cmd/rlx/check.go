package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/weights"
	"github.com/spf13/cobra"
)

// Check statuses and the exit codes `rlx check` returns for them. Code 1 is
// left for errors (the path cannot be opened or parsed).
const (
	statusSupported          = "SUPPORTED"          // exit 0
	statusKnownUnimplemented = "KnownUnimplemented" // exit 2
	statusMissingMetadata    = "MissingMetadata"    // exit 3
	statusUnknown            = "Unknown"            // exit 4
)

// checkResult is the verdict of `rlx check`.
type checkResult struct {
	Status       string   `json:"status"`
	Family       string   `json:"family,omitempty"`
	Kind         string   `json:"kind,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Format       string   `json:"format"`
	Missing      []string `json:"missing,omitempty"`
	// Unsupported lists tensors whose type rlx cannot compute with.
	Unsupported []string `json:"unsupported,omitempty"`
	Detail      string   `json:"detail,omitempty"`
	ExitCode    int      `json:"exit_code"`
}

// String is the one-word verdict: SUPPORTED, KnownUnimplemented(family),
// MissingMetadata(key, …) or Unknown.
func (c checkResult) String() string {
	switch c.Status {
	case statusKnownUnimplemented:
		return statusKnownUnimplemented + "(" + c.Family + ")"
	case statusMissingMetadata:
		return statusMissingMetadata + "(" + strings.Join(c.Missing, ", ") + ")"
	}
	return c.Status
}

func (c checkResult) runner() string {
	if c.Status == statusSupported {
		return fmt.Sprintf("%s (%s)", c.Family, c.Kind)
	}
	return "none: " + c.String()
}

// verdict sets c's status and the matching exit code; other formats'
// checkers (see inspector.Check) use it too.
func verdict(c checkResult, status string) checkResult {
	c.Status = status
	c.ExitCode = map[string]int{statusSupported: 0, statusKnownUnimplemented: 2, statusMissingMetadata: 3, statusUnknown: 4}[status]
	return c
}

// checkMap applies llama.cpp's load-time predicate to a GGUF checkpoint, or
// reads config.json's model_type and architectures for safetensors, then
// asks the models registry.
func checkMap(m *weights.Map) checkResult {
	c := checkResult{Format: string(m.Format())}
	for _, err := range m.Unsupported() {
		c.Unsupported = append(c.Unsupported, err.Error())
	}
	switch m.Format() {
	case weights.GGUF:
		return checkGGUF(m, c)
	case weights.Safetensors:
		return checkSafetensors(m, c)
	}
	return verdict(c, statusUnknown)
}

func checkGGUF(m *weights.Map, c checkResult) checkResult {
	md := m.GGUF()
	arch := md.Arch()
	c.Architecture = arch
	if arch == "" {
		c.Missing = []string{"general.architecture"}
		return verdict(c, statusMissingMetadata)
	}
	known, ok := models.KnownByGGUF(arch)
	if !ok {
		c.Detail = fmt.Sprintf("general.architecture %q is not an architecture rlx knows", arch)
		return verdict(c, statusUnknown)
	}
	c.Family, c.Kind = known.Family, known.Kind.String()
	for _, k := range []string{arch + ".context_length", arch + ".embedding_length", arch + ".block_count", "tokenizer.ggml.model"} {
		if !md.Has(k) {
			c.Missing = append(c.Missing, k)
		}
	}
	// As in llama.cpp, a file without a vocabulary (tokenizer model "none"
	// or "no_vocab") needs no token list.
	if tm, _ := md.String("tokenizer.ggml.model"); tm != "none" && tm != "no_vocab" && !md.Has("tokenizer.ggml.tokens") {
		c.Missing = append(c.Missing, "tokenizer.ggml.tokens")
	}
	if len(c.Missing) > 0 {
		return verdict(c, statusMissingMetadata)
	}
	return familyVerdict(c, arch)
}

func familyVerdict(c checkResult, what string) checkResult {
	var f models.Family
	var ok bool
	if c.Format == string(weights.GGUF) {
		f, ok = models.ByGGUF(what)
	} else {
		f, ok = models.ByHF(what, nil)
	}
	if !ok {
		c.Detail = fmt.Sprintf("%s is a known architecture without an rlx implementation yet", c.Family)
		return verdict(c, statusKnownUnimplemented)
	}
	if len(c.Unsupported) > 0 {
		c.Detail = fmt.Sprintf("family %s is implemented, but %d tensors have types rlx cannot compute with", f.Name, len(c.Unsupported))
		return verdict(c, statusKnownUnimplemented)
	}
	c.Detail = fmt.Sprintf("runs with the %s family (%s)", f.Name, f.Kind)
	return verdict(c, statusSupported)
}

func checkSafetensors(m *weights.Map, c checkResult) checkResult {
	cfgPath := m.Resolved.ConfigPath
	if cfgPath == "" {
		c.Missing = []string{"config.json"}
		return verdict(c, statusMissingMetadata)
	}
	cfg, err := readConfig(cfgPath)
	if err != nil {
		c.Missing = []string{"config.json"}
		c.Detail = err.Error()
		return verdict(c, statusMissingMetadata)
	}
	c.Architecture = cfg.ModelType
	if cfg.ModelType == "" && len(cfg.Architectures) == 0 {
		c.Missing = []string{"config.json model_type", "config.json architectures"}
		return verdict(c, statusMissingMetadata)
	}
	if f, ok := models.ByHF(cfg.ModelType, cfg.Architectures); ok {
		c.Family, c.Kind = f.Name, f.Kind.String()
		if len(c.Unsupported) > 0 {
			return verdict(c, statusKnownUnimplemented)
		}
		c.Detail = fmt.Sprintf("runs with the %s family (%s)", f.Name, f.Kind)
		return verdict(c, statusSupported)
	}
	known, ok := models.KnownByHF(cfg.ModelType, cfg.Architectures)
	if !ok {
		c.Detail = fmt.Sprintf("model_type %q, architectures %v: not an architecture rlx knows", cfg.ModelType, cfg.Architectures)
		return verdict(c, statusUnknown)
	}
	c.Family, c.Kind = known.Family, known.Kind.String()
	c.Detail = fmt.Sprintf("%s is a known architecture without an rlx implementation yet", c.Family)
	return verdict(c, statusKnownUnimplemented)
}

// hfConfig is the part of config.json that identifies the architecture.
type hfConfig struct {
	ModelType     string
	Architectures []string
	raw           map[string]any
}

func readConfig(path string) (*hfConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg := &hfConfig{raw: raw}
	cfg.ModelType, _ = raw["model_type"].(string)
	if a, ok := raw["architectures"].([]any); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				cfg.Architectures = append(cfg.Architectures, s)
			}
		}
	}
	// Multimodal configs keep the language model's type in text_config.
	if cfg.ModelType == "" {
		if tc, ok := raw["text_config"].(map[string]any); ok {
			cfg.ModelType, _ = tc["model_type"].(string)
		}
	}
	return cfg, nil
}

func checkPath(path string, opts inspectOptions) (checkResult, error) {
	for _, in := range inspectors {
		if in.Check != nil && in.Match(path) {
			return in.Check(path, opts)
		}
	}
	m, err := weights.Open(path, weightOptions(opts)...)
	if err != nil {
		return checkResult{}, err
	}
	defer m.Close()
	return checkMap(m), nil
}

func init() {
	var opts inspectOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check PATH",
		Short: "Say whether rlx can run a checkpoint: SUPPORTED, KnownUnimplemented, MissingMetadata or Unknown",
		Long: `Say whether rlx can run a checkpoint.

GGUF files are held to llama.cpp's load-time predicate: general.architecture,
<arch>.context_length, <arch>.embedding_length, <arch>.block_count,
tokenizer.ggml.model and tokenizer.ggml.tokens (not needed when the tokenizer
model is "none"). Safetensors checkpoints need config.json with model_type or
architectures. The architecture is then looked up among rlx's model families.

Exit codes: 0 SUPPORTED, 1 error (cannot open or parse), 2 KnownUnimplemented,
3 MissingMetadata, 4 Unknown.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := checkPath(args[0], opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(c); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(out, c.String())
				if c.Detail != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), c.Detail)
				}
				for _, u := range c.Unsupported {
					fmt.Fprintln(cmd.ErrOrStderr(), u)
				}
			}
			if c.ExitCode != 0 {
				os.Exit(c.ExitCode)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Prefer, "prefer", "", "GGUF quantization to pick from a folder of several (default "+weights.DefaultPrefer+")")
	cmd.Flags().IntVar(&opts.GGUFIndex, "gguf-index", -1, "pick the Nth (0-based) GGUF model of a folder instead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rootCmd.AddCommand(cmd)
}
