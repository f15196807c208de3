package synth

import (
	"fmt"

	"github.com/rlx-go/rlx/format/gguf"
)

// Token types of tokenizer.ggml.token_type (llama.cpp's numbering).
const (
	tokenNormal  = 1
	tokenControl = 3
)

// Control tokens, the last ids of the vocabulary.
const (
	tokEndOfText = "<|endoftext|>"
	tokIMStart   = "<|im_start|>"
	tokIMEnd     = "<|im_end|>"
)

var controls = []string{tokEndOfText, tokIMStart, tokIMEnd}

// minVocab is the 256 byte tokens plus the control tokens.
var minVocab = 256 + len(controls)

// chatTemplate is ChatML: every turn between <|im_start|>role and
// <|im_end|>, then the opening of the assistant's turn.
const chatTemplate = `{%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}`

// byteRunes maps each byte to the printable rune that stands for it in a
// byte-level BPE vocabulary: printable Latin-1 bytes stand for themselves,
// the others are moved to 256 and up, in byte order.
func byteRunes() [256]rune {
	var m [256]rune
	next := rune(256)
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}

// vocab builds the tokens, their types and the merges for a vocabulary of
// n entries: bytes, merged letter pairs (" t", "th", …) while there is room,
// padding tokens, and the control tokens last.
func vocab(n int) (tokens []string, types []int32, merges []string) {
	br := byteRunes()
	tokens = make([]string, 0, n)
	for b := range 256 {
		tokens = append(tokens, string(br[b]))
	}
	room := n - 256 - len(controls)
	// Frequent letters first, so that small vocabularies get the useful pairs.
	const letters = "etaoinshrdlcumwfgypbvkjxqz"
	firsts := " " + letters
	for _, a := range firsts {
		for _, b := range letters {
			if len(merges) == room {
				break
			}
			l, r := string(br[byte(a)]), string(br[byte(b)])
			merges = append(merges, l+" "+r)
			tokens = append(tokens, l+r)
		}
	}
	for i := 0; len(tokens) < n-len(controls); i++ {
		tokens = append(tokens, fmt.Sprintf("<pad_%d>", i))
	}
	tokens = append(tokens, controls...)
	types = make([]int32, n)
	for i := range types {
		types[i] = tokenNormal
	}
	for i := n - len(controls); i < n; i++ {
		types[i] = tokenControl
	}
	return tokens, types, merges
}

// setTokenizer writes the tokenizer.ggml.* keys.
func setTokenizer(md *gguf.Metadata, s Spec) error {
	tokens, types, merges := vocab(s.Vocab)
	n := uint32(s.Vocab)
	eot, imEnd := n-3, n-1
	kv := []struct {
		k string
		v any
	}{
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "default"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.merges", merges},
		{"tokenizer.ggml.bos_token_id", eot},
		{"tokenizer.ggml.eos_token_id", imEnd},
		{"tokenizer.ggml.padding_token_id", eot},
		{"tokenizer.ggml.add_bos_token", s.AddBOS},
		{"tokenizer.chat_template", chatTemplate},
	}
	for _, e := range kv {
		if err := md.Set(e.k, e.v); err != nil {
			return fmt.Errorf("synth: %s: %w", e.k, err)
		}
	}
	return nil
}
