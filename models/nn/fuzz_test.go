package nn_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/models/gemma3"
	"github.com/rlx-go/rlx/models/llama"
	"github.com/rlx-go/rlx/models/qwen3moe"
)

// FuzzConfigFromHF feeds arbitrary config.json bytes to the parsers of the
// families with the most configuration logic: they must return a Config or
// an error, never panic or allocate without bound.
func FuzzConfigFromHF(f *testing.F) {
	for _, fam := range []string{"qwen3", "llama", "qwen2", "gemma", "gemma2", "gemma3", "qwen3moe"} {
		if b, err := os.ReadFile(filepath.Join("..", fam, "testdata", "hf", "config.json")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (any, error){
			func(b []byte) (any, error) { return llama.ConfigFromHF(b) },
			func(b []byte) (any, error) { return gemma3.ConfigFromHF(b) },
			func(b []byte) (any, error) { return qwen3moe.ConfigFromHF(b) },
		} {
			_, _ = parse(data)
		}
	})
}
