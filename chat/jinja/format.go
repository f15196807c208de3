package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fmtSpec is a parsed conversion: the fields shared by Python's printf-style
// ("%-5.2f") and format-spec ("<5.2f") mini-languages.
type fmtSpec struct {
	fill      rune
	align     byte // '<', '>', '^', '=' or 0
	sign      byte // '+', ' ', '-' or 0
	alt       bool
	zero      bool
	width     int
	precision int // -1 when absent
	verb      byte
}

func applyWidth(s string, sp fmtSpec, numeric bool) string {
	n := utf8.RuneCountInString(s)
	if sp.width <= n {
		return s
	}
	fill := sp.fill
	if fill == 0 {
		fill = ' '
	}
	align := sp.align
	if align == 0 {
		if numeric {
			align = '>'
		} else {
			align = '<'
		}
	}
	padN := sp.width - n
	f := string(fill)
	switch align {
	case '<':
		return s + strings.Repeat(f, padN)
	case '^':
		l := padN / 2
		return strings.Repeat(f, l) + s + strings.Repeat(f, padN-l)
	case '=':
		if s != "" && (s[0] == '-' || s[0] == '+' || s[0] == ' ') {
			return s[:1] + strings.Repeat(f, padN) + s[1:]
		}
	}
	return strings.Repeat(f, padN) + s
}

// formatNumber renders v with verb in d, i, u, f, F, e, E, g, G, x, X, o, b, %.
func formatNumber(v Value, sp fmtSpec) (string, error) {
	i, f, isF, ok := number(v)
	if !ok {
		return "", rtErrorf("%%%c format: a real number is required, not %s", sp.verb, typeName(v))
	}
	var s string
	neg := false
	prec := sp.precision
	switch sp.verb {
	case 'd', 'i', 'u', 'x', 'X', 'o', 'b':
		if isF {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return "", rtErrorf("cannot convert float %s to integer", formatFloat(f))
			}
			i = int64(f)
		}
		neg = i < 0
		u := uint64(absInt(i))
		if i == math.MinInt64 {
			u = 1 << 63
		}
		base := map[byte]int{'d': 10, 'i': 10, 'u': 10, 'x': 16, 'X': 16, 'o': 8, 'b': 2}[sp.verb]
		s = strconv.FormatUint(u, base)
		if sp.verb == 'X' {
			s = strings.ToUpper(s)
		}
		if sp.alt {
			switch sp.verb {
			case 'x':
				s = "0x" + s
			case 'X':
				s = "0X" + s
			case 'o':
				s = "0o" + s
			case 'b':
				s = "0b" + s
			}
		}
	default:
		neg = math.Signbit(f) && !math.IsNaN(f)
		a := math.Abs(f)
		if prec < 0 {
			prec = 6
		}
		if prec > 200 {
			prec = 200
		}
		switch {
		case math.IsInf(a, 0):
			s = "inf"
		case math.IsNaN(a):
			s = "nan"
		default:
			switch sp.verb {
			case 'f', 'F':
				s = strconv.FormatFloat(a, 'f', prec, 64)
			case 'e', 'E':
				s = strconv.FormatFloat(a, 'e', prec, 64)
			case 'g', 'G':
				if prec == 0 {
					prec = 1
				}
				s = strconv.FormatFloat(a, 'g', prec, 64)
				if sp.alt && !strings.Contains(s, ".") {
					s += "."
				}
			case '%':
				s = strconv.FormatFloat(a*100, 'f', prec, 64) + "%"
			}
		}
		if sp.verb == 'F' || sp.verb == 'E' || sp.verb == 'G' {
			s = strings.ToUpper(s)
		}
	}
	switch {
	case neg:
		s = "-" + s
	case sp.sign == '+':
		s = "+" + s
	case sp.sign == ' ':
		s = " " + s
	}
	if sp.zero && sp.align == 0 {
		sp.fill, sp.align = '0', '='
	}
	return applyWidth(s, sp, true), nil
}

// percentFormat is Python's str % args.
func percentFormat(f string, args Value) (string, error) {
	var positional []Value
	mapping, isMap := args.(*Dict)
	// Python treats a non-tuple argument with __getitem__ (list, dict) as
	// a possible mapping: leftover arguments are then not an error.
	lenient := isMap
	if t, ok := args.(*List); ok && t.Tuple {
		positional = t.Items
	} else if !isMap {
		positional = []Value{args}
		_, lenient = args.(*List)
	}
	next := 0
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			return "", rtErrorf("incomplete format")
		}
		var arg Value
		haveArg := false
		if f[i] == '(' {
			end := strings.IndexByte(f[i:], ')')
			if end < 0 {
				return "", rtErrorf("incomplete format key")
			}
			if !isMap {
				return "", rtErrorf("format requires a mapping")
			}
			key := f[i+1 : i+end]
			v, ok := mapping.Get(key)
			if !ok {
				return "", rtErrorf("KeyError: %s", repr(key))
			}
			arg, haveArg = v, true
			i += end + 1
		}
		sp := fmtSpec{precision: -1}
	flags:
		for ; i < len(f); i++ {
			switch f[i] {
			case '-':
				sp.align = '<'
			case '+':
				sp.sign = '+'
			case ' ':
				if sp.sign == 0 {
					sp.sign = ' '
				}
			case '0':
				sp.zero = true
			case '#':
				sp.alt = true
			default:
				break flags
			}
		}
		for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
			sp.width = min(sp.width*10+int(f[i]-'0'), 1<<20)
		}
		if i < len(f) && f[i] == '.' {
			i++
			sp.precision = 0
			for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
				sp.precision = min(sp.precision*10+int(f[i]-'0'), 1<<20)
			}
		}
		if i >= len(f) {
			return "", rtErrorf("incomplete format")
		}
		sp.verb = f[i]
		if sp.verb == '%' {
			b.WriteByte('%')
			continue
		}
		if sp.align == '<' {
			sp.zero = false
		}
		if !haveArg {
			if isMap {
				arg = mapping
			} else {
				if next >= len(positional) {
					return "", rtErrorf("not enough arguments for format string")
				}
				arg = positional[next]
				next++
			}
		}
		var s string
		switch sp.verb {
		case 's', 'r', 'a':
			if sp.verb == 's' {
				s = toStr(arg)
			} else {
				s = repr(arg)
			}
			if sp.precision >= 0 && sp.precision < utf8.RuneCountInString(s) {
				s = string([]rune(s)[:sp.precision])
			}
			s = applyWidth(s, fmtSpec{width: sp.width, align: map[bool]byte{true: '<', false: '>'}[sp.align == '<']}, false)
		case 'c':
			switch a := arg.(type) {
			case string:
				s = a
			case int64:
				s = string(rune(a))
			default:
				return "", rtErrorf("%%c requires int or char")
			}
			s = applyWidth(s, fmtSpec{width: sp.width, align: map[bool]byte{true: '<', false: '>'}[sp.align == '<']}, false)
		case 'd', 'i', 'u', 'x', 'X', 'o', 'f', 'F', 'e', 'E', 'g', 'G':
			if sp.verb == 'd' || sp.verb == 'i' || sp.verb == 'u' || sp.verb == 'x' || sp.verb == 'X' || sp.verb == 'o' {
				sp.precision = -1
			}
			var err error
			if s, err = formatNumber(arg, sp); err != nil {
				return "", err
			}
		default:
			return "", rtErrorf("unsupported format character '%c'", sp.verb)
		}
		b.WriteString(s)
		if b.Len() > DefaultMaxOutput {
			return "", rtErrorf("formatted string too large")
		}
	}
	if !lenient && next < len(positional) {
		return "", rtErrorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// parseFormatSpec parses Python's format-spec mini-language.
func parseFormatSpec(s string) (fmtSpec, error) {
	sp := fmtSpec{precision: -1}
	rs := []rune(s)
	i := 0
	isAlign := func(r rune) bool { return r == '<' || r == '>' || r == '^' || r == '=' }
	if len(rs) >= 2 && isAlign(rs[1]) {
		sp.fill, sp.align = rs[0], byte(rs[1])
		i = 2
	} else if len(rs) >= 1 && isAlign(rs[0]) {
		sp.align = byte(rs[0])
		i = 1
	}
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-' || rs[i] == ' ') {
		sp.sign = byte(rs[i])
		i++
	}
	if i < len(rs) && rs[i] == '#' {
		sp.alt = true
		i++
	}
	if i < len(rs) && rs[i] == '0' {
		sp.zero = true
		i++
	}
	for ; i < len(rs) && rs[i] >= '0' && rs[i] <= '9'; i++ {
		sp.width = min(sp.width*10+int(rs[i]-'0'), 1<<20)
	}
	if i < len(rs) && rs[i] == '.' {
		i++
		sp.precision = 0
		for ; i < len(rs) && rs[i] >= '0' && rs[i] <= '9'; i++ {
			sp.precision = min(sp.precision*10+int(rs[i]-'0'), 1<<20)
		}
	}
	if i < len(rs) {
		sp.verb = byte(rs[i])
		i++
	}
	if i != len(rs) {
		return sp, rtErrorf("invalid format specifier '%s'", s)
	}
	return sp, nil
}

func formatValue(v Value, spec string) (string, error) {
	if spec == "" {
		return toStr(v), nil
	}
	sp, err := parseFormatSpec(spec)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		if sp.verb != 0 && sp.verb != 's' {
			return "", rtErrorf("unknown format code '%c' for object of type 'str'", sp.verb)
		}
		if sp.precision >= 0 && sp.precision < utf8.RuneCountInString(x) {
			x = string([]rune(x)[:sp.precision])
		}
		return applyWidth(x, sp, false), nil
	case bool, int64, float64:
		if sp.verb == 0 {
			if _, isF := x.(float64); isF {
				if sp.precision >= 0 {
					sp.verb = 'g'
				} else {
					return applyWidth(formatFloat(x.(float64)), sp, true), nil
				}
			} else if b, isB := x.(bool); isB && sp.width == 0 {
				return toStr(b), nil
			} else {
				sp.verb = 'd'
			}
		}
		if sp.verb == 's' {
			return "", rtErrorf("unknown format code 's' for object of type '%s'", typeName(v))
		}
		return formatNumber(v, sp)
	}
	return "", rtErrorf("unsupported format string passed to %s.__format__", typeName(v))
}

// pyFormat is Python's str.format with positional and keyword fields,
// !r/!s conversions and format specs; attribute and index lookups in
// field names are supported.
func pyFormat(s string, args []Value, kwargs []Kwarg) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '}' {
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return "", rtErrorf("Single '}' encountered in format string")
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", rtErrorf("Single '{' encountered in format string")
		}
		field := s[i+1 : i+end]
		i += end
		spec := ""
		if k := strings.IndexByte(field, ':'); k >= 0 {
			field, spec = field[:k], field[k+1:]
		}
		conv := byte(0)
		if k := strings.IndexByte(field, '!'); k >= 0 {
			if k+2 != len(field) {
				return "", rtErrorf("invalid conversion in format string")
			}
			conv = field[k+1]
			field = field[:k]
		}
		name := field
		rest := ""
		if k := strings.IndexAny(field, ".["); k >= 0 {
			name, rest = field[:k], field[k:]
		}
		var v Value
		switch {
		case name == "":
			if auto >= len(args) {
				return "", rtErrorf("Replacement index %d out of range for positional args tuple", auto)
			}
			v = args[auto]
			auto++
		case name[0] >= '0' && name[0] <= '9':
			n, err := strconv.Atoi(name)
			if err != nil || n >= len(args) {
				return "", rtErrorf("Replacement index %s out of range for positional args tuple", name)
			}
			v = args[n]
		default:
			found := false
			for _, k := range kwargs {
				if k.Name == name {
					v, found = k.Value, true
				}
			}
			if !found {
				return "", rtErrorf("KeyError: %s", repr(name))
			}
		}
		for rest != "" {
			var err error
			if rest[0] == '.' {
				k := strings.IndexAny(rest[1:], ".[")
				if k < 0 {
					k = len(rest) - 1
				}
				if v, err = getAttr(v, rest[1:1+k]); err != nil {
					return "", err
				}
				rest = rest[1+k:]
				continue
			}
			k := strings.IndexByte(rest, ']')
			if k < 0 {
				return "", rtErrorf("Missing ']' in format string")
			}
			key := rest[1:k]
			var kv Value = key
			if n, err := strconv.ParseInt(key, 10, 64); err == nil {
				kv = n
			}
			if v, err = getItem(v, kv); err != nil {
				return "", err
			}
			rest = rest[k+1:]
		}
		switch conv {
		case 'r', 'a':
			v = repr(v)
		case 's':
			v = toStr(v)
		case 0:
		default:
			return "", rtErrorf("Unknown conversion specifier %c", conv)
		}
		out, err := formatValue(v, spec)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		if b.Len() > DefaultMaxOutput {
			return "", rtErrorf("formatted string too large")
		}
	}
	return b.String(), nil
}
