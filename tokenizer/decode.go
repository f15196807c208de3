package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// A decoder turns token strings back into text pieces; the pieces of the
// last decoder are concatenated.
type decoder interface {
	decode(tokens []string) []string
}

type decoderSeq []decoder

func (s decoderSeq) decode(t []string) []string {
	for _, d := range s {
		t = d.decode(t)
	}
	return t
}

// byteLevelDec maps byte-level characters back to bytes and reads the
// result as UTF-8 (invalid bytes become U+FFFD).
type byteLevelDec struct{}

func (byteLevelDec) decode(t []string) []string {
	var buf []byte
	for _, s := range t {
		if raw, ok := byteLevelDecode(s); ok {
			buf = append(buf, raw...)
		} else {
			buf = append(buf, s...)
		}
	}
	return []string{lossyString(buf)}
}

// metaspaceDec turns ▁ back into spaces and drops the one that was added
// in front of the first word.
type metaspaceDec struct {
	replacement string
	prepend     bool
}

func (m metaspaceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		s = strings.ReplaceAll(s, m.replacement, " ")
		if i == 0 && m.prepend {
			s = strings.TrimPrefix(s, " ")
		}
		out[i] = s
	}
	return out
}

// wordPieceDec joins pieces, gluing "##" continuations to their word.
type wordPieceDec struct {
	prefix  string
	cleanup bool
}

func (w wordPieceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		if i > 0 {
			if strings.HasPrefix(s, w.prefix) {
				s = s[len(w.prefix):]
			} else {
				s = " " + s
			}
		}
		if w.cleanup {
			s = cleanupSpaces(s)
		}
		out[i] = s
	}
	return out
}

// cleanupSpaces removes the spaces a word-level tokenizer leaves before
// punctuation and English contractions.
func cleanupSpaces(s string) string {
	return strings.NewReplacer(" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'",
		" n't", "n't", " 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re").Replace(s)
}

// byteFallbackDec turns runs of <0xXX> tokens into the text they spell;
// invalid UTF-8 becomes one U+FFFD per byte.
type byteFallbackDec struct{}

func (byteFallbackDec) decode(t []string) []string {
	out := make([]string, 0, len(t))
	var pend []byte
	flush := func() {
		if len(pend) == 0 {
			return
		}
		if utf8.Valid(pend) {
			out = append(out, string(pend))
		} else {
			for range pend {
				out = append(out, "\uFFFD")
			}
		}
		pend = pend[:0]
	}
	for _, s := range t {
		if b, ok := parseByteToken(s); ok {
			pend = append(pend, b)
			continue
		}
		flush()
		out = append(out, s)
	}
	flush()
	return out
}

func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(s[3:5]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

type fuseDec struct{}

func (fuseDec) decode(t []string) []string { return []string{strings.Join(t, "")} }

// stripDec removes up to start leading and stop trailing copies of a
// character from every token.
type stripDec struct {
	content     string
	start, stop int
}

func (d stripDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		for k := 0; k < d.start && strings.HasPrefix(s, d.content); k++ {
			s = s[len(d.content):]
		}
		for k := 0; k < d.stop && strings.HasSuffix(s, d.content); k++ {
			s = s[:len(s)-len(d.content)]
		}
		out[i] = s
	}
	return out
}

type replaceDec struct {
	pattern matcher
	content string
}

func (d replaceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		var b strings.Builder
		last := 0
		d.pattern.findAll(s, func(a, e int) {
			b.WriteString(s[last:a])
			b.WriteString(d.content)
			last = e
		})
		if last == 0 && b.Len() == 0 {
			out[i] = s
			continue
		}
		b.WriteString(s[last:])
		out[i] = b.String()
	}
	return out
}

// bpeSuffixDec replaces an end-of-word suffix (e.g. </w>) with a space.
type bpeSuffixDec struct{ suffix string }

func (d bpeSuffixDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		rep := " "
		if i == len(t)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(s, d.suffix, rep)
	}
	return out
}
