package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// bpe is a byte-pair-encoding model: a word starts as characters (or raw
// bytes, for byte-level vocabularies) and the adjacent pair with the lowest
// merge rank is merged until no pair can be.
type bpe struct {
	vocabTable
	merges map[uint64]mergeRule

	// byteLevel models read raw bytes: byteIDs holds the id of each byte's
	// printable stand-in and rawIDs maps raw byte strings to ids.
	byteLevel bool
	byteIDs   [256]int32
	rawIDs    map[string]int32

	unk          int32 // -1 when the model has none
	fuseUnk      bool
	byteFallback bool
	fallbackIDs  [256]int32 // ids of <0x00>…<0xFF>, -1 when missing
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix

	// glue holds the characters that some token has right before a ▁
	// (e.g. '>' for ">▁</"). Long SentencePiece-style words are cut before
	// every ▁ not preceded by a glue character or another ▁: no token can
	// span such a cut, so merging the parts alone gives the same tokens,
	// and the parts hit the word cache.
	glue     map[rune]bool
	hasSpace bool

	cache wordCache
}

type mergeRule struct {
	rank int32
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// newBPE builds the model from a vocabulary and merges given as pairs.
// A continuing-subword prefix on the right part is dropped when merging
// ("##e" + "##s" makes "##es").
func newBPE(vocab map[string]int32, merges [][2]string, byteLevel bool, prefix string) (*bpe, error) {
	m := &bpe{vocabTable: newVocabTable(vocab), merges: make(map[uint64]mergeRule, len(merges)), unk: -1, byteLevel: byteLevel, prefix: prefix}
	var buf []byte
	for i, mg := range merges {
		a, okA := vocab[mg[0]]
		b, okB := vocab[mg[1]]
		right := mg[1]
		if prefix != "" {
			right = strings.TrimPrefix(right, prefix)
		}
		buf = append(append(buf[:0], mg[0]...), right...)
		c, okC := vocab[string(buf)] // no allocation for a map index
		if !okA || !okB || !okC {
			return nil, fmt.Errorf("merge %d (%q %q): token not in vocabulary", i, mg[0], mg[1])
		}
		m.merges[pairKey(a, b)] = mergeRule{rank: int32(i), id: c}
	}
	for i := range m.fallbackIDs {
		m.fallbackIDs[i] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			m.fallbackIDs[i] = id
		}
	}
	if !byteLevel {
		m.glue = map[rune]bool{}
		for s := range vocab {
			if !strings.Contains(s, spaceMark) {
				continue
			}
			m.hasSpace = true
			prev := rune(-1)
			for _, r := range s {
				if r == '▁' && prev >= 0 && prev != '▁' {
					m.glue[prev] = true
				}
				prev = r
			}
		}
	}
	if byteLevel {
		for b := range 256 {
			m.byteIDs[b] = -1
			if id, ok := vocab[string(byteToRune[b])]; ok {
				m.byteIDs[b] = id
			}
		}
	}
	return m, nil
}

// setIgnoreMerges makes words found whole in the vocabulary skip merging
// (Llama 3, tiktoken-style vocabularies).
func (m *bpe) setIgnoreMerges(on bool) {
	m.ignoreMerges = on
	if !on || !m.byteLevel || m.rawIDs != nil {
		return
	}
	// Only these models need raw-byte lookups of whole words.
	m.rawIDs = make(map[string]int32, len(m.ids))
	for s, id := range m.ids {
		if raw, ok := byteLevelDecode(s); ok {
			if _, dup := m.rawIDs[string(raw)]; !dup || id < m.rawIDs[string(raw)] {
				m.rawIDs[string(raw)] = id
			}
		}
	}
}

// symbol is a node of the doubly linked list a word is merged in.
type symbol struct {
	id         int32
	start, end int32
	prev, next int32
}

type mergeCand struct {
	rank, pos, id int32
}

// bpeScratch is reused between words to keep merging allocation-free.
type bpeScratch struct {
	syms []symbol
	heap []mergeCand
}

const spaceMark = "▁"

// chunkMin is the word length above which SentencePiece-style words are
// cut into parts.
const chunkMin = 64

func (m *bpe) tokenize(word string, dst []tok) []tok {
	if len(word) > chunkMin && m.hasSpace && m.suffix == "" && m.prefix == "" {
		return m.tokenizeChunks(word, dst)
	}
	return m.tokenizeWord(word, dst)
}

// tokenizeChunks cuts word before each ▁ that no token can span and
// tokenizes the parts.
func (m *bpe) tokenizeChunks(word string, dst []tok) []tok {
	start := 0
	prev := rune(-1)
	flush := func(end int) {
		n0 := len(dst)
		dst = m.tokenizeWord(word[start:end], dst)
		for k := n0; k < len(dst); k++ {
			dst[k].start += int32(start)
			dst[k].end += int32(start)
		}
		start = end
	}
	for i, r := range word {
		if r == '▁' && i > start && prev != '▁' && !m.glue[prev] {
			flush(i)
		}
		prev = r
	}
	flush(len(word))
	return dst
}

func (m *bpe) tokenizeWord(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	if t, ok := m.cache.get(word); ok {
		return append(dst, t...)
	}
	n0 := len(dst)
	if m.ignoreMerges {
		var id int32
		var ok bool
		if m.byteLevel {
			id, ok = m.rawIDs[word]
		} else {
			id, ok = m.ids[word]
		}
		if ok {
			dst = append(dst, tok{id, 0, int32(len(word))})
			m.cache.put(word, dst[n0:])
			return dst
		}
	}
	var sc bpeScratch
	sc.syms = m.initial(word, sc.syms[:0])
	m.merge(&sc)
	for i := int32(0); i >= 0 && int(i) < len(sc.syms); i = sc.syms[i].next {
		s := sc.syms[i]
		dst = append(dst, tok{s.id, s.start, s.end})
		if s.next < 0 {
			break
		}
	}
	m.cache.put(word, dst[n0:])
	return dst
}

// initial splits word into the symbols merging starts from.
func (m *bpe) initial(word string, syms []symbol) []symbol {
	push := func(id int32, a, b int) {
		syms = append(syms, symbol{id: id, start: int32(a), end: int32(b)})
	}
	if m.byteLevel {
		for i := 0; i < len(word); i++ {
			if id := m.byteIDs[word[i]]; id >= 0 {
				push(id, i, i+1)
			}
		}
	} else {
		unkOpen := false
		for i := 0; i < len(word); {
			_, n := utf8.DecodeRuneInString(word[i:])
			s := word[i : i+n]
			if m.prefix != "" && i > 0 {
				s = m.prefix + s
			}
			if m.suffix != "" && i+n == len(word) {
				s += m.suffix
			}
			if id, ok := m.ids[s]; ok {
				push(id, i, i+n)
				unkOpen = false
			} else if m.byteFallback && m.allFallback(word[i:i+n]) {
				for k := i; k < i+n; k++ {
					push(m.fallbackIDs[word[k]], k, k+1)
				}
				unkOpen = false
			} else if m.unk >= 0 {
				if m.fuseUnk && unkOpen {
					syms[len(syms)-1].end = int32(i + n)
				} else {
					push(m.unk, i, i+n)
				}
				unkOpen = true
			}
			i += n
		}
	}
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	return syms
}

func (m *bpe) allFallback(s string) bool {
	for k := 0; k < len(s); k++ {
		if m.fallbackIDs[s[k]] < 0 {
			return false
		}
	}
	return true
}

// merge applies merges lowest rank first; equal ranks go left to right.
func (m *bpe) merge(sc *bpeScratch) {
	syms := sc.syms
	h := sc.heap[:0]
	push := func(pos int32) {
		nx := syms[pos].next
		if nx < 0 {
			return
		}
		if r, ok := m.merges[pairKey(syms[pos].id, syms[nx].id)]; ok {
			h = heapPush(h, mergeCand{r.rank, pos, r.id})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for len(h) > 0 {
		var c mergeCand
		c, h = heapPop(h)
		left := &syms[c.pos]
		if left.end == left.start || left.next < 0 {
			continue
		}
		right := &syms[left.next]
		if r, ok := m.merges[pairKey(left.id, right.id)]; !ok || r.id != c.id || r.rank != c.rank {
			continue
		}
		left.id = c.id
		left.end = right.end
		left.next = right.next
		right.start, right.end = 0, 0 // dead
		if left.next >= 0 {
			syms[left.next].prev = c.pos
		}
		if left.prev >= 0 {
			push(left.prev)
		}
		push(c.pos)
	}
	sc.heap = h
}

func candLess(a, b mergeCand) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func heapPush(h []mergeCand, c mergeCand) []mergeCand {
	h = append(h, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []mergeCand) (mergeCand, []mergeCand) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		s := l
		if r := l + 1; r < n && candLess(h[r], h[l]) {
			s = r
		}
		if !candLess(h[s], h[i]) {
			break
		}
		h[i], h[s] = h[s], h[i]
		i = s
	}
	return top, h
}
