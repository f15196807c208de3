package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Every safetensors file of the shared fixtures (HF transformers checkpoints
// and reference outputs, written by the Python library) parses and re-writes
// byte-identically. Skips when ../shared/fixtures (or RLX_SHARED_FIXTURES)
// is absent.
func TestSharedFixturesRewrite(t *testing.T) {
	dir := os.Getenv("RLX_SHARED_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.safetensors"))
	if len(files) == 0 {
		t.Skipf("no safetensors under %s", dir)
	}
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(p)
		if got := rewrite(t, f); !bytes.Equal(got, want) {
			t.Errorf("%s: rewrite differs", p)
		}
		f.Close()
	}
}
