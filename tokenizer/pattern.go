package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A matcher finds the non-overlapping, non-empty matches of a split pattern
// in s, in order, and calls emit for each.
type matcher interface {
	findAll(s string, emit func(start, end int))
}

// The three GPT-style split regexes that real vocabularies use. They need
// a negative lookahead, which Go's regexp lacks, so they are matched by
// hand-written scanners that reproduce the backtracking engines' splits.
const (
	gpt2Regex   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	llama3Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Regex  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// knownPatterns maps regex source text to a scanner. Variants without the
// final `|\s+` split identically: the gap that alternative would match is
// kept as its own piece by the Isolated behaviour anyway.
var knownPatterns = map[string]scanKind{
	gpt2Regex:                               scanGPT2,
	strings.TrimSuffix(gpt2Regex, `|\s+`):   scanGPT2,
	llama3Regex:                             scanLlama3,
	strings.TrimSuffix(llama3Regex, `|\s+`): scanLlama3,
	qwen2Regex:                              scanQwen2,
	strings.TrimSuffix(qwen2Regex, `|\s+`):  scanQwen2,
}

type scanKind uint8

const (
	scanGPT2 scanKind = iota
	scanLlama3
	scanQwen2
)

// compilePattern returns a matcher for a Split regex: a hand scanner for the
// known GPT-style patterns, Go's regexp for anything it can express with the
// same meaning, and an error otherwise.
func compilePattern(src string) (matcher, error) {
	if k, ok := knownPatterns[src]; ok {
		return k, nil
	}
	for _, tail := range []string{`|\s+(?!\S)|\s+`, `|\s+(?!\S)`} {
		if head, ok := strings.CutSuffix(src, tail); ok && !strings.Contains(head, "(?=") && !strings.Contains(head, "(?!") {
			goHead, err := translateRegex(head)
			if err != nil {
				return nil, err
			}
			re, err := regexp.Compile(goHead)
			if err != nil {
				return nil, fmt.Errorf("split regex %q is not supported (Go regexp: %w)", src, err)
			}
			return lookaheadMatcher{re}, nil
		}
	}
	goSrc, err := translateRegex(src)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(goSrc)
	if err != nil {
		return nil, fmt.Errorf("split regex %q is not supported (Go regexp: %w)", src, err)
	}
	return regexMatcher{re}, nil
}

type regexMatcher struct{ re *regexp.Regexp }

// lookaheadMatcher matches `HEAD|\s+(?!\S)|\s+` for any HEAD Go's regexp
// can express: at each position HEAD is tried first (RE2's leftmost-first
// choice is the one a backtracking engine makes), then the white space
// alternatives are matched by hand.
type lookaheadMatcher struct{ head *regexp.Regexp }

func (m lookaheadMatcher) findAll(s string, emit func(start, end int)) {
	next, nextEnd := -1, -1 // the head's next match at or after i
	for i := 0; i < len(s); {
		if next < i {
			if loc := m.head.FindStringIndex(s[i:]); loc != nil {
				next, nextEnd = i+loc[0], i+loc[1]
			} else {
				next, nextEnd = len(s), len(s)
			}
		}
		if next == i && nextEnd > i {
			emit(i, nextEnd)
			i = nextEnd
			continue
		}
		cls, _, n := classAt(s, i)
		if cls == clsSpace {
			e := spaceRun(s, i, false)
			emit(i, e)
			i = e
			continue
		}
		i += n
		if next == i-n { // an empty head match here: search again from i
			next = -1
		}
	}
}

func (m regexMatcher) findAll(s string, emit func(start, end int)) {
	for _, loc := range m.re.FindAllStringIndex(s, -1) {
		if loc[1] > loc[0] {
			emit(loc[0], loc[1])
		}
	}
}

// literalMatcher splits on a fixed string.
type literalMatcher string

func (m literalMatcher) findAll(s string, emit func(start, end int)) {
	if m == "" {
		return
	}
	for i := 0; ; {
		j := strings.Index(s[i:], string(m))
		if j < 0 {
			return
		}
		emit(i+j, i+j+len(m))
		i += j + len(m)
	}
}

// whiteSpaceClass is Unicode White_Space, which is what \s means in the Rust
// and Oniguruma engines (Go's \s is ASCII only).
const whiteSpaceClass = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// translateRegex rewrites the Perl classes whose meaning differs between
// Go (ASCII) and the Rust engines (Unicode) into explicit Unicode classes.
func translateRegex(src string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			e := src[i+1]
			i++
			var in, out string
			switch e {
			case 's':
				in, out = whiteSpaceClass, "["+whiteSpaceClass+"]"
			case 'S':
				out = "[^" + whiteSpaceClass + "]"
			case 'd':
				in, out = `\p{Nd}`, `\p{Nd}`
			case 'D':
				out = `\P{Nd}`
			case 'w':
				in, out = `\p{L}\p{M}\p{Nd}\p{Pc}`, `[\p{L}\p{M}\p{Nd}\p{Pc}]`
			case 'W':
				out = `[^\p{L}\p{M}\p{Nd}\p{Pc}]`
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			if inClass {
				if in == "" {
					return "", fmt.Errorf("split regex %q: \\%c inside a character class is not supported", src, e)
				}
				b.WriteString(in)
			} else {
				b.WriteString(out)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal.
			if i+1 < len(src) && src[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(src) && src[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Character classes of the GPT-style patterns, precomputed for ASCII.
const (
	clsOther  uint8 = iota // not letter, number or space
	clsLetter              // \p{L}
	clsNumber              // \p{N}
	clsSpace               // \s (White_Space)
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		asciiClass[c] = classOfRune(rune(c))
	}
}

func classOfRune(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// classAt returns the class and width of the character at s[i].
func classAt(s string, i int) (uint8, rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return classOfRune(r), r, n
}

// spanClass returns the end of the run of characters of class cls at i.
func spanClass(s string, i int, cls uint8) int {
	for i < len(s) {
		c, _, n := classAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

func (k scanKind) findAll(s string, emit func(start, end int)) {
	for i := 0; i < len(s); {
		e := k.matchAt(s, i)
		emit(i, e)
		i = e
	}
}

// matchAt returns the end of the match that starts at i (always > i: the
// final \s+ and the "other" alternatives leave no character unmatched).
func (k scanKind) matchAt(s string, i int) int {
	cls, r, n := classAt(s, i)
	if r == '\'' {
		if e := contraction(s, i+1, k != scanGPT2); e > 0 {
			return e
		}
	}
	if k == scanGPT2 {
		// ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
		j := i
		if r == ' ' && i+1 < len(s) {
			c2, _, _ := classAt(s, i+1)
			if c2 != clsSpace {
				j, cls = i+1, c2
			}
		}
		if cls != clsSpace {
			return spanClass(s, j, cls)
		}
		return spaceRun(s, i, false)
	}
	switch cls {
	case clsLetter:
		return spanClass(s, i, clsLetter)
	case clsNumber:
		if k == scanQwen2 {
			return i + n
		}
		e := i + n
		for m := 1; m < 3 && e < len(s); m++ {
			c2, _, n2 := classAt(s, e)
			if c2 != clsNumber {
				break
			}
			e += n2
		}
		return e
	}
	// `[^\r\n\p{L}\p{N}]?\p{L}+`
	if r != '\r' && r != '\n' && i+n < len(s) {
		if c2, _, _ := classAt(s, i+n); c2 == clsLetter {
			return spanClass(s, i+n, clsLetter)
		}
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := -1
	if cls == clsOther {
		j = i
	} else if r == ' ' && i+1 < len(s) {
		if c2, _, _ := classAt(s, i+1); c2 == clsOther {
			j = i + 1
		}
	}
	if j >= 0 {
		e := spanClass(s, j, clsOther)
		for e < len(s) && (s[e] == '\r' || s[e] == '\n') {
			e++
		}
		return e
	}
	return spaceRun(s, i, true)
}

// spaceRun matches the whitespace alternatives at i: `\s*[\r\n]+` (when
// newlines is set), then `\s+(?!\S)`, then `\s+`.
func spaceRun(s string, i int, newlines bool) int {
	e := i
	lastNL := -1
	last := i // start of the last character of the run
	for e < len(s) {
		c, r, n := classAt(s, e)
		if c != clsSpace {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = e
		}
		last = e
		e += n
	}
	if newlines && lastNL >= 0 {
		return lastNL + 1
	}
	if e == len(s) || last == i {
		return e
	}
	return last
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d after the apostrophe at i-1,
// case-insensitively when fold is set. It returns the end or 0.
func contraction(s string, i int, fold bool) int {
	if i >= len(s) {
		return 0
	}
	lower := func(j int) (byte, int) {
		c := s[j]
		if c < utf8.RuneSelf {
			if fold && c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			return c, 1
		}
		// U+017F LATIN SMALL LETTER LONG S case-folds to 's'.
		if fold && strings.HasPrefix(s[j:], "\u017f") {
			return 's', 2
		}
		return 0, 1
	}
	c, n := lower(i)
	switch c {
	case 's', 't', 'm', 'd':
		return i + n
	case 'r', 'v', 'l':
		if i+n >= len(s) {
			return 0
		}
		want := byte('e')
		if c == 'l' {
			want = 'l'
		}
		if c2, n2 := lower(i + n); c2 == want {
			return i + n + n2
		}
	}
	return 0
}
