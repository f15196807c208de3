package tokenizer

import "unicode/utf8"

// span is a half-open byte range [Start, End) of the input text.
type span struct{ start, end int }

// piece is a stretch of text on its way through normalization and
// pre-tokenization, with enough bookkeeping to map any of its bytes back
// to the input text.
type piece struct {
	text string
	// base is the input offset of text[0] when align is nil (the text is
	// then a verbatim slice of the input).
	base int
	// align, when not nil, gives for each byte of text the input span of
	// the character it came from.
	align []span
	// added is the id of the added token this piece is, or -1.
	added int32
	// plain pieces carry no alignment at all (ids-only encoding, where
	// offsets are not needed and building them would cost more than the
	// tokenization itself).
	plain bool
}

func (p piece) sub(a, b int) piece {
	q := piece{text: p.text[a:b], base: p.base + a, added: -1, plain: p.plain}
	if p.align != nil {
		q.align = p.align[a:b]
	}
	return q
}

// charSpan is the input span of the character of width n at byte i.
func (p piece) charSpan(i, n int) span {
	if p.align != nil && !p.plain {
		return p.align[i]
	}
	return span{p.base + i, p.base + i + n}
}

// origSpan maps bytes [a, b) of the piece to the input. Ranges that cut a
// character (byte-level tokens) widen to the whole character, as HF does.
func (p piece) origSpan(a, b int) span {
	if a >= b {
		if p.align != nil && a < len(p.align) {
			s := p.align[a].start
			return span{s, s}
		}
		return span{p.base + a, p.base + a}
	}
	if p.align != nil {
		return span{p.align[a].start, p.align[b-1].end}
	}
	for a > 0 && !utf8.RuneStart(p.text[a]) {
		a--
	}
	for b < len(p.text) && !utf8.RuneStart(p.text[b]) {
		b++
	}
	return span{p.base + a, p.base + b}
}

// rebuilder assembles a transformed piece character by character.
type rebuilder struct {
	src   piece
	buf   []byte
	align []span
}

func newRebuilder(src piece) *rebuilder {
	r := &rebuilder{src: src, buf: make([]byte, 0, len(src.text)+8)}
	if !src.plain {
		r.align = make([]span, 0, len(src.text)+8)
	}
	return r
}

// emit appends s, every byte of it mapped to input span sp.
func (r *rebuilder) emit(s string, sp span) {
	r.buf = append(r.buf, s...)
	if r.src.plain {
		return
	}
	for range len(s) {
		r.align = append(r.align, sp)
	}
}

func (r *rebuilder) emitRune(c rune, sp span) {
	n := len(r.buf)
	r.buf = utf8.AppendRune(r.buf, c)
	if r.src.plain {
		return
	}
	for range len(r.buf) - n {
		r.align = append(r.align, sp)
	}
}

func (r *rebuilder) piece() piece {
	// A plain piece keeps its start in the input: Metaspace's "first" scheme asks
	// whether a piece begins the input.
	return piece{text: string(r.buf), base: r.src.base, align: r.align, added: r.src.added, plain: r.src.plain}
}

// mapRunes rewrites p one character at a time: f returns the replacement
// text (which may be empty or several characters), aligned to the
// character it replaces. It returns p itself when nothing changed.
func mapRunes(p piece, f func(r rune) (string, bool)) piece {
	var rb *rebuilder
	for i, c := range p.text {
		n := utf8.RuneLen(c)
		if c == utf8.RuneError {
			_, n = utf8.DecodeRuneInString(p.text[i:])
		}
		rep, changed := f(c)
		if changed && rb == nil {
			rb = newRebuilder(p)
			for j := 0; j < i; {
				_, m := utf8.DecodeRuneInString(p.text[j:])
				rb.emit(p.text[j:j+m], p.charSpan(j, m))
				j += m
			}
		}
		if rb != nil {
			if changed {
				rb.emit(rep, p.charSpan(i, n))
			} else {
				rb.emit(p.text[i:i+n], p.charSpan(i, n))
			}
		}
	}
	if rb == nil {
		return p
	}
	return rb.piece()
}
