package jinja

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONOptions are the arguments of Python's json.dumps that templates use.
type JSONOptions struct {
	// Indent is None (nil), an int (spaces) or a string.
	Indent Value
	// SortKeys sorts dict keys.
	SortKeys bool
	// EnsureASCII escapes every non-ASCII character as \uXXXX.
	EnsureASCII bool
	// Separators, when set, are the item and key separators; nil means
	// Python's defaults (", " and ": ", or "," and ": " when indenting).
	Separators *[2]string
}

// JSON serializes v exactly as Python's json.dumps does with opts.
func JSON(v Value, opts JSONOptions) (string, error) {
	e := &jsonEncoder{opts: opts, itemSep: ", ", keySep: ": "}
	switch ind := opts.Indent.(type) {
	case nil:
	case string:
		e.indent, e.indented = ind, true
	default:
		n, _, isF, ok := number(ind)
		if !ok || isF {
			return "", rtErrorf("tojson indent must be an integer or a string, not %s", typeName(ind))
		}
		if n > 1<<10 {
			return "", rtErrorf("tojson indent too large")
		}
		if n > 0 {
			e.indent = strings.Repeat(" ", int(n))
		}
		e.indented = true
	}
	if e.indented {
		e.itemSep = ","
	}
	if opts.Separators != nil {
		e.itemSep, e.keySep = opts.Separators[0], opts.Separators[1]
	}
	if err := e.encode(v, 0); err != nil {
		return "", err
	}
	return e.b.String(), nil
}

type jsonEncoder struct {
	b               strings.Builder
	opts            JSONOptions
	indent          string
	indented        bool
	itemSep, keySep string
}

func (e *jsonEncoder) newline(level int) {
	if !e.indented {
		return
	}
	e.b.WriteByte('\n')
	for i := 0; i < level; i++ {
		e.b.WriteString(e.indent)
	}
}

func (e *jsonEncoder) encode(v Value, level int) error {
	if level > maxNesting {
		return rtErrorf("tojson: value nested too deeply")
	}
	if e.b.Len() > DefaultMaxOutput {
		return rtErrorf("tojson: output too large")
	}
	switch x := v.(type) {
	case nil:
		e.b.WriteString("null")
	case bool:
		if x {
			e.b.WriteString("true")
		} else {
			e.b.WriteString("false")
		}
	case int64:
		e.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		e.b.WriteString(jsonFloat(x))
	case string:
		writeJSONString(&e.b, x, e.opts.EnsureASCII)
	case *List:
		if len(x.Items) == 0 {
			e.b.WriteString("[]")
			return nil
		}
		e.b.WriteByte('[')
		for i, it := range x.Items {
			if i > 0 {
				e.b.WriteString(e.itemSep)
			}
			e.newline(level + 1)
			if err := e.encode(it, level+1); err != nil {
				return err
			}
		}
		e.newline(level)
		e.b.WriteByte(']')
	case *Dict:
		if x.Len() == 0 {
			e.b.WriteString("{}")
			return nil
		}
		keys, vals := x.keys, x.vals
		if e.opts.SortKeys {
			idx := make([]int, len(keys))
			for i := range idx {
				idx[i] = i
			}
			var sortErr error
			sort.SliceStable(idx, func(i, j int) bool {
				c, err := order(keys[idx[i]], keys[idx[j]], "<")
				if err != nil && sortErr == nil {
					sortErr = err
				}
				return c < 0
			})
			if sortErr != nil {
				return sortErr
			}
			keys, vals = make([]Value, len(idx)), make([]Value, len(idx))
			for i, j := range idx {
				keys[i], vals[i] = x.keys[j], x.vals[j]
			}
		}
		e.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				e.b.WriteString(e.itemSep)
			}
			e.newline(level + 1)
			var ks string
			switch kk := k.(type) {
			case string:
				ks = kk
			case nil:
				ks = "null"
			case bool:
				ks = strconv.FormatBool(kk)
			case int64:
				ks = strconv.FormatInt(kk, 10)
			case float64:
				ks = jsonFloat(kk)
			default:
				return rtErrorf("keys must be str, int, float, bool or None, not %s", typeName(k))
			}
			writeJSONString(&e.b, ks, e.opts.EnsureASCII)
			e.b.WriteString(e.keySep)
			if err := e.encode(vals[i], level+1); err != nil {
				return err
			}
		}
		e.newline(level)
		e.b.WriteByte('}')
	default:
		return rtErrorf("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

func jsonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return formatFloat(f)
}

func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				if c < 0x20 || (ascii && c == 0x7f) {
					fmt.Fprintf(b, `\u%04x`, c)
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if ascii {
			if r >= 0x10000 {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
}

func jsonNumber(n json.Number) (Value, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return nil, fmt.Errorf("invalid JSON number %q", s)
	}
	return f, nil
}

// FromGo converts a Go value into a template value. Template values pass
// through; nil, bools, integers, floats and strings map to Python's; []any
// and map[string]any convert element by element (map keys are sorted, as
// Go maps have no order); json.RawMessage and json.Number are decoded;
// func(args []Value, kwargs []Kwarg) (Value, error) becomes a Func; any
// other value is converted through encoding/json (so struct tags apply and
// struct fields keep their order).
func FromGo(v any) (Value, error) {
	switch x := v.(type) {
	case nil, Undefined, bool, int64, float64, string, *List, *Dict, *Namespace, Func:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case func(args []Value, kwargs []Kwarg) (Value, error):
		return Func(x), nil
	case json.Number:
		return jsonNumber(x)
	case json.RawMessage:
		return FromJSON(x)
	case []any:
		l := &List{Items: make([]Value, len(x))}
		for i, it := range x {
			cv, err := FromGo(it)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l.Items[i] = cv
		}
		return l, nil
	case []string:
		return strList(x), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := NewDict()
		for _, k := range keys {
			cv, err := FromGo(x[k])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			_ = d.Set(k, cv)
		}
		return d, nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot convert %T to a template value: %w", v, err)
	}
	return FromJSON(data)
}
