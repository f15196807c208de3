package llama

import (
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
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
