package llama

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/rope"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// testdata/hf is refgen's hf-llama fixture (HF transformers 5.17.0); see
// testdata/README.md.
func TestHFParity(t *testing.T) { lmtest.HF(t, "testdata/hf", Open) }

func TestGGUFParityF32(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "llama-f32.gguf", Open, lmtest.F32Tol)
}

func TestGGUFParityQ4_K_M(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "llama-Q4_K_M.gguf", Open, lmtest.QuantTol)
}

// minicpm-f32.gguf: MiniCPM's embedding, residual and logit scales and
// longrope factors (long ones: the 64-token cache exceeds the file's
// original context of 32, as llama.cpp's 256-token context does) with
// attn_factor 1.2.
func TestGGUFParityMiniCPM(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "minicpm-f32.gguf", Open, lmtest.F32Tol)
}

// TestMiniCPMFeaturesMatter drops each MiniCPM feature in turn from the
// fixture's configuration: every one must move the logits far past the
// parity tolerance, so the parity test above checks all of them.
func TestMiniCPMFeaturesMatter(t *testing.T) {
	m, err := weights.Open(filepath.Join(lmtest.Dir, "minicpm-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ids := []int32{1, 5, 9, 42, 100, 7, 200, 2, 77, 180, 11, 64, 33, 250, 3, 128, 19, 90, 240, 6}
	logits := func(edit func(*nn.Config), maxSeq int) []float32 {
		model, err := Open(nn.Source{Weights: m})
		if err != nil {
			t.Fatal(err)
		}
		edit(model.Config)
		lm := lmtest.NewLMKV(t, model, maxSeq, tensor.F32)
		l, err := lm.PredictLogits(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		return l.Data
	}
	base := logits(func(*nn.Config) {}, 64)
	for name, tc := range map[string]struct {
		edit   func(*nn.Config)
		maxSeq int
	}{
		"no embedding scale": {func(c *nn.Config) { c.EmbedScale = 0 }, 64},
		"no residual scale":  {func(c *nn.Config) { c.ResidualScale = 0 }, 64},
		"no logit scale":     {func(c *nn.Config) { c.LogitScale = 0 }, 64},
		"attention factor 1": {func(c *nn.Config) {
			for l := range c.RoPE {
				c.RoPE[l].AttentionFactor = 1
			}
		}, 64},
		"short factors (cache within the original context)": {func(*nn.Config) {}, 32},
	} {
		got := logits(tc.edit, tc.maxSeq)
		d := 0.0
		for i := range got {
			d = max(d, math.Abs(float64(got[i]-base[i])))
		}
		t.Logf("%s: logits move by %.3g", name, d)
		if d < 100*lmtest.F32Tol.All {
			t.Errorf("%s: logits move by only %g", name, d)
		}
	}
}

// TestMiniCPMConfigFromHF reads MiniCPM's scales and a longrope
// rope_scaling with its factor lists from config.json.
func TestMiniCPMConfigFromHF(t *testing.T) {
	short, long := make([]string, 16), make([]string, 16)
	for i := range short {
		short[i] = fmt.Sprint(1 + float64(i)/100)
		long[i] = fmt.Sprint(1 + float64(i))
	}
	cfg := `{"model_type": "minicpm", "architectures": ["MiniCPMForCausalLM"], "vocab_size": 100,
		"hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
		"intermediate_size": 256, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5,
		"rope_theta": 10000.0, "scale_emb": 12, "scale_depth": 1.4, "dim_model_base": 256,
		"rope_scaling": {"rope_type": "longrope", "original_max_position_embeddings": 1024,
		"short_factor": [` + strings.Join(short, ",") + `], "long_factor": [` + strings.Join(long, ",") + `]}}`
	c, err := ConfigFromHF([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if c.EmbedScale != 12 || math.Abs(c.ResidualScale-0.7) > 1e-15 || c.LogitScale != 0.5 || !c.TieEmbeddings {
		t.Fatalf("scales %v %v %v, tied %v; want 12, 1.4/√4, 128/256, tied", c.EmbedScale, c.ResidualScale, c.LogitScale, c.TieEmbeddings)
	}
	r := c.RoPE[3]
	if r.Type != "longrope" || r.OriginalMaxPos != 1024 || r.MaxPos != 4096 || r.Longrope == nil ||
		len(r.Longrope.Short) != 16 || r.Longrope.Long[15] != 16 {
		t.Fatalf("rope %+v", r)
	}
	// Scale 4096/1024 = 4 over an original context of 1024.
	_, att, err := rope.InvFreq(r, 0)
	if err != nil || math.Abs(att-math.Sqrt(1+math.Log(4)/math.Log(1024))) > 1e-15 {
		t.Fatalf("attention factor %v (%v)", att, err)
	}
	for name, bad := range map[string]string{
		"factor count":   strings.Replace(cfg, `"short_factor": [1,`, `"short_factor": [`, 1),
		"dim_model_base": strings.Replace(cfg, `"dim_model_base": 256`, `"dim_model_base": 0`, 1),
	} {
		if _, err := ConfigFromHF([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
