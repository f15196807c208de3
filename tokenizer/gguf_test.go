package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/internal/gztest"
)

// ggufTokenizer loads testdata/gguf/ggml-vocab-<name>.gguf.gz through
// format/gguf.
func ggufTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	path := filepath.Join("testdata", "gguf", "ggml-vocab-"+name+".gguf.gz")
	f, err := gguf.Parse(path, gztest.Read(t, path))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VocabFromGGUF(f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := FromGGUF(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tk
}

// TestGGUFVocabs checks llama.cpp's tokenizer test data: strings encoded by
// HF tokenizers with the tokenizer each vocab-only GGUF was made from.
func TestGGUFVocabs(t *testing.T) {
	for _, name := range []string{"bert-bge", "llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "refact",
		"falcon", "deepseek-coder", "deepseek-llm"} {
		t.Run(name, func(t *testing.T) {
			tk := ggufTokenizer(t, name)
			base := filepath.Join("testdata", "gguf", "ggml-vocab-"+name+".gguf")
			inp, err := os.ReadFile(base + ".inp")
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(base + ".out")
			if err != nil {
				t.Fatal(err)
			}
			texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if texts[len(texts)-1] == "" {
				texts = texts[:len(texts)-1]
			}
			if len(texts) != len(lines) {
				t.Fatalf("%d strings but %d id lines", len(texts), len(lines))
			}
			for i, text := range texts {
				var want []int32
				for _, f := range strings.Fields(lines[i]) {
					n, err := strconv.Atoi(f)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, int32(n))
				}
				got, err := tk.Encode(text, false)
				if err != nil {
					t.Fatal(err)
				}
				if !eqIDs(got, want) {
					t.Errorf("%q:\n got %v\nwant %v", text, got, want)
				}
			}
		})
	}
}
