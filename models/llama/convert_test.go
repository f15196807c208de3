package llama

import (
	"os"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
	"github.com/rlx-go/rlx/rope"
)

// The HF Llama 3 fixture (llama3 rope scaling) converted to GGUF the way
// llama.cpp's converter does — Q/K rows interleaved per head, the llama3
// frequency scaling as rope_freqs.weight divisors — must still give HF's
// logits: this exercises the interleaved rope and the rope_freqs path.
func TestConvertedGGUFMatchesHF(t *testing.T) {
	data, err := os.ReadFile("testdata/hf/config.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromHF(data)
	if err != nil {
		t.Fatal(err)
	}
	scaled, _, err := rope.InvFreq(c.RoPE[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	plain := c.RoPE[0]
	plain.Type = "default"
	base, _, _ := rope.InvFreq(plain, 0)
	factors := make([]float32, len(base))
	for i := range base {
		factors[i] = base[i] / scaled[i]
	}
	path := lmtest.ToGGUF(t, "testdata/hf", c, lmtest.Conversion{
		Arch: "llama", Names: Names,
		Extra: map[string][]float32{"rope_freqs.weight": factors},
		Tensor: func(name string, shape []int, v []float32) []float32 {
			switch {
			case strings.HasSuffix(name, "q_proj.weight"):
				return lmtest.InterleaveHeads(v, c.Heads, shape[0], shape[1])
			case strings.HasSuffix(name, "k_proj.weight"):
				return lmtest.InterleaveHeads(v, c.KVHeads, shape[0], shape[1])
			}
			return v
		},
	})
	lmtest.GGUFvsHF(t, "testdata/hf", path, Open, 1)
}
