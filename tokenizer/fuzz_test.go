package tokenizer

import (
	"strings"
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

// FuzzFromGGUF builds vocabularies from arbitrary bytes (tokens split at
// NUL, merges from adjacent token pairs, model and pre-tokenizer chosen by
// the first bytes); whatever FromGGUF accepts must encode and decode
// without panicking.
func FuzzFromGGUF(f *testing.F) {
	f.Add([]byte("\x00\x01a\x00b\x00ab\x00\u0120\x00<s>"), int32(4), int32(1))
	f.Add([]byte("\x01\x00<unk>\x00<s>\x00\u2581\x00a\x00\u2581a\x00<0x41>"), int32(1), int32(0))
	f.Add([]byte("\x02\x00[PAD]\x00[UNK]\x00[CLS]\x00[SEP]\x00\u2581hello\x00lo"), int32(2), int32(3))
	models := []string{"gpt2", "llama", "bert"}
	pres := []string{"gpt-2", "llama3", "qwen2", "falcon", "deepseek-llm", "starcoder", "gpt-4o"}
	f.Fuzz(func(t *testing.T, data []byte, bos, eos int32) {
		if len(data) < 2 {
			return
		}
		v := &GGUFVocab{Model: models[int(data[0])%len(models)], Pre: pres[int(data[1])%len(pres)],
			BOS: bos, EOS: eos, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1, EOT: -1, EOM: -1}
		for _, s := range splitNUL(string(data[2:])) {
			v.Tokens = append(v.Tokens, s)
			v.Scores = append(v.Scores, float32(len(s)))
			v.TokenTypes = append(v.TokenTypes, int32(len(s)%7))
		}
		for i := 0; i+1 < len(v.Tokens); i += 2 {
			v.Merges = append(v.Merges, v.Tokens[i]+" "+v.Tokens[i+1])
		}
		tk, err := FromGGUF(v)
		if err != nil {
			return
		}
		for _, s := range []string{"", "a ab <s> hello", "Ġ▁ 123 日本"} {
			ids, err := tk.Encode(s, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Decode(ids, false); err != nil {
				t.Fatalf("%q: decoding its own ids %v: %v", s, ids, err)
			}
		}
	})
}

func splitNUL(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}
