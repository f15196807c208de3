package jinja

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bindArgs maps positional and keyword arguments onto the named parameters
// of a built-in, Python style. defaults has one entry per name; a nil entry
// with required[i] set means the argument must be given.
func bindArgs(fn string, args []Value, kwargs []Kwarg, names []string, defaults []Value, required int) ([]Value, error) {
	if len(args) > len(names) {
		return nil, rtErrorf("%s() takes at most %d argument(s) (%d given)", fn, len(names), len(args))
	}
	out := make([]Value, len(names))
	set := make([]bool, len(names))
	for i, a := range args {
		out[i] = a
		set[i] = true
	}
	for _, k := range kwargs {
		found := false
		for i, n := range names {
			if n == k.Name {
				if set[i] {
					return nil, rtErrorf("%s() got multiple values for argument '%s'", fn, n)
				}
				out[i] = k.Value
				set[i] = true
				found = true
				break
			}
		}
		if !found {
			return nil, rtErrorf("%s() got an unexpected keyword argument '%s'", fn, k.Name)
		}
	}
	for i := range names {
		if set[i] {
			continue
		}
		if i < required {
			return nil, rtErrorf("%s() missing required argument '%s'", fn, names[i])
		}
		out[i] = defaults[i]
	}
	return out, nil
}

func (r *renderer) applyFilter(f *filterExpr, v Value, s *scope) (Value, error) {
	args, err := r.evalList(f.args, s)
	if err != nil {
		return nil, err
	}
	kwargs, err := r.evalKwargs(f.kwargs, s)
	if err != nil {
		return nil, err
	}
	out, err := r.filter(f.name, v, args, kwargs)
	if err != nil {
		return nil, r.wrap(f, err)
	}
	return out, nil
}

func (r *renderer) filter(name string, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	if f, ok := r.env.Filters[name]; ok {
		return f(v, args, kwargs)
	}
	f, ok := builtinFilters[name]
	if !ok {
		return nil, rtErrorf("no filter named '%s'", name)
	}
	return f(r, v, args, kwargs)
}

type builtinFilter func(r *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error)

var builtinFilters map[string]builtinFilter

func init() {
	builtinFilters = map[string]builtinFilter{
		"abs":         filterAbs,
		"attr":        filterAttr,
		"batch":       filterBatch,
		"capitalize":  strFilter(pyCapitalize),
		"center":      filterCenter,
		"count":       filterLength,
		"d":           filterDefault,
		"default":     filterDefault,
		"dictsort":    filterDictsort,
		"e":           filterEscape,
		"escape":      filterEscape,
		"first":       filterFirst,
		"float":       filterFloat,
		"forceescape": filterEscape,
		"format":      filterFormat,
		"groupby":     filterGroupby,
		"indent":      filterIndent,
		"int":         filterInt,
		"items":       filterItems,
		"join":        filterJoin,
		"last":        filterLast,
		"length":      filterLength,
		"list":        filterList,
		"lower":       strFilter(pyLower),
		"map":         filterMap,
		"max":         minMax("max", 1),
		"min":         minMax("min", -1),
		"pprint":      func(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) { return repr(v), nil },
		"reject":      selectFilter("reject", false, false),
		"rejectattr":  selectFilter("rejectattr", false, true),
		"replace":     filterReplace,
		"reverse":     filterReverse,
		"round":       filterRound,
		"safe":        func(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) { return toStr(v), nil },
		"select":      selectFilter("select", true, false),
		"selectattr":  selectFilter("selectattr", true, true),
		"slice":       filterSlice,
		"sort":        filterSort,
		"string":      func(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) { return toStr(v), nil },
		"striptags":   filterStriptags,
		"sum":         filterSum,
		"title":       strFilter(jinjaTitle),
		"tojson":      filterTojson,
		"trim":        filterTrim,
		"truncate":    filterTruncate,
		"unique":      filterUnique,
		"upper":       strFilter(pyUpper),
		"wordcount":   filterWordcount,
		"urlencode":   filterURLEncode,
	}
}

func strFilter(f func(string) string) builtinFilter {
	return func(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
		if len(args)+len(kwargs) > 0 {
			return nil, rtErrorf("filter takes no arguments")
		}
		return f(toStr(v)), nil
	}
}

func filterAbs(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	i, f, isF, ok := number(v)
	if !ok {
		return nil, rtErrorf("bad operand type for abs(): '%s'", typeName(v))
	}
	if isF {
		return math.Abs(f), nil
	}
	if i == math.MinInt64 {
		return nil, rtErrorf("integer overflow")
	}
	return absInt(i), nil
}

func filterAttr(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("attr", args, kwargs, []string{"name"}, []Value{nil}, 1)
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, rtErrorf("attribute name must be a string")
	}
	// Unlike obj.name, the attr filter looks up attributes only, never items.
	switch o := v.(type) {
	case *Dict:
		if isMethod(v, name) {
			return &boundMethod{recv: v, name: name}, nil
		}
		return undefinedAttr(v, name), nil
	case Undefined:
		return undefinedAttr(o, name), nil
	}
	return getAttr(v, name)
}

func filterBatch(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("batch", args, kwargs, []string{"linecount", "fill_with"}, []Value{nil, nil}, 1)
	if err != nil {
		return nil, err
	}
	n, _, isF, ok := number(a[0])
	if !ok || isF || n <= 0 {
		return nil, rtErrorf("batch() linecount must be a positive integer")
	}
	return newGenerator(func() ([]Value, error) { return batch(v, n, a[1]) }), nil
}

func batch(v Value, n int64, fill Value) ([]Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	var out []Value
	var tmp []Value
	for _, it := range items {
		if int64(len(tmp)) == n {
			out = append(out, &List{Items: tmp})
			tmp = nil
		}
		tmp = append(tmp, it)
	}
	if len(tmp) > 0 {
		if fill != nil {
			for int64(len(tmp)) < n {
				tmp = append(tmp, fill)
			}
		}
		out = append(out, &List{Items: tmp})
	}
	return out, nil
}

func filterCenter(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("center", args, kwargs, []string{"width"}, []Value{int64(80)}, 0)
	if err != nil {
		return nil, err
	}
	return strMethod(toStr(v), "center", []Value{a[0]}, nil)
}

func filterDefault(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("default", args, kwargs, []string{"default_value", "boolean"}, []Value{"", false}, 0)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(Undefined); ok || (truthy(a[1]) && !truthy(v)) {
		return a[0], nil
	}
	return v, nil
}

func filterDictsort(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("dictsort", args, kwargs, []string{"case_sensitive", "by", "reverse"}, []Value{false, "key", false}, 0)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*Dict)
	if !ok {
		return nil, rtErrorf("dictsort() expects a mapping, got %s", typeName(v))
	}
	pos := 0
	switch a[1] {
	case "key":
	case "value":
		pos = 1
	default:
		return nil, rtErrorf("You can only sort by either 'key' or 'value'")
	}
	items := dictItems(d)
	err = sortValues(items, truthy(a[2]), func(x Value) (Value, error) {
		k := x.(*List).Items[pos]
		if !truthy(a[0]) {
			k = lowerIfString(k)
		}
		return k, nil
	})
	return &List{Items: items}, err
}

func dictItems(d *Dict) []Value {
	items := make([]Value, d.Len())
	for i, k := range d.keys {
		items[i] = &List{Items: []Value{k, d.vals[i]}, Tuple: true}
	}
	return items
}

func lowerIfString(v Value) Value {
	if s, ok := v.(string); ok {
		return pyLower(s)
	}
	return v
}

// sortValues sorts items stably by key(item), as Python's sorted does.
func sortValues(items []Value, reverse bool, key func(Value) (Value, error)) error {
	keys := make([]Value, len(items))
	for i, it := range items {
		k, err := key(it)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := keys[idx[i]], keys[idx[j]]
		if reverse {
			a, b = b, a
		}
		c, err := order(a, b, "<")
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c < 0
	})
	if sortErr != nil {
		return sortErr
	}
	sorted := make([]Value, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
	return nil
}

func htmlEscape(s string) string {
	if !strings.ContainsAny(s, "&<>\"'") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func filterEscape(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	return htmlEscape(toStr(v)), nil
}

func filterFirst(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	if it, ok := v.(*Iter); ok && !it.view {
		if err := it.force(); err != nil {
			return nil, err
		}
		if it.pos >= len(it.items) {
			return Undefined{hint: "No first item, sequence was empty."}, nil
		}
		it.pos++
		return it.items[it.pos-1], nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return Undefined{hint: "No first item, sequence was empty."}, nil
	}
	return items[0], nil
}

func filterLast(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	if it, ok := v.(*Iter); ok && !it.view {
		return nil, rtErrorf("'%s' object is not reversible", it.kind)
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return Undefined{hint: "No last item, sequence was empty."}, nil
	}
	return items[len(items)-1], nil
}

func parsePyFloat(s string) (float64, bool) {
	t := strings.TrimFunc(s, isSpace)
	t = strings.ReplaceAll(t, "_", "")
	switch strings.ToLower(strings.TrimLeft(t, "+-")) {
	case "nan", "inf", "infinity":
	default:
		if strings.ContainsAny(t, "xXpP") {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func filterFloat(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("float", args, kwargs, []string{"default"}, []Value{0.0}, 0)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	if _, f, _, ok := number(v); ok {
		return f, nil
	}
	if s, ok := v.(string); ok {
		if f, ok := parsePyFloat(s); ok {
			return f, nil
		}
	}
	return a[0], nil
}

func filterInt(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("int", args, kwargs, []string{"default", "base"}, []Value{int64(0), int64(10)}, 0)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	if i, f, isF, ok := number(v); ok {
		if isF {
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
				return a[0], nil
			}
			return int64(f), nil
		}
		return i, nil
	}
	if s, ok := v.(string); ok {
		base, _, _, _ := number(a[1])
		t := strings.ReplaceAll(strings.TrimFunc(s, isSpace), "_", "")
		if base == 10 || base == 0 {
			if i, err := strconv.ParseInt(t, 10, 64); err == nil {
				return i, nil
			}
		} else if base >= 2 && base <= 36 {
			u := strings.ToLower(t)
			neg := strings.HasPrefix(u, "-")
			u = strings.TrimLeft(u, "+-")
			switch base {
			case 16:
				u = strings.TrimPrefix(u, "0x")
			case 8:
				u = strings.TrimPrefix(u, "0o")
			case 2:
				u = strings.TrimPrefix(u, "0b")
			}
			if i, err := strconv.ParseInt(u, int(base), 64); err == nil {
				if neg {
					i = -i
				}
				return i, nil
			}
		}
		if f, ok := parsePyFloat(s); ok && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 9.2e18 {
			return int64(f), nil
		}
	}
	return a[0], nil
}

func filterFormat(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	if len(args) > 0 && len(kwargs) > 0 {
		return nil, rtErrorf("can't handle positional and keyword arguments at the same time")
	}
	var operand Value = &List{Items: args, Tuple: true}
	if len(kwargs) > 0 {
		d := NewDict()
		for _, k := range kwargs {
			_ = d.Set(k.Name, k.Value)
		}
		operand = d
	}
	return percentFormat(toStr(v), operand)
}

func filterGroupby(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("groupby", args, kwargs, []string{"attribute", "default", "case_sensitive"}, []Value{nil, nil, false}, 1)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	items = append([]Value(nil), items...)
	get := attrGetter(a[0], a[1])
	key := func(x Value) (Value, error) {
		k, err := get(x)
		if err != nil {
			return nil, err
		}
		if !truthy(a[2]) {
			k = lowerIfString(k)
		}
		return k, nil
	}
	if err := sortValues(items, false, key); err != nil {
		return nil, err
	}
	var out []Value
	for _, it := range items {
		k, err := key(it)
		if err != nil {
			return nil, err
		}
		if n := len(out); n > 0 {
			last := out[n-1].(*List)
			if pyEqual(last.Items[0], k) {
				g := last.Items[1].(*List)
				g.Items = append(g.Items, it)
				continue
			}
		}
		grouper := k
		if !truthy(a[2]) {
			// The group key shows the first item's original spelling.
			if g, err := get(it); err == nil {
				grouper = g
			}
		}
		out = append(out, &List{Items: []Value{grouper, &List{Items: []Value{it}}}, Tuple: true, fields: []string{"grouper", "list"}})
	}
	return &List{Items: out}, nil
}

// pySplitlines is Python's str.splitlines().
func pySplitlines(s string, keepends bool) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		brk := 0
		switch r {
		case '\r':
			brk = 1
			if i+1 < len(s) && s[i+1] == '\n' {
				brk = 2
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			brk = n
		}
		if brk == 0 {
			i += n
			continue
		}
		if keepends {
			out = append(out, s[start:i+brk])
		} else {
			out = append(out, s[start:i])
		}
		i += brk
		start = i
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func filterIndent(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("indent", args, kwargs, []string{"width", "first", "blank"}, []Value{int64(4), false, false}, 0)
	if err != nil {
		return nil, err
	}
	var ind string
	switch w := a[0].(type) {
	case string:
		ind = w
	default:
		n, _, isF, ok := number(w)
		if !ok || isF {
			return nil, rtErrorf("indent() width must be an integer or a string")
		}
		if n > 0 {
			if n > 1<<16 {
				return nil, rtErrorf("indent() width too large")
			}
			ind = strings.Repeat(" ", int(n))
		}
	}
	str, ok := v.(string)
	if !ok {
		if u, isU := v.(Undefined); isU {
			return nil, rtErrorf("%s", u.message())
		}
		return nil, rtErrorf("indent() expects a string, not %s", typeName(v))
	}
	lines := pySplitlines(str+"\n", false)
	var rv string
	if truthy(a[2]) {
		rv = strings.Join(lines, "\n"+ind)
	} else {
		var b strings.Builder
		b.WriteString(lines[0])
		for _, l := range lines[1:] {
			b.WriteByte('\n')
			if l != "" {
				b.WriteString(ind)
			}
			b.WriteString(l)
		}
		rv = b.String()
	}
	if truthy(a[1]) {
		rv = ind + rv
	}
	return rv, nil
}

func filterItems(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	switch d := v.(type) {
	case Undefined:
		return newGenerator(func() ([]Value, error) { return nil, nil }), nil
	case *Dict:
		items := dictItems(d)
		return newGenerator(func() ([]Value, error) { return items, nil }), nil
	}
	// jinja2's items is a generator: the error waits for its first use.
	return newGenerator(func() ([]Value, error) {
		return nil, rtErrorf("Can only get item pairs from a mapping.")
	}), nil
}

func filterJoin(r *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("join", args, kwargs, []string{"d", "attribute"}, []Value{"", nil}, 0)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if a[1] != nil {
		get := attrGetter(a[1], nil)
		mapped := make([]Value, len(items))
		for i, it := range items {
			if mapped[i], err = get(it); err != nil {
				return nil, err
			}
		}
		items = mapped
	}
	parts := make([]string, len(items))
	sep := toStr(a[0])
	total := 0
	for i, it := range items {
		parts[i] = toStr(it)
		total += len(parts[i]) + len(sep)
		if total > r.maxOut {
			return nil, rtErrorf("join() result exceeds %d bytes", r.maxOut)
		}
	}
	return strings.Join(parts, sep), nil
}

func filterLength(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	return pyLen(v)
}

func pyLen(v Value) (Value, error) {
	switch x := v.(type) {
	case string:
		return int64(runeLen(x)), nil
	case *List:
		return int64(len(x.Items)), nil
	case *Dict:
		return int64(x.Len()), nil
	case Undefined:
		return int64(0), nil
	case *Iter:
		if x.view {
			return int64(len(x.items)), nil
		}
	}
	return nil, rtErrorf("object of type '%s' has no len()", typeName(v))
}

func filterList(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	return &List{Items: append([]Value(nil), items...)}, nil
}

// attrGetter is jinja2's make_attrgetter: a dotted path of items or
// attributes, with integer parts as indexes.
func attrGetter(attribute Value, def Value) func(Value) (Value, error) {
	var parts []Value
	switch a := attribute.(type) {
	case string:
		for _, p := range strings.Split(a, ".") {
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				parts = append(parts, n)
			} else {
				parts = append(parts, p)
			}
		}
	default:
		parts = []Value{a}
	}
	return func(x Value) (Value, error) {
		var err error
		for _, p := range parts {
			if x, err = getItem(x, p); err != nil {
				return nil, err
			}
		}
		if _, ok := x.(Undefined); ok && def != nil {
			return def, nil
		}
		return x, nil
	}
}

func filterMap(r *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	var fn func(Value) (Value, error)
	if len(args) == 0 {
		var attr, def Value
		for _, k := range kwargs {
			switch k.Name {
			case "attribute":
				attr = k.Value
			case "default":
				def = k.Value
			default:
				return nil, rtErrorf("map() got an unexpected keyword argument '%s'", k.Name)
			}
		}
		if attr == nil {
			return nil, rtErrorf("map() requires a filter name or attribute=")
		}
		fn = attrGetter(attr, def)
	} else {
		name, ok := args[0].(string)
		if !ok {
			return nil, rtErrorf("map() filter name must be a string")
		}
		rest := args[1:]
		fn = func(x Value) (Value, error) { return r.filter(name, x, rest, kwargs) }
	}
	return newGenerator(func() ([]Value, error) {
		if !truthy(v) {
			return nil, nil // jinja2's map yields nothing for a falsy value
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(items))
		for i, it := range items {
			if out[i], err = fn(it); err != nil {
				return nil, err
			}
		}
		return out, nil
	}), nil
}

func minMax(name string, sign int) builtinFilter {
	return func(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
		a, err := bindArgs(name, args, kwargs, []string{"case_sensitive", "attribute"}, []Value{false, nil}, 0)
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{hint: "No aggregated item, sequence was empty."}, nil
		}
		key := func(x Value) (Value, error) {
			if a[1] != nil {
				var err error
				if x, err = attrGetter(a[1], nil)(x); err != nil {
					return nil, err
				}
			}
			if !truthy(a[0]) {
				x = lowerIfString(x)
			}
			return x, nil
		}
		best := items[0]
		bk, err := key(best)
		if err != nil {
			return nil, err
		}
		for _, it := range items[1:] {
			k, err := key(it)
			if err != nil {
				return nil, err
			}
			c, err := order(k, bk, "<")
			if err != nil {
				return nil, err
			}
			if c*sign > 0 {
				best, bk = it, k
			}
		}
		return best, nil
	}
}

func selectFilter(name string, keep, byAttr bool) builtinFilter {
	return func(r *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
		get := func(x Value) (Value, error) { return x, nil }
		if byAttr {
			if len(args) == 0 {
				return nil, rtErrorf("%s() requires an attribute name", name)
			}
			get = attrGetter(args[0], nil)
			args = args[1:]
		}
		test := func(x Value) (bool, error) { return truthy(x), nil }
		if len(args) > 0 {
			tname, ok := args[0].(string)
			if !ok {
				return nil, rtErrorf("%s() test name must be a string", name)
			}
			targs := args[1:]
			test = func(x Value) (bool, error) { return r.test(tname, x, targs, kwargs) }
		}
		return newGenerator(func() ([]Value, error) {
			if !truthy(v) {
				return nil, nil // as jinja2: a falsy value selects nothing
			}
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			var out []Value
			for _, it := range items {
				x, err := get(it)
				if err != nil {
					return nil, err
				}
				ok, err := test(x)
				if err != nil {
					return nil, err
				}
				if ok == keep {
					out = append(out, it)
				}
			}
			return out, nil
		}), nil
	}
}

func filterReplace(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("replace", args, kwargs, []string{"old", "new", "count"}, []Value{nil, nil, nil}, 2)
	if err != nil {
		return nil, err
	}
	cnt := Value(int64(-1))
	if a[2] != nil {
		cnt = a[2]
	}
	return strMethod(toStr(v), "replace", []Value{toStr(a[0]), toStr(a[1]), cnt}, nil)
}

func filterReverse(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	if s, ok := v.(string); ok {
		rs := []rune(s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := make([]Value, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	// jinja2 returns reversed(value) where Python can reverse the value,
	// and otherwise a reversed list.
	switch x := v.(type) {
	case *List:
		kind := "list_reverseiterator"
		if x.Tuple {
			kind = "reversed"
		}
		return &Iter{items: out, kind: kind}, nil
	case *Dict:
		return &Iter{items: out, kind: "dict_reversekeyiterator"}, nil
	case *Iter:
		if x.view {
			return &Iter{items: out, kind: strings.Replace(x.kind, "dict_", "dict_reverse", 1) + "iterator"}, nil
		}
	case Undefined:
		// Undefined has a length (0), so Python's reversed() accepts it.
		return &Iter{kind: "reversed"}, nil
	}
	return &List{Items: out}, nil
}

func filterRound(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("round", args, kwargs, []string{"precision", "method"}, []Value{int64(0), "common"}, 0)
	if err != nil {
		return nil, err
	}
	iv, f, isFloat, ok := number(v)
	if !ok {
		return nil, rtErrorf("round() expects a number, got %s", typeName(v))
	}
	p, _, isF, ok := number(a[0])
	if !ok || isF || p > 300 || p < -300 {
		return nil, rtErrorf("round() precision must be a small integer")
	}
	switch a[1] {
	case "common":
		if !isFloat {
			// Python's round(int, n) stays an int.
			if p >= 0 {
				return iv, nil
			}
			scale := int64(1)
			for k := int64(0); k < -p && scale < 1e18; k++ {
				scale *= 10
			}
			q := float64(iv) / float64(scale)
			return int64(math.RoundToEven(q)) * scale, nil
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return f, nil
		}
		if p >= 0 {
			r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(p), 64), 64)
			return r, nil
		}
		scale := math.Pow(10, float64(-p))
		return math.RoundToEven(f/scale) * scale, nil
	case "ceil", "floor":
		scale := math.Pow(10, float64(p))
		if a[1] == "ceil" {
			return math.Ceil(f*scale) / scale, nil
		}
		return math.Floor(f*scale) / scale, nil
	}
	return nil, rtErrorf("method must be common, ceil or floor")
}

func filterSlice(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("slice", args, kwargs, []string{"slices", "fill_with"}, []Value{nil, nil}, 1)
	if err != nil {
		return nil, err
	}
	n, _, isF, ok := number(a[0])
	if !ok || isF || n <= 0 || n > 1<<20 {
		return nil, rtErrorf("slice() slices must be a positive integer")
	}
	return newGenerator(func() ([]Value, error) { return sliceInto(v, n, a[1]) }), nil
}

func sliceInto(v Value, n int64, fill Value) ([]Value, error) {
	seq, err := iterate(v)
	if err != nil {
		return nil, err
	}
	length := int64(len(seq))
	per, extra := length/n, length%n
	offset := int64(0)
	var out []Value
	for k := int64(0); k < n; k++ {
		start := offset + k*per
		if k < extra {
			offset++
		}
		end := offset + (k+1)*per
		tmp := append([]Value(nil), seq[start:end]...)
		if fill != nil && k >= extra {
			tmp = append(tmp, fill)
		}
		out = append(out, &List{Items: tmp})
	}
	return out, nil
}

func filterSort(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("sort", args, kwargs, []string{"reverse", "case_sensitive", "attribute"}, []Value{false, false, nil}, 0)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	items = append([]Value(nil), items...)
	// attribute may name several comma-separated keys ("age,name").
	getters := []func(Value) (Value, error){func(x Value) (Value, error) { return x, nil }}
	if attr, ok := a[2].(string); ok && strings.Contains(attr, ",") {
		getters = nil
		for _, part := range strings.Split(attr, ",") {
			getters = append(getters, attrGetter(part, nil))
		}
	} else if a[2] != nil {
		getters = []func(Value) (Value, error){attrGetter(a[2], nil)}
	}
	err = sortValues(items, truthy(a[0]), func(x Value) (Value, error) {
		keys := make([]Value, len(getters))
		for i, get := range getters {
			k, err := get(x)
			if err != nil {
				return nil, err
			}
			if !truthy(a[1]) {
				k = lowerIfString(k)
			}
			keys[i] = k
		}
		if len(keys) == 1 {
			return keys[0], nil
		}
		return &List{Items: keys, Tuple: true}, nil
	})
	return &List{Items: items}, err
}

func filterStriptags(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	s := toStr(v)
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i+j+1:]
	}
	return strings.Join(strings.FieldsFunc(b.String(), isSpace), " "), nil
}

func filterSum(r *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("sum", args, kwargs, []string{"attribute", "start"}, []Value{nil, int64(0)}, 0)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	total := a[1]
	for _, it := range items {
		if a[0] != nil {
			if it, err = attrGetter(a[0], nil)(it); err != nil {
				return nil, err
			}
		}
		if _, ok := total.(string); ok {
			return nil, rtErrorf("sum() can't sum strings")
		}
		if total, err = binary("+", total, it, r.maxOut); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func filterTojson(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("tojson", args, kwargs, []string{"indent"}, []Value{nil}, 0)
	if err != nil {
		return nil, err
	}
	s, err := JSON(v, JSONOptions{Indent: a[0], SortKeys: true})
	if err != nil {
		return nil, err
	}
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`).Replace(s), nil
}

func filterTrim(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("trim", args, kwargs, []string{"chars"}, []Value{nil}, 0)
	if err != nil {
		return nil, err
	}
	return strMethod(toStr(v), "strip", []Value{a[0]}, nil)
}

func filterTruncate(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("truncate", args, kwargs, []string{"length", "killwords", "end", "leeway"}, []Value{int64(255), false, "...", int64(5)}, 0)
	if err != nil {
		return nil, err
	}
	end := toStr(a[2])
	length, _, f1, ok1 := number(a[0])
	leeway, _, f2, ok2 := number(a[3])
	if !ok1 || !ok2 || f1 || f2 {
		return nil, rtErrorf("truncate() length and leeway must be integers")
	}
	if length < int64(runeLen(end)) {
		return nil, rtErrorf("expected length >= %d, got %d", runeLen(end), length)
	}
	if leeway < 0 {
		return nil, rtErrorf("expected leeway >= 0, got %d", leeway)
	}
	str, isStr := v.(string)
	if !isStr {
		// Python measures the value with len(): a short enough sequence
		// passes through unchanged; anything else fails.
		n, err := pyLen(v)
		if err != nil {
			return nil, err
		}
		if _, isU := v.(Undefined); !isU && n.(int64) <= length+leeway {
			return v, nil
		}
		return nil, rtErrorf("truncate() expects a string, not %s", typeName(v))
	}
	s := []rune(str)
	if int64(len(s)) <= length+leeway {
		return str, nil
	}
	cut := string(s[:length-int64(runeLen(end))])
	if truthy(a[1]) {
		return cut + end, nil
	}
	if i := strings.LastIndexByte(cut, ' '); i >= 0 {
		cut = cut[:i]
	}
	return cut + end, nil
}

func filterUnique(_ *renderer, v Value, args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("unique", args, kwargs, []string{"case_sensitive", "attribute"}, []Value{false, nil}, 0)
	if err != nil {
		return nil, err
	}
	return newGenerator(func() ([]Value, error) { return unique(v, a) }), nil
}

func unique(v Value, a []Value) ([]Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	seen := NewDict()
	var out []Value
	for _, it := range items {
		k := it
		if a[1] != nil {
			if k, err = attrGetter(a[1], nil)(it); err != nil {
				return nil, err
			}
		}
		if !truthy(a[0]) {
			k = lowerIfString(k)
		}
		if _, ok := seen.Get(k); ok {
			continue
		}
		if err := seen.Set(k, true); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func filterWordcount(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	n := 0
	in := false
	for _, c := range toStr(v) {
		w := c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.Is(unicode.Mn, c)
		if w && !in {
			n++
		}
		in = w
	}
	return int64(n), nil
}

func filterURLEncode(_ *renderer, v Value, _ []Value, _ []Kwarg) (Value, error) {
	enc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	if d, ok := v.(*Dict); ok {
		parts := make([]string, d.Len())
		for i, k := range d.keys {
			parts[i] = enc(toStr(k)) + "=" + enc(toStr(d.vals[i]))
		}
		return strings.Join(parts, "&"), nil
	}
	return enc(toStr(v)), nil
}

// jinjaTitle is jinja2's title filter: words start after whitespace,
// '-', or an opening bracket.
func jinjaTitle(s string) string {
	var b strings.Builder
	start := true
	for _, c := range s {
		if isSpace(c) || strings.ContainsRune("-({[<", c) {
			b.WriteRune(c)
			start = true
			continue
		}
		if start {
			b.WriteRune(unicode.ToUpper(c))
		} else {
			b.WriteRune(unicode.ToLower(c))
		}
		start = false
	}
	return b.String()
}

func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	out := string(unicode.ToTitle(rs[0]))
	return out + pyLower(string(rs[1:]))
}
