package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput checks that malformed input gives clear errors, not panics.
func TestBadInput(t *testing.T) {
	tk := hfTokenizer(t, "qwen3", true)
	if _, err := tk.Encode("ok \xff\xfe", true); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: err = %v", err)
	}
	if _, err := tk.EncodeFull("\xc3", true); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("truncated UTF-8: err = %v", err)
	}
	for _, ids := range [][]int32{{-1}, {1, int32(tk.VocabSize())}, {1 << 30}} {
		if _, err := tk.Decode(ids, false); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Decode(%v): err = %v", ids, err)
		}
	}

	for _, c := range []struct{ json, want string }{
		{`{`, "tokenizer.json"},
		{`{"model": {"type": "Mystery", "vocab": {}}}`, `model type "Mystery" is not supported`},
		{`{"model": null}`, "model: missing"},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a"]}}`, "not in vocabulary"},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["aa"]}}`, "two tokens"},
		{`{"model": {"type": "BPE", "vocab": {"a": -3}, "merges": []}}`, "out of range"},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}}`, "empty vocabulary"},
		{`{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, "unk_token"},
		{`{"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 5}}`, "unk_id 5 out of range"},
		{`{"model": {"type": "Unigram", "vocab": [["a", "x"]]}}`, "vocab[0]"},
		{`{"normalizer": {"type": "Weird"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `normalizer type "Weird"`},
		{`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a(?=b)"}}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "not supported"},
		{`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "Sideways"},
		{`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "ByteLevel pre-tokenizer with model"},
		{`{"decoder": {"type": "Nope"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `decoder type "Nope"`},
		{`{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "X"}}], "special_tokens": {}}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `special token "X"`},
		{`{"added_tokens": [{"id": 1, "content": ""}], "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "empty content"},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": 7}}`, "merges"},
		// A failing element of a Sequence is named by its index.
		{`{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, null, {"type": "Weird"}]}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `normalizers[2]: normalizer type "Weird"`},
		{`{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}]}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "pretokenizers[1]: "},
		{`{"post_processor": {"type": "Sequence", "processors": [{"type": "Nope"}]}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `processors[0]: post-processor type "Nope"`},
		{`{"decoder": {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Nope"}]}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `decoders[1]: decoder type "Nope"`},
		{`{"decoder": {"type": "Sequence", "decoders": 3}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}`, "decoders"},
	} {
		_, err := FromJSON([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.json, err, c.want)
		}
	}

	if _, err := FromJSONWithConfig([]byte(`{"model": {"type": "WordLevel", "vocab": {"a": 0}}}`), []byte(`{"bos_token": "<nope>"}`)); err == nil || !strings.Contains(err.Error(), "bos_token") {
		t.Errorf("config naming an unknown token: err = %v", err)
	}

	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: want an error")
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("empty folder: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil {
		t.Error("corrupt GGUF: want an error")
	}
}

// TestBadGGUFVocab checks the GGUF vocabulary checks.
func TestBadGGUFVocab(t *testing.T) {
	base := func() *GGUFVocab {
		return &GGUFVocab{Model: "gpt2", Tokens: []string{"a", "b", "ab"}, Merges: []string{"a b"},
			BOS: -1, EOS: -1, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1, EOT: -1, EOM: -1}
	}
	if tk, err := FromGGUF(base()); err != nil {
		t.Fatalf("valid vocab: %v", err)
	} else if ids, _ := tk.Encode("ab", false); !eqIDs(ids, []int32{2}) {
		t.Errorf("ids %v, want [2]", ids)
	}
	for _, c := range []struct {
		mod  func(v *GGUFVocab)
		want string
	}{
		{func(v *GGUFVocab) { v.Model = "rwkv" }, `"rwkv" is not supported`},
		{func(v *GGUFVocab) { v.Model = "none" }, "carries no tokenizer"},
		{func(v *GGUFVocab) { v.BOS = 3 }, "bos_token_id 3"},
		{func(v *GGUFVocab) { v.Pre = "chameleon-x" }, `"chameleon-x" is not supported`},
		{func(v *GGUFVocab) { v.Tokens = nil }, "empty"},
		{func(v *GGUFVocab) { v.Merges = []string{"ab"} }, "two tokens"},
		{func(v *GGUFVocab) { v.Merges = []string{"b b"} }, "not in vocabulary"},
		{func(v *GGUFVocab) { v.Scores = []float32{1} }, "scores"},
		{func(v *GGUFVocab) { v.TokenTypes = []int32{1, 1} }, "token_type"},
		{func(v *GGUFVocab) { v.Model = "llama" }, "scores: missing"},
	} {
		v := base()
		c.mod(v)
		if _, err := FromGGUF(v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want one mentioning %q", err, c.want)
		}
	}
}
