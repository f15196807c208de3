package gemma3

import (
	"testing"

	"github.com/rlx-go/rlx/models/internal/lmtest"
)

// testdata/hf is refgen's hf-gemma3 fixture (HF transformers 5.17.0); see
// testdata/README.md.
func TestHFParity(t *testing.T) { lmtest.HF(t, "testdata/hf", Open) }

func TestGGUFParityF32(t *testing.T) {
	lmtest.GGUF(t, lmtest.Dir, "gemma3-f32.gguf", Open, lmtest.GELUTol)
}
