package nn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/models/nn"
)

// TestPlainConfigFromHF: the family's traits are kept, tie_word_embeddings
// overrides the family's default, the rope base defaults to theta, and
// sliding_window applies only where use_sliding_window turns it on.
func TestPlainConfigFromHF(t *testing.T) {
	const base = `"vocab_size":32,"hidden_size":16,"num_hidden_layers":2,"num_attention_heads":2,` +
		`"num_key_value_heads":1,"intermediate_size":32,"sliding_window":8,` +
		`"layer_types":["sliding_attention","full_attention"]`
	traits := nn.Config{Family: "fam", QKVBias: true, RoPELayout: ir.RoPESplitHalf}
	for _, c := range []struct {
		extra             string
		tieByDefault, tie bool
		window            string
		theta             float64
	}{
		{"", false, false, "[0 0]", 1e6},
		{"", true, true, "[0 0]", 1e6},
		{`,"tie_word_embeddings":false`, true, false, "[0 0]", 1e6},
		{`,"use_sliding_window":true,"rope_theta":5000.0`, false, false, "[8 0]", 5000},
	} {
		got, err := nn.PlainConfigFromHF([]byte("{"+base+c.extra+"}"), traits, c.tieByDefault, 1e6)
		if err != nil {
			t.Fatal(c.extra, err)
		}
		if got.Family != "fam" || !got.QKVBias || got.RoPELayout != ir.RoPESplitHalf || got.TieEmbeddings != c.tie ||
			fmt.Sprint(got.Window) != c.window || got.RoPE[0].Theta != c.theta {
			t.Errorf("%q (tied by default: %v): %+v", c.extra, c.tieByDefault, got)
		}
	}
	if _, err := nn.PlainConfigFromHF([]byte(`{"vocab_size":32}`), traits, false, 1e6); err == nil {
		t.Error("a config.json without sizes was accepted")
	}
}

func TestPlainConfigFromGGUFChecksArch(t *testing.T) {
	md := &gguf.Metadata{}
	if err := md.Set(gguf.KeyArchitecture, "qwen2"); err != nil {
		t.Fatal(err)
	}
	_, err := nn.PlainConfigFromGGUF(md, nn.Config{Family: "qwen3"})
	if err == nil || !strings.Contains(err.Error(), `qwen3: GGUF architecture is "qwen2"`) {
		t.Errorf("err = %v", err)
	}
}
