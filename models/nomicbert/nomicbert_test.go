package nomicbert

import (
	"errors"
	"os"
	"testing"

	"github.com/rlx-go/rlx/models/bert"
)

func TestParseHF(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/hf-nomic_bert/config.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseHF(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 64 || c.Heads != 4 || c.RotaryDim != 16 || c.RopeTheta != 1000 || c.Act != bert.SwiGLU || c.Biases || !c.FusedQKV || !c.Rotary {
		t.Fatalf("%+v", c)
	}
	// nomic's own spelling (nomic-embed-text-v1.5's config.json keys).
	nomic := `{"n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": 3072, "n_positions": 8192, "max_trained_positions": 2048,
	 "vocab_size": 30528, "type_vocab_size": 2, "layer_norm_epsilon": 1e-12, "activation_function": "swiglu",
	 "rotary_emb_base": 1000, "rotary_emb_fraction": 1.0, "rotary_emb_interleaved": false, "rotary_emb_scale_base": null,
	 "qkv_proj_bias": false, "mlp_fc1_bias": false, "mlp_fc2_bias": false, "prenorm": false, "causal": false}`
	c, err = ParseHF([]byte(nomic))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 768 || c.Layers != 12 || c.Intermediate != 3072 || c.MaxPositions != 2048 || c.RotaryDim != 64 || c.RopeTheta != 1000 {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []string{`{`, `{"n_embd": 64, "n_layer": 1, "n_head": 4, "n_inner": 8, "vocab_size": 9, "prenorm": true}`,
		`{"n_embd": 64, "n_layer": 1, "n_head": 4, "n_inner": 8, "vocab_size": 9, "rotary_emb_interleaved": true}`,
		`{"n_embd": 64, "n_layer": 1, "n_head": 4, "n_inner": 8, "vocab_size": 9, "activation_function": "gelu"}`,
		`{"n_embd": 64, "n_layer": 1, "n_head": 4, "n_inner": 8, "vocab_size": 9, "moe_every_n_layers": 2}`} {
		if _, err := ParseHF([]byte(bad)); !errors.Is(err, bert.ErrConfig) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func FuzzParseHF(f *testing.F) {
	if data, err := os.ReadFile("../../testdata/fixtures/hf-nomic_bert/config.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"n_embd": 8, "n_layer": 1, "n_head": 2, "n_inner": 4, "vocab_size": 3, "rotary_emb_fraction": 0.5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseHF(data)
		if err == nil && c.Validate() != nil {
			t.Fatal("accepted an invalid configuration")
		}
	})
}
