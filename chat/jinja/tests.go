package jinja

import "unicode"

func (r *renderer) evalTest(t *testExpr, s *scope) (Value, error) {
	v, err := r.eval(t.obj, s)
	if err != nil {
		return nil, err
	}
	args, err := r.evalList(t.args, s)
	if err != nil {
		return nil, err
	}
	kwargs, err := r.evalKwargs(t.kwargs, s)
	if err != nil {
		return nil, err
	}
	ok, err := r.test(t.name, v, args, kwargs)
	if err != nil {
		return nil, r.wrap(t, err)
	}
	return ok != t.negate, nil
}

func (r *renderer) test(name string, v Value, args []Value, kwargs []Kwarg) (bool, error) {
	f, ok := builtinTests[name]
	if !ok {
		return false, rtErrorf("no test named '%s'", name)
	}
	return f(r, v, args, kwargs)
}

type builtinTest func(r *renderer, v Value, args []Value, kwargs []Kwarg) (bool, error)

var builtinTests map[string]builtinTest

func test1(name string, f func(Value) bool) builtinTest {
	return func(_ *renderer, v Value, args []Value, kwargs []Kwarg) (bool, error) {
		if len(args)+len(kwargs) > 0 {
			return false, rtErrorf("test '%s' takes no arguments", name)
		}
		return f(v), nil
	}
}

func test2(name string, f func(a, b Value) (bool, error)) builtinTest {
	return func(_ *renderer, v Value, args []Value, kwargs []Kwarg) (bool, error) {
		a, err := bindArgs(name, args, kwargs, []string{"other"}, []Value{nil}, 1)
		if err != nil {
			return false, err
		}
		return f(v, a[0])
	}
}

func cmpTest(op string) func(a, b Value) (bool, error) {
	return func(a, b Value) (bool, error) { return compare(op, a, b) }
}

func isInt(v Value) bool {
	_, ok := v.(int64)
	return ok
}

func oddEven(want int64) func(Value) (bool, error) {
	return func(v Value) (bool, error) {
		m, err := binary("%", v, int64(2), 0)
		if err != nil {
			return false, err
		}
		return pyEqual(m, want), nil
	}
}

func init() {
	builtinTests = map[string]builtinTest{
		"boolean": test1("boolean", func(v Value) bool { _, ok := v.(bool); return ok }),
		"callable": test1("callable", func(v Value) bool {
			switch x := v.(type) {
			case Func, *boundMethod, *macro, Undefined:
				return true
			case *loopObj:
				return x.recurse != nil
			}
			return false
		}),
		"defined": test1("defined", func(v Value) bool { _, ok := v.(Undefined); return !ok }),
		"divisibleby": test2("divisibleby", func(a, b Value) (bool, error) {
			m, err := binary("%", a, b, 0)
			if err != nil {
				return false, err
			}
			return pyEqual(m, int64(0)), nil
		}),
		"escaped": test1("escaped", func(Value) bool { return false }),
		"even": func(_ *renderer, v Value, _ []Value, _ []Kwarg) (bool, error) {
			return oddEven(0)(v)
		},
		"false":    test1("false", func(v Value) bool { b, ok := v.(bool); return ok && !b }),
		"filter":   func(r *renderer, v Value, _ []Value, _ []Kwarg) (bool, error) { return r.hasFilter(v), nil },
		"float":    test1("float", func(v Value) bool { _, ok := v.(float64); return ok }),
		"in":       test2("in", func(a, b Value) (bool, error) { return contains(b, a) }),
		"integer":  test1("integer", isInt),
		"iterable": test1("iterable", isIterable),
		"lower": test1("lower", func(v Value) bool {
			return pyCaseTest(toStr(v), unicode.IsLower, unicode.IsUpper)
		}),
		"mapping": test1("mapping", func(v Value) bool { _, ok := v.(*Dict); return ok }),
		"none":    test1("none", func(v Value) bool { return v == nil }),
		"number": test1("number", func(v Value) bool {
			_, _, _, ok := number(v)
			return ok
		}),
		"odd": func(_ *renderer, v Value, _ []Value, _ []Kwarg) (bool, error) {
			return oddEven(1)(v)
		},
		"sameas": test2("sameas", func(a, b Value) (bool, error) { return sameAs(a, b), nil }),
		"sequence": test1("sequence", func(v Value) bool {
			switch v.(type) {
			case string, *List, *Dict, Undefined:
				return true
			}
			return false
		}),
		"string": test1("string", func(v Value) bool { _, ok := v.(string); return ok }),
		"test": func(_ *renderer, v Value, _ []Value, _ []Kwarg) (bool, error) {
			name, ok := v.(string)
			if !ok {
				return false, nil
			}
			_, ok = builtinTests[name]
			return ok, nil
		},
		"true":      test1("true", func(v Value) bool { b, ok := v.(bool); return ok && b }),
		"undefined": test1("undefined", func(v Value) bool { _, ok := v.(Undefined); return ok }),
		"upper": test1("upper", func(v Value) bool {
			return pyCaseTest(toStr(v), unicode.IsUpper, unicode.IsLower)
		}),
	}
	for _, names := range [][]string{{"eq", "equalto", "=="}, {"ne", "!="}, {"lt", "lessthan", "<"}, {"le", "<="}, {"gt", "greaterthan", ">"}, {"ge", ">="}} {
		op := names[len(names)-1]
		for _, n := range names {
			builtinTests[n] = test2(n, cmpTest(op))
		}
	}
}

func (r *renderer) hasFilter(v Value) bool {
	name, ok := v.(string)
	if !ok {
		return false
	}
	if _, ok := r.env.Filters[name]; ok {
		return true
	}
	_, ok = builtinFilters[name]
	return ok
}

func isIterable(v Value) bool {
	switch v.(type) {
	case string, *List, *Dict, *Iter, Undefined:
		return true
	}
	return false
}

// sameAs is Python's "is": identity for objects, equality for the
// interned singletons and small values a template can produce.
func sameAs(a, b Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *List, *Dict, *Namespace, *macro, *loopObj:
		return a == b
	}
	return false
}

// pyCaseTest is str.islower / str.isupper: at least one cased character
// and none of the opposite case.
func pyCaseTest(s string, want, not func(rune) bool) bool {
	cased := false
	for _, c := range s {
		if not(c) || unicode.IsTitle(c) {
			return false
		}
		if want(c) {
			cased = true
		}
	}
	return cased
}
