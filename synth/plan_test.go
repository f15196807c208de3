package synth

import (
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
)

// Every preset gets a type for every tensor in every file type, without
// writing the weights (the real shapes are too large for a unit test).
func TestPresetsPlan(t *testing.T) {
	types := []string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"}
	for _, arch := range Archs {
		for _, name := range Presets(arch) {
			s, err := Preset(arch, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range types {
				ft, err := FileType(typ)
				if err != nil {
					t.Fatal(err)
				}
				md, err := s.Metadata(ft)
				if err != nil {
					t.Fatalf("%s %s: %v", arch, name, err)
				}
				infos, _, err := s.plan(md, ft)
				if err != nil {
					t.Fatalf("%s %s %s: %v", arch, name, typ, err)
				}
				for _, ti := range infos {
					dt := ti.DType()
					if _, err := dt.RowBytes(int64(ti.Dims[0])); err != nil {
						t.Errorf("%s %s %s: %s as %v: %v", arch, name, typ, ti.Name, ti.Type, err)
					}
					if len(ti.Dims) == 1 && ti.Type != gguf.TypeF32 {
						t.Errorf("%s %s %s: vector %s is %v", arch, name, typ, ti.Name, ti.Type)
					}
				}
			}
		}
	}
}

// The real shapes have the real parameter counts: the anchors' GGUF files,
// and the Hugging Face checkpoints' counts (plus, for Llama 3, the
// GGUF-only rope_freqs vector of head dim / 2).
func TestParams(t *testing.T) {
	for _, c := range []struct {
		arch, name string
		want       int64
	}{
		{"qwen3", "0.6b", 596_049_920},
		{"llama", "1b", 1_235_814_432},
		{"llama", "3b", 3_212_749_824 + 64},
		{"qwen2", "0.5b", 494_032_768},
		{"gemma", "2b", 2_506_172_416},
		{"gemma2", "2b", 2_614_341_888},
		{"gemma3", "1b", 999_885_952},
	} {
		s, err := Preset(c.arch, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Params(); got != c.want {
			t.Errorf("%s %s: %d parameters, want %d", c.arch, c.name, got, c.want)
		}
	}
}

func TestVocab(t *testing.T) {
	for _, n := range []int{minVocab, 300, 512, 151936} {
		tokens, types, merges := vocab(n)
		if len(tokens) != n || len(types) != n {
			t.Fatalf("vocab(%d): %d tokens, %d types", n, len(tokens), len(types))
		}
		seen := map[string]bool{}
		for _, tk := range tokens {
			if seen[tk] {
				t.Fatalf("vocab(%d): %q twice", n, tk)
			}
			seen[tk] = true
		}
		for _, m := range merges {
			l, r, _ := strings.Cut(m, " ")
			if !seen[l] || !seen[r] || !seen[l+r] {
				t.Fatalf("vocab(%d): merge %q has a part or result not in the vocabulary", n, m)
			}
		}
		if tokens[n-1] != tokIMEnd || types[n-1] != tokenControl {
			t.Fatalf("vocab(%d): last token %q type %d", n, tokens[n-1], types[n-1])
		}
	}
}
