package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/rlx-go/rlx/tokenizer"
)

func ExampleLoad() {
	// A tokenizer.json file, a model folder or a .gguf file.
	tk, err := tokenizer.Load("testdata/unigram/tiny.tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := tk.Encode("ab abc", false)
	if err != nil {
		log.Fatal(err)
	}
	text, _ := tk.Decode(ids, false)
	fmt.Println(ids, text)
	// Output: [5 1 7] ab abc
}

func ExampleTokenizer_EncodeFull() {
	tk, err := tokenizer.Load("testdata/unigram/tiny.tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	enc, _ := tk.EncodeFull("ca b", false)
	for i := range enc.IDs {
		fmt.Printf("%d %q %v\n", enc.IDs[i], enc.Tokens[i], enc.Offsets[i])
	}
	// Output:
	// 1 "▁" [0 1]
	// 10 "ca" [0 2]
	// 1 "▁" [2 3]
	// 3 "b" [3 4]
}

func ExampleTokenizer_NewStreamDecoder() {
	tk, err := tokenizer.Load("testdata/unigram/tiny.tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	d := tk.NewStreamDecoder(true)
	for _, id := range []int32{5, 1, 7, 9} { // as a model generates them
		piece, _ := d.Add(id)
		fmt.Printf("%q ", piece)
	}
	rest, _ := d.Flush()
	fmt.Printf("%q\n", rest)
	// Output: "ab" " " "abc" " c" ""
}

func ExampleFromGGUF() {
	// The tokenizer.ggml.* values of a GGUF file (VocabFromGGUF collects
	// them from format/gguf metadata; LoadGGUF does both steps).
	v := &tokenizer.GGUFVocab{
		Model:  "gpt2",
		Pre:    "qwen2",
		Tokens: []string{"a", "b", "Ġ", "ab", "Ġab"},
		Merges: []string{"a b", "Ġ ab"},
		BOS:    -1, EOS: -1, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1, EOT: -1, EOM: -1,
	}
	tk, err := tokenizer.FromGGUF(v)
	if err != nil {
		log.Fatal(err)
	}
	ids, _ := tk.Encode("ab ab", false)
	fmt.Println(ids)
	// Output: [3 4]
}
