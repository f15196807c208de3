package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// sharedFixtures returns files matching pattern under the project's shared
// fixtures (RLX_SHARED_FIXTURES, or ../shared/fixtures beside the repository);
// tests using them skip when the folder is absent.
func sharedFixtures(t *testing.T, pattern string) []string {
	dir := os.Getenv("RLX_SHARED_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures")
	}
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) == 0 {
		t.Skipf("no %s under %s", pattern, dir)
	}
	return files
}

// Every GGUF in the shared fixtures (llama.cpp-made models of six families,
// F32 and quantized, and llama.cpp's vocab-only files) parses, every tensor
// type is one rlx computes with, and re-writing is byte-identical.
func TestSharedFixturesRewrite(t *testing.T) {
	files := append(sharedFixtures(t, "gguf-lm/*.gguf"), sharedFixtures(t, "tokenizers/gguf-vocab/*.gguf")...)
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range f.Tensors {
			if err := ti.Supported(); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		want, _ := os.ReadFile(p)
		if got := rewrite(t, f); !bytes.Equal(got, want) {
			t.Errorf("%s: rewrite differs", p)
		}
		f.Close()
	}
}
