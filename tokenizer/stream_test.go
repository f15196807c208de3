package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStreamDecoder feeds ids one at a time and checks that every piece is
// valid UTF-8 and that the pieces add up to Decode of all ids: for the
// encodings of real text and for random id sequences (which split
// characters across byte tokens and contain invalid byte runs).
func TestStreamDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	tokenizers := map[string]*Tokenizer{
		"qwen3":     hfTokenizer(t, "qwen3", true),
		"gemma3":    hfTokenizer(t, "gemma3", true),
		"llama-spm": ggufTokenizer(t, "llama-spm"),
		"bert-bge":  ggufTokenizer(t, "bert-bge"),
	}
	texts := []string{"emoji 😀🎉👍🏽 and 🇫🇷 — 日本語のテキストです。", "  leading and trailing  ", "a", "ℌ𝔢𝔩𝔩𝔬 ﬁ\n\tx"}
	for name, tk := range tokenizers {
		var seqs [][]int32
		for _, s := range texts {
			ids, err := tk.Encode(s, true)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, ids)
		}
		for range 30 {
			n := 1 + rng.IntN(40)
			ids := make([]int32, n)
			for i := range ids {
				ids[i] = int32(rng.IntN(tk.VocabSize()))
				if _, ok := tk.IDToToken(ids[i]); !ok {
					ids[i] = 0
				}
			}
			seqs = append(seqs, ids)
		}
		for _, skip := range []bool{false, true} {
			for _, ids := range seqs {
				want, err := tk.Decode(ids, skip)
				if err != nil {
					t.Fatal(err)
				}
				d := tk.NewStreamDecoder(skip)
				var b strings.Builder
				for _, id := range ids {
					piece, err := d.Add(id)
					if err != nil {
						t.Fatal(err)
					}
					if !utf8.ValidString(piece) {
						t.Fatalf("%s: piece %q is not valid UTF-8", name, piece)
					}
					b.WriteString(piece)
				}
				rest, err := d.Flush()
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString(rest)
				if b.String() != want {
					t.Errorf("%s skip=%v %v:\nstream %q\ndecode %q", name, skip, ids, b.String(), want)
				}
			}
		}
	}
}

// TestStreamHoldsPartialCharacters checks that a character split over
// byte-level tokens is emitted only once complete.
func TestStreamHoldsPartialCharacters(t *testing.T) {
	tk := hfTokenizer(t, "qwen3", true)
	ids, err := tk.Encode("𓀀", false) // one character, several byte tokens
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 {
		t.Fatalf("want a character spread over several tokens, got %v", ids)
	}
	d := tk.NewStreamDecoder(false)
	for i, id := range ids {
		piece, err := d.Add(id)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(ids)-1 && piece != "" {
			t.Errorf("token %d: emitted %q before the character was complete", i, piece)
		}
		if i == len(ids)-1 && piece != "𓀀" {
			t.Errorf("last token: emitted %q, want the whole character", piece)
		}
	}
	if _, err := d.Add(int32(tk.VocabSize() + 5)); err == nil {
		t.Error("out-of-range id: want an error")
	}
}

// TestConcurrentEncode encodes from several goroutines at once (the word
// cache is shared) and checks every result against a serial encoding.
func TestConcurrentEncode(t *testing.T) {
	tk := ggufTokenizer(t, "gpt-2")
	text := benchCorpus(t)[:64<<10]
	for !utf8.ValidString(text) {
		text = text[:len(text)-1]
	}
	want, err := tk.Encode(text, false)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for g := range 8 {
		go func() {
			s := text[g*1000:]
			for !utf8.ValidString(s) {
				s = s[1:]
			}
			ids, err := tk.Encode(s, false)
			if err != nil {
				errs <- err.Error()
				return
			}
			again, _ := tk.Encode(s, false)
			if len(ids) == 0 || !eqIDs(ids, again) {
				errs <- "results differ between runs"
				return
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if got, _ := tk.Encode(text, false); !eqIDs(got, want) {
		t.Error("serial result changed after concurrent use")
	}
}
