package nn_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/models/gemma3"
	"github.com/rlx-go/rlx/models/llama"
)

// Configs written before transformers 5 (top-level rope_theta/rope_scaling,
// rope_local_base_freq, sliding_window_pattern) read the same as
// rope_parameters ones.
func TestOlderConfigsReadAlike(t *testing.T) {
	newer, err := os.ReadFile("../llama/testdata/hf/config.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := llama.ConfigFromHF(newer)
	if err != nil {
		t.Fatal(err)
	}
	older := strings.Replace(string(newer), `"rope_parameters"`, `"rope_scaling"`, 1)
	older = strings.Replace(older, `"rope_theta": 500000.0,`, ``, 1)
	older = strings.Replace(older, `"vocab_size": 512`, `"vocab_size": 512, "rope_theta": 500000.0`, 1)
	b, err := llama.ConfigFromHF([]byte(older))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a.RoPE) != fmt.Sprint(b.RoPE) || a.RoPE[0].Type != "llama3" || a.RoPE[0].Factor != 32 {
		t.Errorf("llama rope: rope_parameters %+v, rope_scaling %+v", a.RoPE, b.RoPE)
	}

	g, err := gemma3.ConfigFromHF([]byte(`{"model_type":"gemma3","text_config":{"model_type":"gemma3_text",
		"vocab_size":32,"hidden_size":16,"num_hidden_layers":7,"num_attention_heads":2,"num_key_value_heads":1,
		"head_dim":8,"intermediate_size":32,"sliding_window":4,"sliding_window_pattern":6,"query_pre_attn_scalar":8,
		"rope_local_base_freq":10000.0,"rope_theta":1000000.0,"rope_scaling":{"rope_type":"linear","factor":8.0}},
		"eos_token_id":[1,106]}`))
	if err != nil {
		t.Fatal(err)
	}
	for l := range 7 {
		global := l == 5
		r := g.RoPE[l]
		if global != (g.Window[l] == 0) || global != (r.Theta == 1e6 && r.Type == "linear" && r.Factor == 8) || !global && (r.Theta != 1e4 || r.Type != "default") {
			t.Errorf("gemma3 layer %d: window %d rope %+v", l, g.Window[l], r)
		}
	}
	if fmt.Sprint(g.EOS) != "[1 106]" || !g.QKNorm || !g.NormPlusOne || g.AttnScale != 1/2.8284271247461903 {
		t.Errorf("gemma3: %+v", g)
	}
}

func TestMistralWindow(t *testing.T) {
	c, err := llama.ConfigFromHF([]byte(`{"model_type":"mistral","vocab_size":32,"hidden_size":16,"num_hidden_layers":3,
		"num_attention_heads":2,"num_key_value_heads":1,"intermediate_size":32,"sliding_window":4096,"rope_theta":1000000.0}`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Window) != "[4096 4096 4096]" || c.RoPE[0].Theta != 1e6 || c.HeadDim != 8 {
		t.Errorf("window %v, rope %+v, head dim %d", c.Window, c.RoPE[0], c.HeadDim)
	}
}
