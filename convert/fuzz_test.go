package convert

import (
	"os"
	"path/filepath"
	"testing"
)

// Any config.json next to real weights gives a file or an error, never a
// panic: sizes that disagree with the tensors, odd rope settings, unknown
// families.
func FuzzConfig(f *testing.F) {
	for _, fam := range fixtures {
		if b, err := os.ReadFile(filepath.Join("..", "models", fam, "testdata", "hf", "config.json")); err == nil {
			f.Add(b)
		}
	}
	weights, err := os.ReadFile(filepath.Join("..", "models", "llama", "testdata", "hf", "model.safetensors"))
	if err != nil {
		f.Skip(err)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), weights, 0o644); err != nil {
		f.Fatal(err)
	}
	out := filepath.Join(f.TempDir(), "out.gguf")
	f.Fuzz(func(t *testing.T, cfg []byte) {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ToGGUF(t.Context(), dir, out, Options{Log: quiet}); err == nil {
			os.Remove(out)
		}
	})
}
