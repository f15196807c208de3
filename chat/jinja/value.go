package jinja

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value is a template value. Its dynamic type is one of:
//
//	nil         Python None
//	Undefined   a name or attribute that does not exist
//	bool        True / False
//	int64       int
//	float64     float
//	string      str
//	*List       list or tuple
//	*Dict       dict (keys keep insertion order)
//	*Namespace  the result of namespace()
//	Func        a Go function callable from templates
//
// plus values internal to the interpreter (macros, bound methods, loop).
// FromGo converts ordinary Go values into this form.
type Value = any

// Undefined is the value of a missing variable, key or attribute. Like
// jinja2's default Undefined it prints as "" and is falsy, and using it in
// arithmetic, calls or attribute lookups is an error.
type Undefined struct {
	hint string // why it is undefined, e.g. "'x' is undefined"
}

func undefinedName(name string) Undefined {
	return Undefined{hint: fmt.Sprintf("'%s' is undefined", name)}
}

func undefinedAttr(obj Value, name string) Undefined {
	return Undefined{hint: fmt.Sprintf("%s has no attribute '%s'", objDesc(obj), name)}
}

func (u Undefined) message() string {
	if u.hint == "" {
		return "value is undefined"
	}
	return u.hint
}

// List is a Python list (or a tuple, when Tuple is set). Templates cannot
// mutate lists, so a List may be shared between renders.
type List struct {
	Items []Value
	Tuple bool
	// fields names the items of a named tuple (groupby's grouper, list).
	fields []string
}

// NewList returns a list holding items.
func NewList(items ...Value) *List { return &List{Items: items} }

// Dict is a Python dict: keys are None, bool, int64, float64 or string
// and iterate in insertion order.
type Dict struct {
	keys  []Value
	vals  []Value
	index map[any]int
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{index: map[any]int{}} }

// hashKey maps a key to the Go map key that Python would consider equal:
// True and 1 and 1.0 are the same key.
func hashKey(k Value) (any, bool) {
	switch v := k.(type) {
	case nil, string, int64:
		return v, true
	case Undefined:
		return Undefined{}, true // jinja2's Undefined hashes by its type
	case bool:
		if v {
			return int64(1), true
		}
		return int64(0), true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<62 {
			return int64(v), true
		}
		return v, true
	case *List:
		if v.Tuple {
			parts := make([]string, len(v.Items))
			for i, it := range v.Items {
				h, ok := hashKey(it)
				if !ok {
					return nil, false
				}
				parts[i] = fmt.Sprintf("%T:%v", h, h)
			}
			return "\x00tuple(" + strings.Join(parts, ",") + ")", true
		}
	}
	return nil, false
}

// Set stores v under k, keeping the position of an existing key.
func (d *Dict) Set(k, v Value) error {
	h, ok := hashKey(k)
	if !ok {
		return fmt.Errorf("unhashable type: '%s'", typeName(k))
	}
	if i, ok := d.index[h]; ok {
		d.vals[i] = v
		return nil
	}
	d.index[h] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// Get returns the value under k.
func (d *Dict) Get(k Value) (Value, bool) {
	h, ok := hashKey(k)
	if !ok {
		return nil, false
	}
	i, ok := d.index[h]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Len returns the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order. The slice must not be modified.
func (d *Dict) Keys() []Value { return d.keys }

// Values returns the values in key order. The slice must not be modified.
func (d *Dict) Values() []Value { return d.vals }

func (d *Dict) copyDict() *Dict {
	n := &Dict{keys: append([]Value(nil), d.keys...), vals: append([]Value(nil), d.vals...), index: make(map[any]int, len(d.index))}
	for k, v := range d.index {
		n.index[k] = v
	}
	return n
}

// Iter is what Python gives for a lazy sequence: a one-shot generator or
// iterator (the result of map, select, unique, reverse, items, …), or a
// reusable dict view (dict.keys(), values(), items()). Generators are
// always true, have no length and cannot be indexed; templates usually
// pass them through |list.
type Iter struct {
	items   []Value
	pos     int
	kind    string // Python's type name: generator, dict_keys, list_reverseiterator, …
	view    bool
	pending func() ([]Value, error) // a generator's body, run on first use
}

// newGenerator returns a generator whose items f computes when the
// generator is first consumed, so errors surface where Python's would.
func newGenerator(f func() ([]Value, error)) *Iter { return &Iter{kind: "generator", pending: f} }

func (it *Iter) force() error {
	if it.pending != nil {
		f := it.pending
		it.pending = nil
		items, err := f()
		if err != nil {
			return err
		}
		it.items = items
	}
	return nil
}

// rest consumes what is left (a view is not consumed).
func (it *Iter) rest() ([]Value, error) {
	if err := it.force(); err != nil {
		return nil, err
	}
	if it.view {
		return it.items, nil
	}
	out := it.items[it.pos:]
	it.pos = len(it.items)
	return out, nil
}

// Namespace is the mutable object made by namespace(); it is the only
// object whose attributes a template can assign.
type Namespace struct {
	attrs *Dict
}

// Kwarg is one keyword argument of a call.
type Kwarg struct {
	Name  string
	Value Value
}

// Func is a Go function callable from a template. It returns an error to
// abort rendering; the error is wrapped with the template line.
type Func func(args []Value, kwargs []Kwarg) (Value, error)

// typeName is Python's name for the type of v.
func typeName(v Value) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case Undefined:
		return "Undefined"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *List:
		if x.Tuple {
			return "tuple"
		}
		return "list"
	case *Dict:
		return "dict"
	case *Namespace:
		return "Namespace"
	case *Iter:
		return x.kind
	case Func, *boundMethod:
		return "builtin_function_or_method"
	case *macro:
		return "Macro"
	case *loopObj:
		return "LoopContext"
	}
	return fmt.Sprintf("%T", v)
}

// objDesc names an object the way jinja2's undefined messages do.
func objDesc(v Value) string {
	return "'" + objTypeRepr(v) + "'"
}

func objTypeRepr(v Value) string {
	if v == nil {
		return "None"
	}
	return typeName(v) + " object"
}

// truthy is Python's bool(v).
func truthy(v Value) bool {
	switch x := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case *List:
		return len(x.Items) > 0
	case *Dict:
		return x.Len() > 0
	case *Iter:
		return !x.view || len(x.items) > 0
	}
	return true
}

// toStr is Python's str(v); Undefined becomes "".
func toStr(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case Undefined:
		return ""
	}
	var b strings.Builder
	writeRepr(&b, v, false, 0)
	return b.String()
}

// repr is Python's repr(v).
func repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v, true, 0)
	return b.String()
}

// maxReprDepth stops repr of values nested through namespaces that refer
// to themselves (Python prints "..." there too).
const maxReprDepth = 200

func writeRepr(b *strings.Builder, v Value, quote bool, depth int) {
	if depth > maxReprDepth || b.Len() > DefaultMaxOutput {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case Undefined:
		if quote {
			b.WriteString("Undefined")
		}
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(formatFloat(x))
	case string:
		if quote {
			writeStrRepr(b, x)
		} else {
			b.WriteString(x)
		}
	case *List:
		if x.Tuple {
			b.WriteByte('(')
		} else {
			b.WriteByte('[')
		}
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it, true, depth+1)
		}
		if x.Tuple {
			if len(x.Items) == 1 {
				b.WriteByte(',')
			}
			b.WriteByte(')')
		} else {
			b.WriteByte(']')
		}
	case *Dict:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, k, true, depth+1)
			b.WriteString(": ")
			writeRepr(b, x.vals[i], true, depth+1)
		}
		b.WriteByte('}')
	case *Namespace:
		b.WriteString("<Namespace ")
		writeRepr(b, x.attrs, true, depth+1)
		b.WriteString(">")
	case *macro:
		fmt.Fprintf(b, "<Macro '%s'>", x.def.name)
	case *Iter:
		if x.view {
			b.WriteString(x.kind)
			b.WriteByte('(')
			writeRepr(b, &List{Items: x.items}, true, depth+1)
			b.WriteByte(')')
		} else {
			fmt.Fprintf(b, "<%s object>", x.kind)
		}
	default:
		fmt.Fprintf(b, "<%s object>", typeName(v))
	}
}

// writeStrRepr writes a Python string literal for s, choosing quotes as
// Python does.
func writeStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}

// formatFloat is Python's repr(float): the shortest string that round-trips,
// in positional notation for exponents in [-4, 16) and scientific otherwise.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// runeLen is len(s) in code points, as Python counts.
func runeLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.RuneCountInString(s)
		}
	}
	return len(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
