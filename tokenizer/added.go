package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched in the raw text before the model runs
// (special tokens such as <|im_start|>, and user-added words).
type AddedToken struct {
	ID         int32
	Content    string
	SingleWord bool // match only as a whole word
	LStrip     bool // swallow white space on the left
	RStrip     bool // swallow white space on the right
	Normalized bool // match in normalized text rather than raw text
	Special    bool // skipped by Decode with skipSpecial
}

// addedMatcher finds added tokens leftmost-longest with a byte trie.
type addedMatcher struct {
	nodes  []trieNode
	tokens []AddedToken
}

type trieNode struct {
	edges []trieEdge // sorted by byte
	token int32      // index into tokens, or -1
}

type trieEdge struct {
	b    byte
	next int32
}

func newAddedMatcher(tokens []AddedToken) *addedMatcher {
	m := &addedMatcher{nodes: []trieNode{{token: -1}}, tokens: tokens}
	for i, t := range tokens {
		if t.Content == "" {
			continue
		}
		n := int32(0)
		for k := 0; k < len(t.Content); k++ {
			n = m.child(n, t.Content[k])
		}
		if m.nodes[n].token < 0 {
			m.nodes[n].token = int32(i)
		}
	}
	return m
}

func (m *addedMatcher) child(n int32, b byte) int32 {
	e := m.nodes[n].edges
	i := sort.Search(len(e), func(i int) bool { return e[i].b >= b })
	if i < len(e) && e[i].b == b {
		return e[i].next
	}
	m.nodes = append(m.nodes, trieNode{token: -1})
	nx := int32(len(m.nodes) - 1)
	e = append(e, trieEdge{})
	copy(e[i+1:], e[i:])
	e[i] = trieEdge{b, nx}
	m.nodes[n].edges = e
	return nx
}

func (m *addedMatcher) step(n int32, b byte) int32 {
	e := m.nodes[n].edges
	if len(e) < 8 {
		for _, x := range e {
			if x.b == b {
				return x.next
			}
		}
		return -1
	}
	i := sort.Search(len(e), func(i int) bool { return e[i].b >= b })
	if i < len(e) && e[i].b == b {
		return e[i].next
	}
	return -1
}

// longestAt returns the longest token starting at s[i] and its end.
func (m *addedMatcher) longestAt(s string, i int) (int32, int) {
	n := int32(0)
	best, bestEnd := int32(-1), 0
	for j := i; j < len(s); j++ {
		n = m.step(n, s[j])
		if n < 0 {
			break
		}
		if t := m.nodes[n].token; t >= 0 {
			best, bestEnd = t, j+1
		}
	}
	return best, bestEnd
}

// split cuts p at the added tokens it contains, honoring their flags, and
// emits the pieces in order; token pieces carry the token's id.
func (m *addedMatcher) split(p piece, emit func(piece)) {
	s := p.text
	if len(m.tokens) == 0 {
		emit(p)
		return
	}
	root := m.nodes[0].edges
	var first [256]bool
	for _, e := range root {
		first[e.b] = true
	}
	last := 0
	for i := 0; i < len(s); {
		if !first[s[i]] {
			i++
			continue
		}
		t, end := m.longestAt(s, i)
		if t < 0 {
			i++
			continue
		}
		at := m.tokens[t]
		start, stop := i, end
		if at.SingleWord && (endsWithWord(s[:start]) || startsWithWord(s[stop:])) {
			i = end
			continue
		}
		if at.LStrip {
			for start > last {
				r, n := utf8.DecodeLastRuneInString(s[:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= n
			}
		}
		if at.RStrip {
			for stop < len(s) {
				r, n := utf8.DecodeRuneInString(s[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += n
			}
		}
		if start > last {
			emit(p.sub(last, start))
		}
		q := p.sub(start, stop)
		q.added = at.ID
		emit(q)
		last, i = stop, stop
	}
	if last < len(s) || len(s) == 0 {
		emit(p.sub(last, len(s)))
	}
}

// endsWithWord and startsWithWord are the \w tests of single-word tokens.
func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordRune(r)
}
