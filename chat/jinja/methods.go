package jinja

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// boundMethod is obj.name before it is called: a Python method of a str,
// list, dict, or the loop object.
type boundMethod struct {
	recv Value
	name string
}

func nameSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	strMethods = nameSet("capitalize", "casefold", "center", "count", "endswith", "find", "format",
		"index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
		"isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
		"removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
		"rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title",
		"upper", "zfill")
	listMethods = nameSet("count", "index", "copy",
		"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort")
	dictMethods = nameSet("copy", "get", "items", "keys", "values",
		"clear", "pop", "popitem", "setdefault", "update")
	// Methods that would modify their object: transformers renders in
	// jinja2's ImmutableSandboxedEnvironment, which refuses them.
	mutators = nameSet("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort",
		"popitem", "setdefault", "update")
)

func isMethod(obj Value, name string) bool {
	switch x := obj.(type) {
	case string:
		return strMethods[name]
	case *List:
		if x.Tuple {
			return name == "count" || name == "index"
		}
		return listMethods[name]
	case *Dict:
		return dictMethods[name]
	}
	return false
}

func (r *renderer) callMethod(m *boundMethod, args []Value, kwargs []Kwarg) (Value, error) {
	switch recv := m.recv.(type) {
	case string:
		return strMethod(recv, m.name, args, kwargs)
	case *List:
		return listMethod(recv, m.name, args, kwargs)
	case *Dict:
		return dictMethod(recv, m.name, args, kwargs)
	case *loopObj:
		return loopMethod(recv, m.name, args, kwargs)
	}
	return nil, rtErrorf("'%s' object has no method '%s'", typeName(m.recv), m.name)
}

func unsafeError(obj Value, name string) error {
	return rtErrorf("access to attribute '%s' of '%s' object is unsafe", name, typeName(obj))
}

func listMethod(l *List, name string, args []Value, kwargs []Kwarg) (Value, error) {
	if mutators[name] {
		return nil, unsafeError(l, name)
	}
	switch name {
	case "copy":
		if _, err := bindArgs(name, args, kwargs, nil, nil, 0); err != nil {
			return nil, err
		}
		return &List{Items: append([]Value(nil), l.Items...)}, nil
	case "count":
		a, err := bindArgs(name, args, nil, []string{"value"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, it := range l.Items {
			if pyEqual(it, a[0]) {
				n++
			}
		}
		return int64(n), nil
	case "index":
		a, err := bindArgs(name, args, nil, []string{"value"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		for i, it := range l.Items {
			if pyEqual(it, a[0]) {
				return int64(i), nil
			}
		}
		return nil, rtErrorf("%s is not in list", repr(a[0]))
	}
	return nil, rtErrorf("'list' object has no method '%s'", name)
}

func dictMethod(d *Dict, name string, args []Value, kwargs []Kwarg) (Value, error) {
	if mutators[name] || name == "pop" || name == "clear" {
		return nil, unsafeError(d, name)
	}
	if name != "get" {
		if _, err := bindArgs(name, args, kwargs, nil, nil, 0); err != nil {
			return nil, err
		}
	}
	switch name {
	case "copy":
		return d.copyDict(), nil
	case "items":
		return &Iter{items: dictItems(d), kind: "dict_items", view: true}, nil
	case "keys":
		return &Iter{items: append([]Value(nil), d.keys...), kind: "dict_keys", view: true}, nil
	case "values":
		return &Iter{items: append([]Value(nil), d.vals...), kind: "dict_values", view: true}, nil
	case "get":
		a, err := bindArgs(name, args, nil, []string{"key", "default"}, []Value{nil, nil}, 1)
		if err != nil {
			return nil, err
		}
		if len(kwargs) > 0 {
			return nil, rtErrorf("get() takes no keyword arguments")
		}
		if _, ok := hashKey(a[0]); !ok {
			return nil, rtErrorf("unhashable type: '%s'", typeName(a[0]))
		}
		if v, ok := d.Get(a[0]); ok {
			return v, nil
		}
		return a[1], nil
	}
	return nil, rtErrorf("'dict' object has no method '%s'", name)
}

func loopMethod(l *loopObj, name string, args []Value, kwargs []Kwarg) (Value, error) {
	if len(kwargs) > 0 {
		return nil, rtErrorf("loop.%s() takes no keyword arguments", name)
	}
	switch name {
	case "cycle":
		if len(args) == 0 {
			return nil, rtErrorf("no items for cycling given")
		}
		return args[l.index0%len(args)], nil
	case "changed":
		if l.changedSet && len(args) == len(l.lastChanged) {
			same := true
			for i := range args {
				if !pyEqual(args[i], l.lastChanged[i]) {
					same = false
					break
				}
			}
			if same {
				return false, nil
			}
		}
		l.lastChanged = append([]Value(nil), args...)
		l.changedSet = true
		return true, nil
	}
	return nil, rtErrorf("loop has no method '%s'", name)
}

// stripSet returns the predicate for str.strip's chars argument.
func stripSet(fn string, chars Value) (func(rune) bool, error) {
	switch c := chars.(type) {
	case nil:
		return isSpace, nil
	case string:
		return func(r rune) bool { return strings.ContainsRune(c, r) }, nil
	}
	return nil, rtErrorf("%s arg must be None or str", fn)
}

func argStr(fn string, v Value) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", rtErrorf("%s() argument must be str, not %s", fn, typeName(v))
	}
	return s, nil
}

func argInt(fn string, v Value) (int64, error) {
	i, _, isF, ok := number(v)
	if !ok || isF {
		return 0, rtErrorf("%s() argument must be an integer, not %s", fn, typeName(v))
	}
	return i, nil
}

// runeSlice applies Python's optional start/end arguments to s.
func runeSlice(s string, start, end Value) (string, int, error) {
	if start == nil && end == nil {
		return s, 0, nil
	}
	rs := []rune(s)
	idx, err := sliceBounds(len(rs), start, end, nil)
	if err != nil {
		return "", 0, err
	}
	if len(idx) == 0 {
		a, _, _ := sliceIndex(start)
		if a < 0 {
			a += int64(len(rs))
		}
		if a < 0 {
			a = 0
		}
		if a > int64(len(rs)) {
			return "", -1, nil // start past the end: nothing can match
		}
		return "", int(a), nil
	}
	return string(rs[idx[0] : idx[len(idx)-1]+1]), idx[0], nil
}

func splitWhitespace(s string, maxsplit int64) []Value {
	var out []Value
	for {
		s = strings.TrimLeftFunc(s, isSpace)
		if s == "" {
			return out
		}
		if maxsplit >= 0 && int64(len(out)) >= maxsplit {
			return append(out, s)
		}
		i := strings.IndexFunc(s, isSpace)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
}

func rsplitWhitespace(s string, maxsplit int64) []Value {
	var rev []Value
	for {
		s = strings.TrimRightFunc(s, isSpace)
		if s == "" {
			break
		}
		if maxsplit >= 0 && int64(len(rev)) >= maxsplit {
			rev = append(rev, s)
			break
		}
		i := strings.LastIndexFunc(s, isSpace)
		if i < 0 {
			rev = append(rev, s)
			break
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		rev = append(rev, s[i+n:])
		s = s[:i]
	}
	out := make([]Value, len(rev))
	for i, v := range rev {
		out[len(rev)-1-i] = v
	}
	return out
}

func strList(parts []string) *List {
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return &List{Items: out}
}

func pyCharIndex(s string, byteIdx int) int64 {
	if byteIdx < 0 {
		return -1
	}
	return int64(runeLen(s[:byteIdx]))
}

func pad(s string, width int64, fill rune, left, right bool) string {
	n := int64(runeLen(s))
	if width <= n {
		return s
	}
	if width > 1<<24 {
		width = 1 << 24
	}
	marg := width - n
	var l, r int64
	switch {
	case left && right:
		l = marg/2 + (marg & width & 1)
		r = marg - l
	case left:
		l = marg
	default:
		r = marg
	}
	f := string(fill)
	return strings.Repeat(f, int(l)) + s + strings.Repeat(f, int(r))
}

func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, c := range s {
		switch {
		case unicode.IsUpper(c) || unicode.IsTitle(c):
			if prevCased {
				b.WriteRune(unicode.ToLower(c))
			} else {
				b.WriteRune(c)
			}
			prevCased = true
		case unicode.IsLower(c):
			if prevCased {
				b.WriteRune(c)
			} else {
				b.WriteRune(unicode.ToTitle(c))
			}
			prevCased = true
		default:
			b.WriteRune(c)
			prevCased = false
		}
	}
	return b.String()
}

func allRunes(s string, f func(rune) bool) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !f(c) {
			return false
		}
	}
	return true
}

func strMethod(s, name string, args []Value, kwargs []Kwarg) (Value, error) {
	bind := func(names []string, defaults []Value, required int) ([]Value, error) {
		return bindArgs(name, args, kwargs, names, defaults, required)
	}
	switch name {
	case "format":
		return pyFormat(s, args, kwargs)
	case "upper", "lower", "casefold", "capitalize", "title", "swapcase",
		"isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
		"isspace", "istitle", "isupper":
		if _, err := bind(nil, nil, 0); err != nil {
			return nil, err
		}
		switch name {
		case "upper":
			return pyUpper(s), nil
		case "lower", "casefold":
			return pyLower(s), nil
		case "capitalize":
			return pyCapitalize(s), nil
		case "title":
			return pyTitle(s), nil
		case "swapcase":
			return strings.Map(func(c rune) rune {
				if unicode.IsUpper(c) {
					return unicode.ToLower(c)
				}
				return unicode.ToUpper(c)
			}, s), nil
		case "isalnum":
			return allRunes(s, func(c rune) bool { return unicode.IsLetter(c) || unicode.IsNumber(c) }), nil
		case "isalpha":
			return allRunes(s, unicode.IsLetter), nil
		case "isascii":
			return isASCII(s), nil
		case "isdecimal", "isdigit":
			return allRunes(s, unicode.IsDigit), nil
		case "isnumeric":
			return allRunes(s, unicode.IsNumber), nil
		case "islower":
			return pyCaseTest(s, unicode.IsLower, unicode.IsUpper), nil
		case "isupper":
			return pyCaseTest(s, unicode.IsUpper, unicode.IsLower), nil
		case "isspace":
			return allRunes(s, isSpace), nil
		case "istitle":
			return s != "" && pyTitle(s) == s && strings.IndexFunc(s, unicode.IsLetter) >= 0, nil
		}
	case "strip", "lstrip", "rstrip":
		a, err := bind([]string{"chars"}, []Value{nil}, 0)
		if err != nil {
			return nil, err
		}
		f, err := stripSet(name, a[0])
		if err != nil {
			return nil, err
		}
		switch name {
		case "strip":
			return strings.TrimFunc(s, f), nil
		case "lstrip":
			return strings.TrimLeftFunc(s, f), nil
		}
		return strings.TrimRightFunc(s, f), nil
	case "split", "rsplit":
		a, err := bind([]string{"sep", "maxsplit"}, []Value{nil, int64(-1)}, 0)
		if err != nil {
			return nil, err
		}
		maxsplit, err := argInt(name, a[1])
		if err != nil {
			return nil, err
		}
		if a[0] == nil {
			if name == "split" {
				return &List{Items: splitWhitespace(s, maxsplit)}, nil
			}
			return &List{Items: rsplitWhitespace(s, maxsplit)}, nil
		}
		sep, err := argStr(name, a[0])
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, rtErrorf("empty separator")
		}
		n := -1
		if maxsplit >= 0 {
			n = int(min(maxsplit, int64(len(s)))) + 1
		}
		if name == "split" {
			return strList(strings.SplitN(s, sep, n)), nil
		}
		var rev []string
		rest := s
		for n < 0 || len(rev) < n-1 {
			i := strings.LastIndex(rest, sep)
			if i < 0 {
				break
			}
			rev = append(rev, rest[i+len(sep):])
			rest = rest[:i]
		}
		rev = append(rev, rest)
		out := make([]string, len(rev))
		for i, p := range rev {
			out[len(rev)-1-i] = p
		}
		return strList(out), nil
	case "splitlines":
		a, err := bind([]string{"keepends"}, []Value{false}, 0)
		if err != nil {
			return nil, err
		}
		return strList(pySplitlines(s, truthy(a[0]))), nil
	case "startswith", "endswith":
		a, err := bind([]string{"prefix", "start", "end"}, []Value{nil, nil, nil}, 1)
		if err != nil {
			return nil, err
		}
		sub, off, err := runeSlice(s, a[1], a[2])
		if err != nil {
			return nil, err
		}
		if off < 0 {
			return false, nil
		}
		var cands []Value
		switch p := a[0].(type) {
		case string:
			cands = []Value{p}
		case *List:
			if !p.Tuple {
				return nil, rtErrorf("%s first arg must be str or a tuple of str, not list", name)
			}
			cands = p.Items
		default:
			return nil, rtErrorf("%s first arg must be str or a tuple of str, not %s", name, typeName(a[0]))
		}
		for _, c := range cands {
			cs, err := argStr(name, c)
			if err != nil {
				return nil, err
			}
			if name == "startswith" && strings.HasPrefix(sub, cs) || name == "endswith" && strings.HasSuffix(sub, cs) {
				return true, nil
			}
		}
		return false, nil
	case "find", "rfind", "index", "rindex", "count":
		a, err := bind([]string{"sub", "start", "end"}, []Value{nil, nil, nil}, 1)
		if err != nil {
			return nil, err
		}
		sub, err := argStr(name, a[0])
		if err != nil {
			return nil, err
		}
		hay, off, err := runeSlice(s, a[1], a[2])
		if err != nil {
			return nil, err
		}
		if off < 0 {
			if name == "count" {
				return int64(0), nil
			}
			if name == "index" || name == "rindex" {
				return nil, rtErrorf("substring not found")
			}
			return int64(-1), nil
		}
		if name == "count" {
			return int64(strings.Count(hay, sub)), nil
		}
		var i int
		if name == "find" || name == "index" {
			i = strings.Index(hay, sub)
		} else {
			i = strings.LastIndex(hay, sub)
		}
		if i < 0 {
			if name == "index" || name == "rindex" {
				return nil, rtErrorf("substring not found")
			}
			return int64(-1), nil
		}
		return pyCharIndex(hay, i) + int64(off), nil
	case "replace":
		a, err := bind([]string{"old", "new", "count"}, []Value{nil, nil, int64(-1)}, 2)
		if err != nil {
			return nil, err
		}
		old, err := argStr(name, a[0])
		if err != nil {
			return nil, err
		}
		nw, err := argStr(name, a[1])
		if err != nil {
			return nil, err
		}
		n, err := argInt(name, a[2])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = -1
		}
		if int64(len(nw)) > 1 && int64(len(s)+1)*int64(len(nw)) > DefaultMaxOutput {
			return nil, rtErrorf("replace() result too large")
		}
		return strings.Replace(s, old, nw, int(min(n, int64(len(s)+1)))), nil
	case "join":
		a, err := bind([]string{"iterable"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		items, err := iterate(a[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		total := 0
		for i, it := range items {
			p, ok := it.(string)
			if !ok {
				return nil, rtErrorf("sequence item %d: expected str instance, %s found", i, typeName(it))
			}
			parts[i] = p
			if total += len(p) + len(s); total > DefaultMaxOutput {
				return nil, rtErrorf("join() result too large")
			}
		}
		return strings.Join(parts, s), nil
	case "center", "ljust", "rjust":
		a, err := bind([]string{"width", "fillchar"}, []Value{nil, " "}, 1)
		if err != nil {
			return nil, err
		}
		w, err := argInt(name, a[0])
		if err != nil {
			return nil, err
		}
		fc, ok := a[1].(string)
		if !ok || utf8.RuneCountInString(fc) != 1 {
			return nil, rtErrorf("The fill character must be exactly one character long")
		}
		fr, _ := utf8.DecodeRuneInString(fc)
		return pad(s, w, fr, name != "ljust", name != "rjust"), nil
	case "zfill":
		a, err := bind([]string{"width"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		w, err := argInt(name, a[0])
		if err != nil {
			return nil, err
		}
		sign := ""
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			sign, s = s[:1], s[1:]
			w--
		}
		return sign + pad(s, w, '0', true, false), nil
	case "partition", "rpartition":
		a, err := bind([]string{"sep"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		sep, err := argStr(name, a[0])
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, rtErrorf("empty separator")
		}
		var i int
		if name == "partition" {
			i = strings.Index(s, sep)
		} else {
			i = strings.LastIndex(s, sep)
		}
		if i < 0 {
			if name == "partition" {
				return &List{Items: []Value{s, "", ""}, Tuple: true}, nil
			}
			return &List{Items: []Value{"", "", s}, Tuple: true}, nil
		}
		return &List{Items: []Value{s[:i], sep, s[i+len(sep):]}, Tuple: true}, nil
	case "removeprefix", "removesuffix":
		a, err := bind([]string{"affix"}, []Value{nil}, 1)
		if err != nil {
			return nil, err
		}
		x, err := argStr(name, a[0])
		if err != nil {
			return nil, err
		}
		if name == "removeprefix" {
			return strings.TrimPrefix(s, x), nil
		}
		return strings.TrimSuffix(s, x), nil
	}
	return nil, rtErrorf("'str' object has no method '%s'", name)
}
