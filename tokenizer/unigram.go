package tokenizer

import (
	"math"
	"unicode/utf8"
)

// unigram is SentencePiece's unigram model: the segmentation with the
// highest total log-probability (Viterbi), unknown characters scored as
// the lowest piece minus a penalty.
type unigram struct {
	vocabTable
	scores       []float64
	unk          int32
	byteFallback bool
	fallbackIDs  [256]int32
	maxLen       int // longest piece, in bytes
	unkScore     float64
}

// unkPenalty is how much worse than the worst piece an unknown is.
const unkPenalty = 10

func newUnigram(pieces []string, scores []float64, unk int32, byteFallback bool) *unigram {
	ids := make(map[string]int32, len(pieces))
	minScore := math.Inf(1)
	u := &unigram{scores: scores, unk: unk, byteFallback: byteFallback}
	for i, p := range pieces {
		if _, dup := ids[p]; !dup {
			ids[p] = int32(i)
		}
		if len(p) > u.maxLen {
			u.maxLen = len(p)
		}
		if scores[i] < minScore {
			minScore = scores[i]
		}
	}
	u.vocabTable = vocabTable{ids: ids, tokens: pieces}
	u.unkScore = minScore - unkPenalty
	for b := range u.fallbackIDs {
		u.fallbackIDs[b] = -1
		if id, ok := ids[byteToken(byte(b))]; ok {
			u.fallbackIDs[b] = id
		}
	}
	return u
}

func byteToken(b byte) string {
	const hex = "0123456789ABCDEF"
	return "<0x" + string(hex[b>>4]) + string(hex[b&15]) + ">"
}

func (u *unigram) tokenize(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	type node struct {
		score float64
		start int
		id    int32
		set   bool
	}
	best := make([]node, len(word)+1)
	best[0].set = true
	for i := 0; i < len(word); {
		if !best[i].set {
			_, n := utf8.DecodeRuneInString(word[i:])
			i += n
			continue
		}
		_, charLen := utf8.DecodeRuneInString(word[i:])
		single := false
		for l := 1; l <= u.maxLen && i+l <= len(word); l++ {
			id, ok := u.ids[word[i:i+l]]
			if !ok {
				continue
			}
			if l == charLen {
				single = true
			}
			sc := best[i].score + u.scores[id]
			if nd := &best[i+l]; !nd.set || sc > nd.score {
				*nd = node{sc, i, id, true}
			}
		}
		if !single {
			sc := best[i].score + u.unkScore
			if nd := &best[i+charLen]; !nd.set || sc > nd.score {
				*nd = node{sc, i, u.unk, true}
			}
		}
		i += charLen
	}
	// Walk back, then emit in order, fusing consecutive unknowns.
	n0 := len(dst)
	var rev []tok
	for e := len(word); e > 0; {
		nd := best[e]
		rev = append(rev, tok{nd.id, int32(nd.start), int32(e)})
		e = nd.start
	}
	for k := len(rev) - 1; k >= 0; k-- {
		t := rev[k]
		if t.id < 0 {
			continue // no unknown token to stand for it
		}
		if t.id == u.unk && len(dst) > n0 && dst[len(dst)-1].id == u.unk {
			dst[len(dst)-1].end = t.end
			continue
		}
		dst = append(dst, t)
	}
	if !u.byteFallback {
		return dst
	}
	// Unknown runs become their bytes, each byte token keeping the span
	// of the whole run (as HF does).
	for k := n0; k < len(dst); k++ {
		t := dst[k]
		if t.id != u.unk || !u.allFallback(word[t.start:t.end]) {
			continue
		}
		n := int(t.end - t.start)
		bytesToks := make([]tok, n)
		for b := range n {
			bytesToks[b] = tok{u.fallbackIDs[word[int(t.start)+b]], t.start, t.end}
		}
		dst = append(dst[:k], append(bytesToks, dst[k+1:]...)...)
		k += n - 1
	}
	return dst
}

func (u *unigram) allFallback(s string) bool {
	for k := 0; k < len(s); k++ {
		if u.fallbackIDs[s[k]] < 0 {
			return false
		}
	}
	return true
}
