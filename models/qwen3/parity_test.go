package qwen3

import (
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
)

// testdata/hf is refgen's hf-qwen3 fixture (HF transformers 5.17.0);
// lmtest.Dir (testdata/gguf-lm at the root) holds llama.cpp's fixtures; see
// testdata/README.md.
func TestHFParity(t *testing.T) { lmtest.HF(t, "testdata/hf", Open) }

func TestGGUFParityF32(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-f32.gguf", Open, lmtest.F32Tol)
}

func TestGGUFParityQ8_0(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-Q8_0.gguf", Open, lmtest.QuantTol)
}

func TestGGUFParityQ4_K_M(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-Q4_K_M.gguf", Open, lmtest.QuantTol)
}

func TestGGUFParityQ4_0(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-Q4_0.gguf", Open, lmtest.ActQ8Tol)
}

func TestGGUFParityQ5_K_M(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-Q5_K_M.gguf", Open, lmtest.QuantTol)
}

func TestGGUFParityQ6_K(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "qwen3-Q6_K.gguf", Open, lmtest.QuantTol)
}
