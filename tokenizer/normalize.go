package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A normalizer rewrites text before it is split, keeping the alignment of
// every output byte with the input.
type normalizer interface {
	normalize(p piece) piece
}

type normalizerSeq []normalizer

func (s normalizerSeq) normalize(p piece) piece {
	for _, n := range s {
		p = n.normalize(p)
	}
	return p
}

// unicodeNorm applies one of the four Unicode normalization forms.
type unicodeNorm struct{ form norm.Form }

func (u unicodeNorm) normalize(p piece) piece {
	if u.form.IsNormalString(p.text) {
		return p
	}
	if p.plain {
		return piece{text: u.form.String(p.text), base: p.base, added: p.added, plain: true}
	}
	rb := newRebuilder(p)
	var it norm.Iter
	it.InitString(u.form, p.text)
	last := p.charSpan(0, 0)
	var pend []rune // output waiting for the input position to move
	pendStart := 0
	for !it.Done() {
		for _, c := range string(it.Next()) {
			pend = append(pend, c)
		}
		end := it.Pos()
		if end == pendStart && !it.Done() {
			continue
		}
		// Input characters of the segment, with their spans.
		var spans []span
		for j := pendStart; j < end; {
			_, m := utf8.DecodeRuneInString(p.text[j:end])
			spans = append(spans, p.charSpan(j, m))
			j += m
		}
		if len(spans) == 0 {
			spans = []span{last}
		}
		// As HF's alignments do: a composed character keeps the span of
		// its first input character (the marks it absorbed lose theirs),
		// and the characters a decomposition produces share the span of
		// the character they came from.
		for k, c := range pend {
			rb.emitRune(c, spans[min(k, len(spans)-1)])
		}
		last = spans[len(spans)-1]
		pend, pendStart = pend[:0], end
	}
	return rb.piece()
}

type lowercase struct{}

func (lowercase) normalize(p piece) piece {
	if p.plain {
		return plainLower(p)
	}
	return mapRunes(p, func(r rune) (string, bool) {
		if r == 'İ' { // full case mapping: i + combining dot above
			return "i\u0307", true
		}
		l := unicode.ToLower(r)
		if l == r {
			return "", false
		}
		return string(l), true
	})
}

// stripAccents removes combining marks (General_Category M; use after NFD).
type stripAccents struct{}

func (stripAccents) normalize(p piece) piece {
	return mapRunes(p, func(r rune) (string, bool) {
		if r >= 0x300 && unicode.Is(unicode.M, r) {
			return "", true
		}
		return "", false
	})
}

// replaceNorm replaces every match of a pattern with fixed content.
type replaceNorm struct {
	pattern matcher
	content string
}

func (r replaceNorm) normalize(p piece) piece {
	if lit, ok := r.pattern.(literalMatcher); ok && p.plain {
		if lit == "" || !strings.Contains(p.text, string(lit)) {
			return p
		}
		return piece{text: strings.ReplaceAll(p.text, string(lit), r.content), base: p.base, added: p.added, plain: true}
	}
	var rb *rebuilder
	last := 0
	r.pattern.findAll(p.text, func(a, b int) {
		if rb == nil {
			rb = newRebuilder(p)
		}
		copyAligned(rb, p, last, a)
		sp := p.origSpan(a, b)
		rb.emit(r.content, sp)
		last = b
	})
	if rb == nil {
		return p
	}
	copyAligned(rb, p, last, len(p.text))
	return rb.piece()
}

// copyAligned copies bytes [a, b) of p, character by character.
func copyAligned(rb *rebuilder, p piece, a, b int) {
	for a < b {
		_, m := utf8.DecodeRuneInString(p.text[a:b])
		rb.emit(p.text[a:a+m], p.charSpan(a, m))
		a += m
	}
}

// prependNorm puts fixed text in front of non-empty input.
type prependNorm string

func (s prependNorm) normalize(p piece) piece {
	if p.text == "" {
		return p
	}
	rb := newRebuilder(p)
	_, m := utf8.DecodeRuneInString(p.text)
	rb.emit(string(s), p.charSpan(0, m))
	copyAligned(rb, p, 0, len(p.text))
	return rb.piece()
}

// stripNorm removes white space at either end.
type stripNorm struct{ left, right bool }

func (s stripNorm) normalize(p piece) piece {
	a, b := 0, len(p.text)
	if s.left {
		a = len(p.text) - len(strings.TrimLeftFunc(p.text, unicode.IsSpace))
	}
	if s.right {
		b = len(strings.TrimRightFunc(p.text, unicode.IsSpace))
	}
	if a >= b {
		return p.sub(0, 0)
	}
	return p.sub(a, b)
}

// bertNorm is BERT's clean-up: control characters dropped, white space
// made plain, CJK characters set apart, accents and case optionally removed.
type bertNorm struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func (b bertNorm) normalize(p piece) piece {
	if p.plain {
		return b.plainNormalize(p)
	}
	if b.cleanText {
		p = mapRunes(p, func(r rune) (string, bool) {
			switch {
			case r == 0 || r == 0xFFFD || isBertControl(r):
				return "", true
			case r == ' ':
				return "", false
			case r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r):
				return " ", true
			}
			return "", false
		})
	}
	if b.chineseChars {
		p = mapRunes(p, func(r rune) (string, bool) {
			if isCJK(r) {
				return " " + string(r) + " ", true
			}
			return "", false
		})
	}
	if b.stripAccents {
		p = unicodeNorm{norm.NFD}.normalize(p)
		p = stripAccents{}.normalize(p)
	}
	if b.lowercase {
		p = lowercase{}.normalize(p)
	}
	return p
}

// plainNormalize does all of bertNorm in one pass over a plain piece.
// Doing it per character is exact: NFD only reorders combining marks,
// which are either all removed (strip accents) or not decomposed at all.
func (b bertNorm) plainNormalize(p piece) piece {
	s := p.text
	out := make([]byte, 0, len(s)+len(s)/8)
	var tmp [32]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\t' || c == '\n' || c == '\r':
				if b.cleanText {
					c = ' '
				}
			case c < 0x20 || c == 0x7F:
				if b.cleanText {
					continue
				}
			case c >= 'A' && c <= 'Z':
				if b.lowercase {
					c += 'a' - 'A'
				}
			}
			out = append(out, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if b.cleanText {
			if r == 0xFFFD || isBertControl(r) {
				continue
			}
			if unicode.IsSpace(r) {
				out = append(out, ' ')
				continue
			}
		}
		if b.chineseChars && isCJK(r) {
			out = append(out, ' ')
			out = utf8.AppendRune(out, r)
			out = append(out, ' ')
			continue
		}
		if !b.stripAccents {
			if b.lowercase {
				if r == 'İ' {
					out = append(out, "i\u0307"...)
					continue
				}
				r = unicode.ToLower(r)
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		for _, d := range string(norm.NFD.AppendString(tmp[:0], s[i-n:i])) {
			if unicode.Is(unicode.M, d) {
				continue
			}
			if b.lowercase {
				d = unicode.ToLower(d)
			}
			out = utf8.AppendRune(out, d)
		}
	}
	return piece{text: string(out), base: p.base, added: p.added, plain: true}
}

func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// plainLower lower-cases a plain piece in one pass, ASCII inline.
func plainLower(p piece) piece {
	s := p.text
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return p
	}
	b := make([]byte, i, len(s)+8)
	copy(b, s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 'İ' {
			b = append(b, "i\u0307"...)
		} else {
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
		i += n
	}
	return piece{text: string(b), base: p.base, added: p.added, plain: true}
}
