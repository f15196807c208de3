package tokenizer

import "unicode/utf8"

// wordPiece is BERT's model: greedy longest-match-first against the
// vocabulary, with a prefix marking pieces that continue a word.
type wordPiece struct {
	vocabTable
	unk      int32
	prefix   string
	maxChars int
}

func (w *wordPiece) tokenize(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	if utf8.RuneCountInString(word) > w.maxChars {
		return append(dst, tok{w.unk, 0, int32(len(word))})
	}
	n0 := len(dst)
	var buf []byte
	for start := 0; start < len(word); {
		end := len(word)
		found := int32(-1)
		for end > start {
			s := word[start:end]
			if start > 0 {
				buf = append(append(buf[:0], w.prefix...), s...)
				s = string(buf)
			}
			if id, ok := w.ids[s]; ok {
				found = id
				break
			}
			_, n := utf8.DecodeLastRuneInString(word[start:end])
			end -= n
		}
		if found < 0 {
			return append(dst[:n0], tok{w.unk, 0, int32(len(word))})
		}
		dst = append(dst, tok{found, int32(start), int32(end)})
		start = end
	}
	return dst
}
