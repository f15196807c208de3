// Package convert turns a Hugging Face safetensors checkpoint of a supported
// decoder family into a GGUF file laid out the way llama.cpp's converter lays
// it out: llama.cpp's tensor names, the "<arch>.*" metadata keys its loader
// reads, Llama's Q/K rows interleaved per head, Gemma's norm weights with the
// +1 folded in, Qwen3-MoE's experts stacked into one tensor per projection,
// and Llama 3's rope scaling as the rope_freqs tensor. Quantized mixes
// (Q8_0, Q4_K_M, …) are made by feeding the F32 result through package mix.
//
// The tokenizer is not converted: files get tokenizer.ggml.model = "none"
// and "<arch>.vocab_size", which llama.cpp and rlx load, but text has to be
// tokenized elsewhere.
package convert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/gemma"
	"github.com/rlx-go/rlx/models/gemma2"
	"github.com/rlx-go/rlx/models/gemma3"
	"github.com/rlx-go/rlx/models/llama"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/models/qwen2"
	"github.com/rlx-go/rlx/models/qwen3"
	"github.com/rlx-go/rlx/models/qwen3moe"
	"github.com/rlx-go/rlx/quant/mix"
	"github.com/rlx-go/rlx/rope"
	"github.com/rlx-go/rlx/weights"
)

// ErrUnsupported reports a checkpoint the converter cannot write faithfully
// (an unknown family, or a setting llama.cpp's GGUF keys cannot express).
var ErrUnsupported = errors.New("not supported by the converter")

// family is what the converter knows about one model family.
type family struct {
	arch     string
	fromHF   func([]byte) (*nn.Config, error)
	fromGGUF func(*gguf.Metadata) (*nn.Config, error)
	names    *weights.Names
	permute  bool // Llama: interleave Q/K rows per head
	normPlus bool // Gemma: fold the +1 into every norm weight
}

var families = map[string]family{
	"llama":    {arch: "llama", fromHF: llama.ConfigFromHF, fromGGUF: llama.ConfigFromGGUF, names: llama.Names, permute: true},
	"qwen2":    {arch: "qwen2", fromHF: qwen2.ConfigFromHF, fromGGUF: qwen2.ConfigFromGGUF, names: qwen2.Names},
	"qwen3":    {arch: "qwen3", fromHF: qwen3.ConfigFromHF, fromGGUF: qwen3.ConfigFromGGUF, names: qwen3.Names},
	"qwen3moe": {arch: "qwen3moe", fromHF: qwen3moe.ConfigFromHF, fromGGUF: qwen3moe.ConfigFromGGUF, names: qwen3moe.Names},
	"gemma":    {arch: "gemma", fromHF: gemma.ConfigFromHF, fromGGUF: gemma.ConfigFromGGUF, names: gemma.Names, normPlus: true},
	"gemma2":   {arch: "gemma2", fromHF: gemma2.ConfigFromHF, fromGGUF: gemma2.ConfigFromGGUF, names: gemma2.Names, normPlus: true},
	"gemma3":   {arch: "gemma3", fromHF: gemma3.ConfigFromHF, fromGGUF: gemma3.ConfigFromGGUF, names: gemma3.Names, normPlus: true},
}

// Options tune a conversion. The zero value writes F32 and logs to
// slog.Default().
type Options struct {
	// Type is the file type to write: F32 (0, the zero value), F16 (1),
	// BF16 (32), or any mix in mix.FileTypes (Q8_0, Q4_K_M, …).
	Type gguf.FileType
	// Quantize tunes the quantization of a mix (ignored for float types).
	Quantize mix.Options
	// Log receives progress lines; nil means slog.Default().
	Log *slog.Logger
}

// Report says what a conversion wrote.
type Report struct {
	Arch    string
	Tensors int
	// Quantize is the mix's report when Options.Type is a quantization mix.
	Quantize *mix.Report
}

// IsCheckpoint reports whether path looks like a Hugging Face safetensors
// checkpoint: a folder holding config.json.
func IsCheckpoint(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(path, "config.json"))
	return err == nil
}

// ToGGUF converts the Hugging Face checkpoint in dir (config.json with
// model.safetensors or its shards) to a GGUF file at out.
func ToGGUF(ctx context.Context, dir, out string, opts Options) (*Report, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	float := opts.Type == 0 || opts.Type == 1 || opts.Type == 32
	if !float && !slices.Contains(mix.FileTypes, opts.Type) {
		return nil, fmt.Errorf("convert: file type %s: %w", opts.Type, ErrUnsupported)
	}
	ft := opts.Type
	if !float {
		ft = 0
	}
	j, err := prepare(dir, ft)
	if err != nil {
		return nil, err
	}
	defer j.m.Close()
	if float {
		return j.write(ctx, out, log)
	}
	// Fail before writing anything when the mix cannot take a tensor.
	if _, err := mix.Plan(j.md, j.infos, opts.Type); err != nil {
		return nil, fmt.Errorf("convert: %s as %s: %w", dir, opts.Type, err)
	}
	// Quantize from full precision, as llama.cpp does from its F32/F16
	// intermediate: write F32 next to out, then run the mix over it.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".rlx-convert-*.gguf")
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	rep, err := j.write(ctx, tmpName, log)
	if err != nil {
		return nil, err
	}
	q := opts.Quantize
	if q.Log == nil {
		q.Log = log
	}
	rep.Quantize, err = mix.QuantizeFile(ctx, tmpName, out, opts.Type, q)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return rep, nil
}

// readConfig reads dir's config.json and picks its family.
func readConfig(dir string) (family, *nn.Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return family{}, nil, fmt.Errorf("convert: %w", err)
	}
	var head struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return family{}, nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	reg, ok := models.ByHF(head.ModelType, head.Architectures)
	if !ok {
		return family{}, nil, fmt.Errorf("convert: %s: model_type %q (%v): %w", path, head.ModelType, head.Architectures, ErrUnsupported)
	}
	fam, ok := families[reg.Name]
	if !ok {
		return family{}, nil, fmt.Errorf("convert: %s: family %s: %w", path, reg.Name, ErrUnsupported)
	}
	cfg, err := fam.fromHF(data)
	if err != nil {
		return family{}, nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	return fam, cfg, nil
}

// fullLayer is the first layer with full attention (its rope is the one
// GGUF's rope.* keys describe), or 0.
func fullLayer(c *nn.Config) int {
	for l, w := range c.Window {
		if w == 0 {
			return l
		}
	}
	return 0
}

// metadata writes the keys llama.cpp's loader reads for fam's architecture.
func metadata(fam family, c *nn.Config, name string, ft gguf.FileType) (*gguf.Metadata, error) {
	md := &gguf.Metadata{}
	var err error
	set := func(k string, v any) {
		if err == nil {
			err = md.Set(k, v)
		}
	}
	a := fam.arch
	u32 := func(v int) uint32 { return uint32(v) }
	set("general.architecture", a)
	set("general.name", name)
	set("general.file_type", uint32(ft))
	set(a+".vocab_size", u32(c.Vocab))
	set(a+".context_length", u32(c.MaxPos))
	set(a+".embedding_length", u32(c.Hidden))
	set(a+".block_count", u32(c.Layers))
	set(a+".feed_forward_length", u32(c.FFN))
	set(a+".attention.head_count", u32(c.Heads))
	set(a+".attention.head_count_kv", u32(c.KVHeads))
	set(a+".attention.key_length", u32(c.HeadDim))
	set(a+".attention.value_length", u32(c.HeadDim))
	set(a+".attention.layer_norm_rms_epsilon", float32(c.Eps))
	r := c.RoPE[fullLayer(c)]
	set(a+".rope.freq_base", float32(r.Theta))
	set(a+".rope.dimension_count", u32(r.Dim))
	if r.Type == "llama3" && a != "llama" {
		return nil, fmt.Errorf("convert: llama3 rope scaling in family %s: %w", a, ErrUnsupported)
	}
	switch r.Type {
	case "", "default", "llama3": // llama3 travels as rope_freqs.weight
	case "linear":
		set(a+".rope.scaling.type", "linear")
		set(a+".rope.scaling.factor", float32(r.Factor))
	case "yarn":
		if r.FactorFromMaxPos || r.BetaFast != 0 && r.BetaFast != 32 || r.BetaSlow != 0 && r.BetaSlow != 1 || r.MScale != 0 || r.MScaleAllDim != 0 {
			return nil, fmt.Errorf("convert: yarn rope settings beyond factor and attention factor: %w", ErrUnsupported)
		}
		set(a+".rope.scaling.type", "yarn")
		set(a+".rope.scaling.factor", float32(r.Factor))
		set(a+".rope.scaling.original_context_length", u32(r.OriginalMaxPos))
		if r.AttentionFactor != 0 {
			set(a+".rope.scaling.attn_factor", float32(r.AttentionFactor))
		}
	default:
		return nil, fmt.Errorf("convert: rope type %q: %w", r.Type, ErrUnsupported)
	}
	switch a {
	case "qwen3moe":
		set(a+".expert_count", u32(c.Experts))
		set(a+".expert_used_count", u32(c.ExpertsUsed))
		set(a+".expert_feed_forward_length", u32(c.ExpertFFN))
		for l, d := range c.DenseLayers {
			if d {
				return nil, fmt.Errorf("convert: qwen3moe layer %d has a dense MLP: %w", l, ErrUnsupported)
			}
		}
	case "gemma2":
		if c.AttnSoftcap != 0 {
			set(a+".attn_logit_softcapping", float32(c.AttnSoftcap))
		}
		if c.FinalSoftcap != 0 {
			set(a+".final_logit_softcapping", float32(c.FinalSoftcap))
		}
		set(a+".attention.sliding_window", u32(slices.Max(c.Window)))
	case "gemma3":
		set(a+".attention.sliding_window", u32(slices.Max(c.Window)))
		if p := pattern(c.Window); p > 0 {
			set(a+".attention.sliding_window_pattern", u32(p))
		}
		for l, w := range c.Window {
			if w > 0 { // llama.cpp reads the local layers' base here
				set(a+".rope.freq_base_swa", float32(c.RoPE[l].Theta))
				break
			}
		}
	}
	set("tokenizer.ggml.model", "none")
	if c.BOS >= 0 {
		set("tokenizer.ggml.bos_token_id", u32(int(c.BOS)))
	}
	if len(c.EOS) > 0 {
		set("tokenizer.ggml.eos_token_id", u32(int(c.EOS[0])))
	}
	if c.PAD >= 0 {
		set("tokenizer.ggml.padding_token_id", u32(int(c.PAD)))
	}
	if err != nil {
		return nil, fmt.Errorf("convert: metadata: %w", err)
	}
	return md, nil
}

// pattern is the period p for which exactly the layers l with (l+1)%p == 0
// have full attention (Gemma 3's sliding_window_pattern), or 0 if none fits.
func pattern(window []int) int {
	for p := 1; p <= len(window)+1; p++ {
		ok := true
		for l, w := range window {
			if ((l+1)%p == 0) != (w == 0) {
				ok = false
				break
			}
		}
		if ok {
			return p
		}
	}
	return 0
}

// checkRoundTrip reads md back with the family's own GGUF reader and checks
// that it describes the same model as the HF config, so that a setting the
// GGUF keys cannot carry fails the conversion instead of changing outputs.
func checkRoundTrip(fam family, c *nn.Config, md *gguf.Metadata) error {
	g, err := fam.fromGGUF(md)
	if err != nil {
		return fmt.Errorf("convert: the written metadata does not load: %w", err)
	}
	bad := func(what string, want, got any) error {
		return fmt.Errorf("convert: %s is %v in config.json but would load from GGUF as %v: %w", what, want, got, ErrUnsupported)
	}
	type pair struct {
		what      string
		want, got any
	}
	for _, p := range []pair{
		{"vocab", c.Vocab, g.Vocab}, {"hidden", c.Hidden, g.Hidden}, {"layers", c.Layers, g.Layers},
		{"heads", c.Heads, g.Heads}, {"kv heads", c.KVHeads, g.KVHeads}, {"head dim", c.HeadDim, g.HeadDim},
		{"ffn", c.FFN, g.FFN}, {"activation", c.Act, g.Act}, {"qk norm", c.QKNorm, g.QKNorm},
		{"post norms", c.PostNorms, g.PostNorms}, {"experts", c.Experts, g.Experts},
		{"experts used", c.ExpertsUsed, g.ExpertsUsed}, {"expert ffn", c.ExpertFFN, g.ExpertFFN},
		{"norm_topk_prob", c.NormTopK, g.NormTopK},
		{"attention softcap", c.AttnSoftcap, g.AttnSoftcap}, {"final softcap", c.FinalSoftcap, g.FinalSoftcap},
	} {
		if p.want != p.got {
			return bad(p.what, p.want, p.got)
		}
	}
	if float32(c.Eps) != float32(g.Eps) {
		return bad("rms_norm_eps", c.Eps, g.Eps)
	}
	if !near(c.EmbedScale, g.EmbedScale) {
		return bad("embedding scale", c.EmbedScale, g.EmbedScale)
	}
	if !near(c.AttnScale, g.AttnScale) && !(c.AttnScale == 0 && near(g.AttnScale, 1/math.Sqrt(float64(c.HeadDim)))) &&
		!(g.AttnScale == 0 && near(c.AttnScale, 1/math.Sqrt(float64(c.HeadDim)))) {
		return bad("attention scale", c.AttnScale, g.AttnScale)
	}
	for l := range c.Layers {
		if c.Window[l] != g.Window[l] && fam.arch != "llama" && fam.arch != "qwen2" && fam.arch != "qwen3" {
			return bad(fmt.Sprintf("layer %d sliding window", l), c.Window[l], g.Window[l])
		}
		cr, gr := c.RoPE[l], g.RoPE[l]
		if cr.Type == "llama3" {
			cr.Type, cr.Factor, cr.LowFreqFactor, cr.HighFreqFactor, cr.OriginalMaxPos = "default", 0, 0, 0, 0
		}
		cr.MaxPos, gr.MaxPos = 0, 0
		if cr.Type == "" {
			cr.Type = "default"
		}
		if gr.Type == "" {
			gr.Type = "default"
		}
		if float32(cr.Theta) == float32(gr.Theta) {
			cr.Theta = gr.Theta
		}
		if float32(cr.Factor) == float32(gr.Factor) {
			cr.Factor = gr.Factor
		}
		if float32(cr.AttentionFactor) == float32(gr.AttentionFactor) {
			cr.AttentionFactor = gr.AttentionFactor
		}
		if cr != gr {
			return bad(fmt.Sprintf("layer %d rope", l), fmt.Sprintf("%+v", c.RoPE[l]), fmt.Sprintf("%+v", g.RoPE[l]))
		}
	}
	return nil
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(a))
}

// ropeFactors are the per-frequency divisors llama.cpp applies for Llama 3
// scaling (rope_freqs.weight): the default frequencies over the scaled ones.
func ropeFactors(r rope.Scaling) ([]float32, error) {
	scaled, _, err := rope.InvFreq(r, 0)
	if err != nil {
		return nil, err
	}
	plain := r
	plain.Type, plain.Factor = "default", 0
	base, _, err := rope.InvFreq(plain, 0)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(base))
	for i := range base {
		out[i] = base[i] / scaled[i]
	}
	return out, nil
}

// baseName is the model name written to general.name.
func baseName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return strings.TrimSuffix(filepath.Base(abs), "/")
}
