package jinja

// maxRange is the sandbox's bound on range(), as in jinja2.
const maxRange = 100000

var builtinGlobals map[string]Value

func init() {
	builtinGlobals = map[string]Value{
		"range":     Func(globalRange),
		"dict":      Func(globalDict),
		"namespace": Func(globalNamespace),
		"joiner":    Func(globalJoiner),
		"cycler":    Func(globalCycler),
	}
}

func globalRange(args []Value, kwargs []Kwarg) (Value, error) {
	if len(kwargs) > 0 {
		return nil, rtErrorf("range() takes no keyword arguments")
	}
	var start, stop, step int64 = 0, 0, 1
	ints := make([]int64, len(args))
	for i, a := range args {
		n, _, isF, ok := number(a)
		if !ok || isF {
			return nil, rtErrorf("'%s' object cannot be interpreted as an integer", typeName(a))
		}
		ints[i] = n
	}
	switch len(ints) {
	case 1:
		stop = ints[0]
	case 2:
		start, stop = ints[0], ints[1]
	case 3:
		start, stop, step = ints[0], ints[1], ints[2]
	default:
		return nil, rtErrorf("range expected 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 {
		return nil, rtErrorf("range() arg 3 must not be zero")
	}
	var n int64
	if step > 0 && stop > start {
		n = (stop - start + step - 1) / step
	} else if step < 0 && start > stop {
		n = (start - stop - step - 1) / -step
	}
	if n < 0 || n > maxRange {
		return nil, rtErrorf("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)
	}
	items := make([]Value, n)
	for i := range items {
		items[i] = start + int64(i)*step
	}
	return &List{Items: items}, nil
}

// dictFrom builds a dict from an optional mapping or iterable of pairs
// plus keyword arguments, as Python's dict() does.
func dictFrom(fn string, args []Value, kwargs []Kwarg) (*Dict, error) {
	d := NewDict()
	if len(args) > 1 {
		return nil, rtErrorf("%s expected at most 1 argument, got %d", fn, len(args))
	}
	if len(args) == 1 {
		switch a := args[0].(type) {
		case *Dict:
			d = a.copyDict()
		default:
			items, err := iterate(a)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				pair, err := iterate(it)
				if err != nil || len(pair) != 2 {
					return nil, rtErrorf("%s update sequence element #%d has the wrong length", fn, i)
				}
				if err := d.Set(pair[0], pair[1]); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, k := range kwargs {
		_ = d.Set(k.Name, k.Value)
	}
	return d, nil
}

func globalDict(args []Value, kwargs []Kwarg) (Value, error) {
	return dictFrom("dict", args, kwargs)
}

func globalNamespace(args []Value, kwargs []Kwarg) (Value, error) {
	d, err := dictFrom("namespace", args, kwargs)
	if err != nil {
		return nil, err
	}
	return &Namespace{attrs: d}, nil
}

func globalJoiner(args []Value, kwargs []Kwarg) (Value, error) {
	a, err := bindArgs("joiner", args, kwargs, []string{"sep"}, []Value{", "}, 0)
	if err != nil {
		return nil, err
	}
	used := false
	return Func(func([]Value, []Kwarg) (Value, error) {
		if !used {
			used = true
			return "", nil
		}
		return a[0], nil
	}), nil
}

func globalCycler(args []Value, kwargs []Kwarg) (Value, error) {
	if len(args) == 0 || len(kwargs) > 0 {
		return nil, rtErrorf("cycler() takes one or more positional arguments")
	}
	items := append([]Value(nil), args...)
	pos := 0
	ns := &Namespace{attrs: NewDict()}
	sync := func() { _ = ns.attrs.Set("current", items[pos]) }
	_ = ns.attrs.Set("next", Func(func([]Value, []Kwarg) (Value, error) {
		v := items[pos]
		pos = (pos + 1) % len(items)
		sync()
		return v, nil
	}))
	_ = ns.attrs.Set("reset", Func(func([]Value, []Kwarg) (Value, error) {
		pos = 0
		sync()
		return nil, nil
	}))
	sync()
	return ns, nil
}
