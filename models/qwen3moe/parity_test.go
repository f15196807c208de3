package qwen3moe

import (
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
)

// testdata/hf is refgen's hf-qwen3_moe fixture (HF transformers 5.17.0); see
// testdata/README.md.
func TestHFParity(t *testing.T) { lmtest.HF(t, "testdata/hf", Open) }

func TestGGUFParityF32(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3moe-f32.gguf", Open, lmtest.F32Tol)
}

func TestGGUFParityQ8_0(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3moe-Q8_0.gguf", Open, lmtest.QuantTol)
}
