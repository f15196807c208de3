package tokenizer

import "unicode/utf8"

// wordPiece is BERT's model: greedy longest-match-first against the
// vocabulary, with a prefix marking pieces that continue a word.
type wordPiece struct {
	vocabTable
	unk      int32
	prefix   string
	maxChars int
	cache    wordCache
}

func (w *wordPiece) tokenize(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	if utf8.RuneCountInString(word) > w.maxChars {
		return append(dst, tok{w.unk, 0, int32(len(word))})
	}
	if t, ok := w.cache.get(word); ok {
		return append(dst, t...)
	}
	n0 := len(dst)
	var arr [64]byte
	buf := arr[:0]
	for start := 0; start < len(word); {
		end := len(word)
		found := int32(-1)
		for end > start {
			var id int32
			var ok bool
			if start > 0 {
				buf = append(append(buf[:0], w.prefix...), word[start:end]...)
				id, ok = w.ids[string(buf)] // no allocation: map index by converted bytes
			} else {
				id, ok = w.ids[word[start:end]]
			}
			if ok {
				found = id
				break
			}
			_, n := utf8.DecodeLastRuneInString(word[start:end])
			end -= n
		}
		if found < 0 {
			dst = append(dst[:n0], tok{w.unk, 0, int32(len(word))})
			break
		}
		dst = append(dst, tok{found, int32(start), int32(end)})
		start = end
	}
	w.cache.put(word, dst[n0:])
	return dst
}
