package tokenizer

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/internal/gztest"
)

var ggufOutDir = flag.String("gguf-out-dir", "", "also write the converted vocab-only GGUFs here (for llama.cpp runs)")

// hfToGGUF converts a byte-level BPE tokenizer.json into the GGUF
// vocabulary llama.cpp's converter writes for it: tokens by id, added
// special tokens as CONTROL and other added tokens as USER_DEFINED, merges
// as "a b" lines.
func hfToGGUF(t *testing.T, data []byte, pre string) *GGUFVocab {
	t.Helper()
	var f struct {
		AddedTokens []addedJSON `json:"added_tokens"`
		Model       struct {
			Vocab  map[string]int32 `json:"vocab"`
			Merges json.RawMessage  `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range f.Model.Vocab {
		n = max(n, int(id)+1)
	}
	for _, a := range f.AddedTokens {
		n = max(n, int(a.ID)+1)
	}
	v := &GGUFVocab{Model: "gpt2", Pre: pre, Tokens: make([]string, n), TokenTypes: make([]int32, n),
		BOS: -1, EOS: -1, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1, EOT: -1, EOM: -1}
	for s, id := range f.Model.Vocab {
		v.Tokens[id], v.TokenTypes[id] = s, ggufNormal
	}
	for _, a := range f.AddedTokens {
		v.Tokens[a.ID], v.TokenTypes[a.ID] = a.Content, ggufUserDefined
		if a.Special {
			v.TokenTypes[a.ID] = ggufControl
		}
	}
	for i := range v.Tokens {
		if v.TokenTypes[i] == 0 { // holes in the id space
			v.Tokens[i], v.TokenTypes[i] = "[PAD"+strings.Repeat("_", i%7)+string(rune('a'+i%26))+"]", ggufUnused
		}
	}
	merges, err := parseMerges(f.Model.Merges)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range merges {
		v.Merges = append(v.Merges, m[0]+" "+m[1])
	}
	return v
}

// TestGGUFMatchesTokenizerJSON converts the real Qwen3 and Llama 3 (and,
// with RLX_TOKENIZER_NPM_DIR, GPT-4o) tokenizers to GGUF vocabularies the way llama.cpp does, writes and reads
// them back through format/gguf, and checks the GGUF tokenizer gives the
// same ids as the tokenizer.json on the fixture strings and on a slice of
// the benchmark corpus.
func TestGGUFMatchesTokenizerJSON(t *testing.T) {
	cases := []struct{ name, pre, arch string }{{"qwen3", "qwen2", "qwen3"}, {"llama3", "llama-bpe", "llama"}}
	if dir := os.Getenv("RLX_TOKENIZER_NPM_DIR"); dir != "" {
		cases = append(cases, struct{ name, pre, arch string }{"gpt4o", "gpt-4o", "llama"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var data []byte
			var h *Tokenizer
			if c.name == "gpt4o" {
				p := filepath.Join(os.Getenv("RLX_TOKENIZER_NPM_DIR"), c.name, "package", "models", "tokenizer.json")
				var err error
				if data, err = os.ReadFile(p); err != nil {
					t.Fatal(err)
				}
				if h, err = FromJSON(data); err != nil {
					t.Fatal(err)
				}
			} else {
				data = gztest.Read(t, filepath.Join("testdata", "hf", c.name+".tokenizer.json.gz"))
				h = hfTokenizer(t, c.name, true)
			}
			v := hfToGGUF(t, data, c.pre)
			md := &gguf.Metadata{}
			for _, kv := range []struct {
				k string
				v any
			}{{"general.architecture", c.arch}, {c.arch + ".context_length", uint32(4096)},
				{c.arch + ".embedding_length", uint32(64)}, {c.arch + ".block_count", uint32(1)},
				{c.arch + ".feed_forward_length", uint32(128)}, {c.arch + ".attention.head_count", uint32(1)},
				{c.arch + ".attention.head_count_kv", uint32(1)}, {c.arch + ".attention.layer_norm_rms_epsilon", float32(1e-6)},
				{"tokenizer.ggml.model", v.Model}, {"tokenizer.ggml.pre", v.Pre}, {"tokenizer.ggml.tokens", v.Tokens},
				{"tokenizer.ggml.token_type", v.TokenTypes}, {"tokenizer.ggml.merges", v.Merges},
				{"tokenizer.ggml.add_bos_token", false}} {
				if err := md.Set(kv.k, kv.v); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			if *ggufOutDir != "" {
				dir = *ggufOutDir
			}
			path := filepath.Join(dir, "vocab-"+c.name+".gguf")
			w, err := gguf.Create(path, md, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			g, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var fx struct {
				Cases []hfCase `json:"cases"`
			}
			if err := json.Unmarshal(gztest.Read(t, filepath.Join("testdata", "hf", "qwen3.expected.json.gz")), &fx); err != nil {
				t.Fatal(err)
			}
			texts := []string{benchCorpus(t)[:1<<20]}
			for _, k := range fx.Cases {
				texts = append(texts, k.Text)
			}
			for _, text := range texts {
				a, _ := h.Encode(text, false)
				b, err := g.Encode(text, false)
				if err != nil {
					t.Fatal(err)
				}
				if !eqIDs(a, b) {
					t.Errorf("%.60q: GGUF ids differ from tokenizer.json ids (%d vs %d tokens)", text, len(b), len(a))
				}
				da, _ := h.Decode(a, false)
				db, _ := g.Decode(a, false)
				if da != db {
					t.Errorf("%.60q: GGUF decode %q, tokenizer.json decode %q", text, db, da)
				}
			}
		})
	}
}
