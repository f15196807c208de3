package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A preTokenizer splits a piece into the words the model sees, calling
// emit for each in order.
type preTokenizer interface {
	split(p piece, emit func(piece))
}

// splitBehavior says what becomes of the delimiters a pattern matches.
type splitBehavior uint8

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

// splitPre splits on a pattern (HF "Split", and the building block of
// most other pre-tokenizers).
type splitPre struct {
	pattern  matcher
	behavior splitBehavior
	invert   bool
}

func (s splitPre) split(p piece, emit func(piece)) {
	splitBy(p, s.pattern, s.behavior, s.invert, emit)
}

// splitBy cuts p at the matches of m and hands the parts to emit according
// to behavior, as HF's NormalizedString::split does. Empty parts are dropped.
func splitBy(p piece, m matcher, behavior splitBehavior, invert bool, emit func(piece)) {
	if behavior == splitIsolated || behavior == splitRemoved {
		last := 0
		part := func(a, b int, isMatch bool) {
			if b > a && (behavior == splitIsolated || isMatch == invert) {
				emit(p.sub(a, b))
			}
		}
		m.findAll(p.text, func(a, b int) {
			part(last, a, false)
			part(a, b, true)
			last = b
		})
		part(last, len(p.text), false)
		return
	}
	type part struct {
		a, b    int
		isMatch bool
	}
	var parts []part
	last := 0
	add := func(a, b int, isMatch bool) {
		if b > a {
			parts = append(parts, part{a, b, isMatch != invert})
		}
	}
	m.findAll(p.text, func(a, b int) {
		add(last, a, false)
		add(a, b, true)
		last = b
	})
	add(last, len(p.text), false)
	var out []part
	prev := false
	switch behavior {
	case splitContiguous:
		for i, q := range parts {
			if i > 0 && q.isMatch == prev {
				out[len(out)-1].b = q.b
			} else {
				out = append(out, q)
			}
			prev = q.isMatch
		}
	case splitMergedWithPrevious:
		for _, q := range parts {
			if q.isMatch && !prev && len(out) > 0 {
				out[len(out)-1].b = q.b
			} else {
				out = append(out, q)
			}
			prev = q.isMatch
		}
	case splitMergedWithNext:
		for i := len(parts) - 1; i >= 0; i-- {
			q := parts[i]
			if q.isMatch && !prev && len(out) > 0 {
				out[len(out)-1].a = q.a
			} else {
				out = append(out, q)
			}
			prev = q.isMatch
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for _, q := range out {
		emit(p.sub(q.a, q.b))
	}
}

// preSeq runs pre-tokenizers one after the other on every part.
type preSeq []preTokenizer

func (s preSeq) split(p piece, emit func(piece)) {
	s.from(0, p, emit)
}

func (s preSeq) from(i int, p piece, emit func(piece)) {
	if i == len(s) {
		emit(p)
		return
	}
	s[i].split(p, func(q piece) { s.from(i+1, q, emit) })
}

// simplifyPre drops pre-tokenizers that do nothing here (a ByteLevel
// without prefix space or regex: byte-level models read raw bytes anyway)
// and unwraps one-element sequences, saving a call per word.
func simplifyPre(p preTokenizer) preTokenizer {
	seq, ok := p.(preSeq)
	if !ok {
		return p
	}
	var out preSeq
	for _, q := range seq {
		if b, ok := q.(byteLevelPre); ok && !b.addPrefixSpace && !b.useRegex && !b.mapped {
			continue
		}
		out = append(out, simplifyPre(q))
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

// byteLevelPre is GPT-2's pre-tokenizer. The mapping of bytes to printable
// characters is not done here: byte-level models read the raw bytes.
type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
	// mapped makes the pieces carry byte-level characters, for the
	// pre-tokenizers that follow; unmapPre must then end the sequence.
	mapped bool
}

func (b byteLevelPre) split(p piece, emit func(piece)) {
	if b.addPrefixSpace && !strings.HasPrefix(p.text, " ") {
		p = prependNorm(" ").normalize(p)
	}
	out := emit
	if b.mapped {
		out = func(q piece) { emit(mapBytes(q)) }
	}
	if !b.useRegex {
		out(p)
		return
	}
	splitBy(p, scanGPT2, splitIsolated, false, out)
}

// mapBytes writes every byte of p as its byte-level character, aligned to
// the input character the byte belongs to.
func mapBytes(p piece) piece {
	rb := newRebuilder(p)
	for i := 0; i < len(p.text); {
		_, n := utf8.DecodeRuneInString(p.text[i:])
		sp := p.charSpan(i, n)
		for k := i; k < i+n; k++ {
			rb.emitRune(byteToRune[p.text[k]], sp)
		}
		i += n
	}
	return rb.piece()
}

// funcMatcher matches maximal runs of characters for which f holds, or
// each such character alone when single is set.
type funcMatcher struct {
	f      func(rune) bool
	single bool
}

func (m funcMatcher) findAll(s string, emit func(start, end int)) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !m.f(r) {
			i += n
			continue
		}
		j := i + n
		for !m.single && j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !m.f(r2) {
				break
			}
			j += n2
		}
		emit(i, j)
		i = j
	}
}

// whitespacePre is HF "Whitespace": \w+|[^\w\s]+, spaces dropped.
type whitespacePre struct{}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r) ||
		unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nl, r) || r == 0x200C || r == 0x200D
}

func (whitespacePre) split(p piece, emit func(piece)) {
	splitBy(p, funcMatcher{f: unicode.IsSpace}, splitRemoved, false, func(q piece) {
		splitBy(q, funcMatcher{f: isWordRune}, splitIsolated, false, emit)
	})
}

// whitespaceSplitPre splits on white space, which it drops.
type whitespaceSplitPre struct{}

func (whitespaceSplitPre) split(p piece, emit func(piece)) {
	splitBy(p, funcMatcher{f: unicode.IsSpace}, splitRemoved, false, emit)
}

// metaspacePre replaces spaces with a visible marker (▁), optionally adds
// one in front, and splits before each marker.
type metaspacePre struct {
	replacement string
	prepend     string // "always", "first" or "never"
	splitWords  bool
}

func (m metaspacePre) split(p piece, emit func(piece)) {
	p = replaceNorm{literalMatcher(" "), m.replacement}.normalize(p)
	if !strings.HasPrefix(p.text, m.replacement) && p.text != "" {
		if m.prepend == "always" || (m.prepend == "first" && p.origSpan(0, 1).start == 0) {
			p = prependNorm(m.replacement).normalize(p)
		}
	}
	if !m.splitWords {
		emit(p)
		return
	}
	splitBy(p, literalMatcher(m.replacement), splitMergedWithNext, false, emit)
}

// charDelimiterPre splits on one character, which it drops.
type charDelimiterPre rune

func (c charDelimiterPre) split(p piece, emit func(piece)) {
	splitBy(p, literalMatcher(string(rune(c))), splitRemoved, false, emit)
}

type digitsPre struct{ individual bool }

func (d digitsPre) split(p piece, emit func(piece)) {
	splitBy(p, funcMatcher{f: unicode.IsNumber, single: d.individual}, splitIsolated, false, emit)
}

type punctuationPre struct{ behavior splitBehavior }

func (u punctuationPre) split(p piece, emit func(piece)) {
	splitBy(p, funcMatcher{f: isPunct, single: true}, u.behavior, false, emit)
}

// isPunct is BERT's notion of punctuation: ASCII symbols and Unicode P*.
func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

// bertPre splits on white space and isolates every punctuation character.
type bertPre struct{}

func (bertPre) split(p piece, emit func(piece)) {
	s := p.text
	start := -1 // start of the current word
	for i := 0; i < len(s); {
		c := s[i]
		n := 1
		var space, punct bool
		if c < utf8.RuneSelf {
			space = asciiClass[c] == clsSpace
			punct = !space && isPunct(rune(c))
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
			punct = !space && isPunct(r)
		}
		if space || punct {
			if start >= 0 {
				emit(p.sub(start, i))
				start = -1
			}
			if punct {
				emit(p.sub(i, i+n))
			}
		} else if start < 0 {
			start = i
		}
		i += n
	}
	if start >= 0 {
		emit(p.sub(start, len(s)))
	}
}

// unmapPre turns byte-level characters back into the raw bytes they stand
// for. It ends a sequence in which pre-tokenizers after ByteLevel had to
// see the byte-level characters (as HF runs them).
type unmapPre struct{}

func (unmapPre) split(p piece, emit func(piece)) {
	rb := newRebuilder(p)
	for i, r := range p.text {
		n := len(string(r))
		sp := p.charSpan(i, n)
		if b, ok := runeToByte[r]; ok {
			rb.buf = append(rb.buf, b)
			if !p.plain {
				rb.align = append(rb.align, sp)
			}
		} else {
			rb.emit(p.text[i:i+n], sp)
		}
	}
	emit(rb.piece())
}
