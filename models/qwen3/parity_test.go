package qwen3

import (
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
)

// testdata/hf is refgen's hf-qwen3 fixture (HF transformers 5.17.0);
// testdata/gguf holds llama.cpp's qwen3 fixtures. See testdata/README.md.
func TestHFParity(t *testing.T) { lmtest.HF(t, "testdata/hf", Open) }

func TestGGUFParityF32(t *testing.T) {
	lmtest.GGUF(t, "testdata/gguf", "qwen3-f32.gguf", Open, lmtest.F32Tol)
}

func TestGGUFParityQ8_0(t *testing.T) {
	lmtest.GGUF(t, "testdata/gguf", "qwen3-Q8_0.gguf", Open, lmtest.Tol{Pos0FA: -1, AllFA: -1, All: -1, Median: -1, MinMargin: 0.05})
}

func TestGGUFParityQ4_K_M(t *testing.T) {
	lmtest.GGUF(t, "testdata/gguf", "qwen3-Q4_K_M.gguf", Open, lmtest.QuantTol)
}
