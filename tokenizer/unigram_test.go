package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestUnigramTiny checks Viterbi segmentation on a tiny vocabulary whose
// best paths were worked out by hand (scores are log-probabilities; the
// unknown score is the lowest piece score, -7, minus 10). The ▁ that
// Metaspace prepends takes the offsets of the first character, as an
// inserted character does in HF's alignment rules.
func TestUnigramTiny(t *testing.T) {
	tk, err := Load(filepath.Join("testdata", "unigram", "tiny.tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text    string
		ids     []int32
		offsets [][2]int
		why     string
	}{
		{"ab", []int32{5}, [][2]int{{0, 2}}, "▁ab -4.5 beats ▁+ab -6, ▁a+b -6.5"},
		{"abc", []int32{1, 7}, [][2]int{{0, 1}, {0, 3}}, "▁+abc -9 beats ▁ab+c -9.5"},
		{"abd", []int32{5, 0}, [][2]int{{0, 2}, {2, 3}}, "d is unknown (-17)"},
		{"dd", []int32{1, 0}, [][2]int{{0, 1}, {0, 2}}, "consecutive unknowns fuse into one"},
		{"ca b", []int32{1, 10, 1, 3}, [][2]int{{0, 1}, {0, 2}, {2, 3}, {3, 4}}, "▁+ca -6.2 beats ▁c+a -7; ▁+b -5"},
		{"", nil, nil, "empty"},
	} {
		_ = c.why
		enc, err := tk.EncodeFull(c.text, false)
		if err != nil {
			t.Fatal(err)
		}
		if !eqIDs(enc.IDs, c.ids) {
			t.Errorf("%q: ids %v, want %v (%s)", c.text, enc.IDs, c.ids, c.why)
		}
		if !eqOffsets(enc.Offsets, c.offsets) {
			t.Errorf("%q: offsets %v, want %v", c.text, enc.Offsets, c.offsets)
		}
	}
	got, err := tk.Decode([]int32{5, 0, 1, 7}, false)
	if err != nil || got != "ab<unk> abc" {
		t.Errorf("decode = %q, %v; want %q", got, err, "ab<unk> abc")
	}
}

// TestUnigramHFReference checks testdata/unigram/reference.json: HF
// tokenizers 0.23.2's output for tiny.tokenizer.json and for a
// byte-fallback variant, made by scripts/refgen/unigram_ref.py.
func TestUnigramHFReference(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "unigram", "reference.json"))
	if os.IsNotExist(err) {
		t.Skip("no HF reference yet: run scripts/refgen/unigram_ref.py")
	}
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		Tokenizer json.RawMessage `json:"tokenizer"`
		Cases     []struct {
			Text    string   `json:"text"`
			IDs     []int32  `json:"ids"`
			Offsets [][2]int `json:"offsets"`
			Decoded string   `json:"decoded"`
		} `json:"cases"`
	}
	var ref struct {
		variant
		ByteFallback variant `json:"byte_fallback_variant"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 || len(ref.ByteFallback.Cases) == 0 {
		t.Fatal("reference has no cases")
	}
	checkUnigramVariant(t, ref.variant.Tokenizer, ref.variant.Cases)
	checkUnigramVariant(t, ref.ByteFallback.Tokenizer, ref.ByteFallback.Cases)
}

func checkUnigramVariant(t *testing.T, tj json.RawMessage, cases []struct {
	Text    string   `json:"text"`
	IDs     []int32  `json:"ids"`
	Offsets [][2]int `json:"offsets"`
	Decoded string   `json:"decoded"`
}) {
	t.Helper()
	tk, err := FromJSON(tj)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		enc, err := tk.EncodeFull(c.Text, false)
		if err != nil {
			t.Fatal(err)
		}
		if !eqIDs(enc.IDs, c.IDs) {
			t.Errorf("%q: ids %v, want %v", c.Text, enc.IDs, c.IDs)
		}
		if c.Offsets != nil && !eqOffsets(charOffsets(c.Text, enc.Offsets), c.Offsets) {
			t.Errorf("%q: offsets %v, want %v", c.Text, charOffsets(c.Text, enc.Offsets), c.Offsets)
		}
		if d, _ := tk.Decode(c.IDs, false); d != c.Decoded {
			t.Errorf("%q: decoded %q, want %q", c.Text, d, c.Decoded)
		}
	}
}

// TestLoadFolderConfig loads a model folder whose tokenizer_config.json
// names special tokens and asks for BOS and EOS, which the tokenizer.json
// post-processor does not add.
func TestLoadFolderConfig(t *testing.T) {
	dir := t.TempDir()
	tj, err := os.ReadFile(filepath.Join("testdata", "unigram", "tiny.tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := `{"bos_token": "▁", "eos_token": {"content": "c", "lstrip": false}, "pad_token": null,
		"add_bos_token": true, "add_eos_token": true}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tk.BOS(); !ok || id != 1 {
		t.Errorf("BOS = %d, %v; want 1", id, ok)
	}
	if id, ok := tk.EOS(); !ok || id != 6 {
		t.Errorf("EOS = %d, %v; want 6", id, ok)
	}
	if _, ok := tk.PAD(); ok {
		t.Error("PAD set from a null pad_token")
	}
	ids, err := tk.Encode("ab", true)
	if err != nil || !eqIDs(ids, []int32{1, 5, 6}) {
		t.Errorf("Encode with specials = %v, %v; want [1 5 6]", ids, err)
	}
	ids, _ = tk.Encode("ab", false)
	if !eqIDs(ids, []int32{5}) {
		t.Errorf("Encode without specials = %v; want [5]", ids)
	}
	// Without the config the file alone adds nothing.
	plain, err := Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := plain.Encode("ab", true); !eqIDs(ids, []int32{5}) {
		t.Errorf("tokenizer.json alone: %v; want [5]", ids)
	}
}
