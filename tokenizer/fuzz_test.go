package tokenizer

import (
	"testing"
	"unicode/utf8"
)

// FuzzByteLevelRoundTrip checks, on the real Llama 3 tokenizer (byte-level
// BPE, no normalizer), that decoding an encoding gives back the text, that
// ids-only and full encodings agree, and that offsets stay in the text.
// Invalid UTF-8 must be rejected with an error.
func FuzzByteLevelRoundTrip(f *testing.F) {
	for _, s := range []string{"Hello world", " \t\n", "日本語 😀🇫🇷", "<|begin_of_text|>hi<|eot_id|>", "'s 'LL 12345", "ſ'S"} {
		f.Add(s)
	}
	tk := hfTokenizer(f, "llama3", true)
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := tk.Encode(s, false)
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatalf("%q: invalid UTF-8 accepted", s)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := tk.Decode(ids, false)
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("round trip: %q → %v → %q", s, ids, got)
		}
		e, err := tk.EncodeFull(s, false)
		if err != nil {
			t.Fatal(err)
		}
		if !eqIDs(e.IDs, ids) {
			t.Fatalf("%q: EncodeFull ids %v, Encode ids %v", s, e.IDs, ids)
		}
		for _, o := range e.Offsets {
			if o[0] < 0 || o[0] > o[1] || o[1] > len(s) {
				t.Fatalf("%q: offset %v outside the text", s, o)
			}
		}
	})
}

// FuzzFromJSON feeds arbitrary bytes to the tokenizer.json parser; whatever
// parses must then encode and decode without panicking.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`))
	f.Add([]byte(`{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}, "pre_tokenizer": {"type": "Metaspace"}, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["▁a", -1]]}, "decoder": {"type": "Metaspace"}}`))
	f.Add([]byte(`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "MergedWithNext"}, "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}, "post_processor": {"type": "BertProcessing", "sep": ["[UNK]", 0], "cls": ["[UNK]", 0]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := FromJSON(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "a b ab", "ÄB  c\n▁", "<s>ab</s>"} {
			e, err := tk.EncodeFull(s, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Decode(e.IDs, false); err != nil {
				t.Fatalf("%q: decoding its own ids %v: %v", s, e.IDs, err)
			}
		}
	})
}
