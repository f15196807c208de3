package jinja

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token produced by the lexer.
type tokKind int

const (
	tokEOF        tokKind = iota
	tokData               // raw template text
	tokVarBegin           // {{
	tokVarEnd             // }}
	tokBlockBegin         // {%
	tokBlockEnd           // %}
	tokName
	tokString
	tokInt
	tokFloat
	tokOp
)

func (k tokKind) String() string {
	switch k {
	case tokEOF:
		return "end of template"
	case tokData:
		return "template data"
	case tokVarBegin:
		return "'{{'"
	case tokVarEnd:
		return "'}}'"
	case tokBlockBegin:
		return "'{%'"
	case tokBlockEnd:
		return "'%}'"
	case tokName:
		return "name"
	case tokString:
		return "string"
	case tokInt:
		return "integer"
	case tokFloat:
		return "float"
	case tokOp:
		return "operator"
	}
	return "token"
}

type token struct {
	kind tokKind
	val  string // name, operator, decoded string literal, or data text
	ival int64
	fval float64
	line int
}

func (t token) String() string {
	switch t.kind {
	case tokName, tokOp:
		return strconv.Quote(t.val)
	case tokString:
		return "string " + strconv.Quote(t.val)
	case tokInt, tokFloat:
		return t.kind.String() + " " + t.val
	}
	return t.kind.String()
}

// lexer turns template source into tokens, applying the whitespace rules of
// jinja2 (whitespace control signs, and optionally trim_blocks and
// lstrip_blocks) while it goes, so the parser never sees stripped text.
type lexer struct {
	src          string
	pos          int
	line         int
	trimBlocks   bool
	lstripBlocks bool
	toks         []token
	lineStarting bool // the previous match ended with a newline (or we are at the start)
}

// normalizeNewlines mirrors jinja2's handling of the source: it splits on
// every line boundary Python's str.splitlines knows, joins with "\n", and so
// drops one trailing newline (keep_trailing_newline is off).
func normalizeNewlines(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e:
			clean = false
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0x85: // U+0085
			clean = false
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9): // U+2028, U+2029
			clean = false
		}
	}
	if clean {
		return strings.TrimSuffix(s, "\n")
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
			b.WriteByte('\n')
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			b.WriteByte('\n')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	out := b.String()
	return strings.TrimSuffix(out, "\n")
}

// isSpace reports whether r is whitespace for Python's str.isspace and \s.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func rstripSpace(s string) string {
	return strings.TrimRightFunc(s, isSpace)
}

func lex(src string, trimBlocks, lstripBlocks bool) ([]token, error) {
	lx := &lexer{src: normalizeNewlines(src), line: 1, trimBlocks: trimBlocks, lstripBlocks: lstripBlocks, lineStarting: true}
	lx.toks = make([]token, 0, len(lx.src)/6+16)
	if err := lx.run(); err != nil {
		return nil, err
	}
	return lx.toks, nil
}

func (lx *lexer) errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...), syntax: true}
}

func (lx *lexer) emit(t token) { lx.toks = append(lx.toks, t) }

// nextTag finds the next "{{", "{%" or "{#" at or after pos.
func (lx *lexer) nextTag(from int) int {
	for i := from; ; {
		j := strings.IndexByte(lx.src[i:], '{')
		if j < 0 {
			return -1
		}
		i += j
		if i+1 < len(lx.src) {
			switch lx.src[i+1] {
			case '{', '%', '#':
				return i
			}
		}
		i++
	}
}

func (lx *lexer) run() error {
	for lx.pos < len(lx.src) {
		start := lx.nextTag(lx.pos)
		if start < 0 {
			lx.data(lx.src[lx.pos:])
			lx.line += strings.Count(lx.src[lx.pos:], "\n")
			lx.pos = len(lx.src)
			break
		}
		text := lx.src[lx.pos:start]
		kind := lx.src[start+1]
		sign := byte(0)
		if start+2 < len(lx.src) && (lx.src[start+2] == '-' || lx.src[start+2] == '+') {
			sign = lx.src[start+2]
		}
		switch {
		case sign == '-':
			text = rstripSpace(text)
		case sign != '+' && lx.lstripBlocks && kind != '{':
			text = lx.lstripText(text)
		}
		lx.data(text)
		lx.line += strings.Count(lx.src[lx.pos:start], "\n")
		lx.pos = start + 2
		if sign != 0 {
			lx.pos++
		}
		var err error
		switch kind {
		case '#':
			err = lx.comment()
		case '{':
			lx.emit(token{kind: tokVarBegin, line: lx.line})
			err = lx.inside("}}", tokVarEnd)
		case '%':
			if lx.isRawStart() {
				err = lx.raw()
			} else {
				lx.emit(token{kind: tokBlockBegin, line: lx.line})
				err = lx.inside("%}", tokBlockEnd)
			}
		}
		if err != nil {
			return err
		}
	}
	lx.emit(token{kind: tokEOF, line: lx.line})
	return nil
}

// lstripText applies lstrip_blocks to the text before a block tag: the
// spaces between the last line start and the tag go.
func (lx *lexer) lstripText(text string) string {
	lpos := strings.LastIndexByte(text, '\n') + 1
	if lpos > 0 || lx.lineStarting {
		rest := text[lpos:]
		if rest != "" && strings.TrimLeftFunc(rest, isSpace) == "" {
			return text[:lpos]
		}
	}
	return text
}

func (lx *lexer) data(s string) {
	if s != "" {
		lx.emit(token{kind: tokData, val: s, line: lx.line})
	}
}

// closeTag consumes the end of a tag (already positioned on its first byte,
// which is '-', '+', or the end marker itself) and applies trimming.
// trimmable says whether trim_blocks applies to this kind of tag.
func (lx *lexer) closeTag(end string, trimmable bool) {
	sign := byte(0)
	if lx.src[lx.pos] == '-' || lx.src[lx.pos] == '+' {
		sign = lx.src[lx.pos]
		lx.pos++
	}
	lx.pos += len(end)
	lx.lineStarting = false
	switch {
	case sign == '-':
		i := lx.pos
		for i < len(lx.src) {
			r, n := utf8.DecodeRuneInString(lx.src[i:])
			if !isSpace(r) {
				break
			}
			i += n
		}
		lx.line += strings.Count(lx.src[lx.pos:i], "\n")
		lx.lineStarting = i > lx.pos && lx.src[i-1] == '\n'
		lx.pos = i
	case sign == 0 && trimmable && lx.trimBlocks && lx.pos < len(lx.src) && lx.src[lx.pos] == '\n':
		lx.pos++
		lx.line++
		lx.lineStarting = true
	}
}

func (lx *lexer) comment() error {
	line := lx.line
	for i := lx.pos; i < len(lx.src); i++ {
		if lx.src[i] != '#' || i+1 >= len(lx.src) || lx.src[i+1] != '}' {
			continue
		}
		endAt := i
		if i > lx.pos && (lx.src[i-1] == '-' || lx.src[i-1] == '+') {
			endAt = i - 1
		}
		lx.line += strings.Count(lx.src[lx.pos:endAt], "\n")
		lx.pos = endAt
		lx.closeTag("#}", true)
		return nil
	}
	return lx.errorf(line, "missing end of comment tag")
}

// isRawStart reports whether the block tag at pos is "{% raw %}".
func (lx *lexer) isRawStart() bool {
	i := lx.pos
	for i < len(lx.src) && (lx.src[i] == ' ' || lx.src[i] == '\t' || lx.src[i] == '\n') {
		i++
	}
	if !strings.HasPrefix(lx.src[i:], "raw") {
		return false
	}
	i += 3
	for i < len(lx.src) && (lx.src[i] == ' ' || lx.src[i] == '\t' || lx.src[i] == '\n') {
		i++
	}
	return strings.HasPrefix(lx.src[i:], "%}") || strings.HasPrefix(lx.src[i:], "-%}") || strings.HasPrefix(lx.src[i:], "+%}")
}

func (lx *lexer) raw() error {
	line := lx.line
	i := strings.Index(lx.src[lx.pos:], "raw") + lx.pos + 3
	for lx.src[i] != '%' && lx.src[i] != '-' && lx.src[i] != '+' {
		i++
	}
	lx.line += strings.Count(lx.src[lx.pos:i], "\n")
	lx.pos = i
	// trim_blocks does not apply to the newline after {% raw %}.
	lx.closeTag("%}", false)
	// Find "{%[-+]? endraw [-+]?%}".
	for j := lx.pos; ; {
		k := strings.Index(lx.src[j:], "{%")
		if k < 0 {
			return lx.errorf(line, "missing end of raw directive")
		}
		k += j
		p := k + 2
		sign := byte(0)
		if p < len(lx.src) && (lx.src[p] == '-' || lx.src[p] == '+') {
			sign = lx.src[p]
			p++
		}
		q := p
		for q < len(lx.src) && isSpace(rune(lx.src[q])) {
			q++
		}
		if !strings.HasPrefix(lx.src[q:], "endraw") {
			j = k + 2
			continue
		}
		q += len("endraw")
		for q < len(lx.src) && isSpace(rune(lx.src[q])) {
			q++
		}
		if !(strings.HasPrefix(lx.src[q:], "%}") || strings.HasPrefix(lx.src[q:], "-%}") || strings.HasPrefix(lx.src[q:], "+%}")) {
			j = k + 2
			continue
		}
		text := lx.src[lx.pos:k]
		switch {
		case sign == '-':
			text = rstripSpace(text)
		case sign != '+' && lx.lstripBlocks:
			text = lx.lstripText(text)
		}
		lx.data(text)
		lx.line += strings.Count(lx.src[lx.pos:q], "\n")
		lx.pos = q
		lx.closeTag("%}", true)
		return nil
	}
}

// inside lexes the expression tokens of a {{ }} or {% %} tag.
func (lx *lexer) inside(end string, endKind tokKind) error {
	startLine := lx.line
	depth := 0
	for {
		// Skip whitespace.
		for lx.pos < len(lx.src) {
			r, n := utf8.DecodeRuneInString(lx.src[lx.pos:])
			if !isSpace(r) {
				break
			}
			if r == '\n' {
				lx.line++
			}
			lx.pos += n
		}
		if lx.pos >= len(lx.src) {
			return lx.errorf(startLine, "unexpected end of template, expected %q", end)
		}
		rest := lx.src[lx.pos:]
		if depth == 0 {
			if strings.HasPrefix(rest, end) || ((rest[0] == '-' || rest[0] == '+') && strings.HasPrefix(rest[1:], end)) {
				if rest[0] == '+' && endKind == tokVarEnd {
					// "+}}" is not a whitespace sign; let it lex as an operator.
				} else {
					lx.emit(token{kind: endKind, line: lx.line})
					lx.closeTag(end, endKind == tokBlockEnd)
					return nil
				}
			}
		}
		c := rest[0]
		switch {
		case c == '"' || c == '\'':
			s, n, err := lx.stringLit(rest)
			if err != nil {
				return err
			}
			lx.emit(token{kind: tokString, val: s, line: lx.line})
			lx.line += strings.Count(rest[:n], "\n")
			lx.pos += n
		case c >= '0' && c <= '9':
			t, n, err := lx.number(rest)
			if err != nil {
				return err
			}
			lx.emit(t)
			lx.pos += n
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
			n := 0
			for n < len(rest) {
				r, size := utf8.DecodeRuneInString(rest[n:])
				if r == '_' || unicode.IsLetter(r) || (n > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r))) {
					n += size
					continue
				}
				break
			}
			if n == 0 {
				r, _ := utf8.DecodeRuneInString(rest)
				return lx.errorf(lx.line, "unexpected char %q", r)
			}
			lx.emit(token{kind: tokName, val: rest[:n], line: lx.line})
			lx.pos += n
		default:
			op := ""
			for _, cand := range operators {
				if strings.HasPrefix(rest, cand) {
					op = cand
					break
				}
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(rest)
				return lx.errorf(lx.line, "unexpected char %q", r)
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					return lx.errorf(lx.line, "unexpected '%s'", op)
				}
				depth--
			}
			lx.emit(token{kind: tokOp, val: op, line: lx.line})
			lx.pos += len(op)
		}
	}
}

// operators, longest first so that prefixes match greedily.
var operators = []string{
	"//", "**", "==", "!=", "<=", ">=",
	"+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}",
	",", ".", ":", "|",
}

func (lx *lexer) number(s string) (token, int, error) {
	n := 0
	digits := func() {
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '_' && n+1 < len(s) && s[n+1] >= '0' && s[n+1] <= '9') {
			n++
		}
	}
	digits()
	isFloat := false
	if n+1 < len(s) && s[n] == '.' && s[n+1] >= '0' && s[n+1] <= '9' {
		isFloat = true
		n++
		digits()
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && s[m] >= '0' && s[m] <= '9' {
			isFloat = true
			n = m
			digits()
		}
	}
	text := strings.ReplaceAll(s[:n], "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{}, 0, lx.errorf(lx.line, "invalid float literal %q", s[:n])
		}
		return token{kind: tokFloat, val: s[:n], fval: f, line: lx.line}, n, nil
	}
	i, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, 0, lx.errorf(lx.line, "integer literal %q out of range", s[:n])
	}
	return token{kind: tokInt, val: s[:n], ival: i, line: lx.line}, n, nil
}

// stringLit decodes a quoted literal the way jinja2 does: Python's
// unicode-escape rules, with unknown escapes kept verbatim.
func (lx *lexer) stringLit(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\':
			b.WriteByte('\\')
		case '\'':
			b.WriteByte('\'')
		case '"':
			b.WriteByte('"')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+width > len(s) {
				return "", 0, lx.errorf(lx.line, "truncated \\%c escape in string literal", e)
			}
			v, err := strconv.ParseUint(s[i:i+width], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return "", 0, lx.errorf(lx.line, "invalid \\%c escape in string literal", e)
			}
			b.WriteRune(rune(v))
			i += width
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				v = v*8 + int(s[i]-'0')
				i++
			}
			b.WriteRune(rune(v))
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, lx.errorf(lx.line, "unterminated string literal")
}
