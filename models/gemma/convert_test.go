package gemma

import (
	"os"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
)

// The HF Gemma fixture converted to GGUF as llama.cpp's converter does it
// (norm weights stored as 1+w) must give HF's logits: this exercises the
// GGUF reading of the gemma architecture, for which no llama.cpp fixture
// exists.
func TestConvertedGGUFMatchesHF(t *testing.T) {
	data, err := os.ReadFile("testdata/hf/config.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromHF(data)
	if err != nil {
		t.Fatal(err)
	}
	path := lmtest.ToGGUF(t, "testdata/hf", c, lmtest.Conversion{
		Arch: "gemma", Names: Names,
		Tensor: func(name string, _ []int, v []float32) []float32 {
			if strings.HasSuffix(name, "norm.weight") {
				out := make([]float32, len(v))
				for i, x := range v {
					out[i] = x + 1
				}
				return out
			}
			return v
		},
	})
	lmtest.GGUFvsHF(t, "testdata/hf", path, Open, 1)
}
