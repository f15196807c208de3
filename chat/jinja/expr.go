package jinja

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

func (r *renderer) eval(x expr, s *scope) (Value, error) {
	v, err := r.eval1(x, s)
	if err != nil {
		return nil, r.wrap(x, err)
	}
	return v, nil
}

func (r *renderer) evalList(xs []expr, s *scope) ([]Value, error) {
	out := make([]Value, len(xs))
	for i, x := range xs {
		v, err := r.eval(x, s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *renderer) evalKwargs(ks []kwExpr, s *scope) ([]Kwarg, error) {
	if len(ks) == 0 {
		return nil, nil
	}
	out := make([]Kwarg, len(ks))
	for i, k := range ks {
		v, err := r.eval(k.x, s)
		if err != nil {
			return nil, err
		}
		out[i] = Kwarg{k.name, v}
	}
	return out, nil
}

func (r *renderer) eval1(x expr, s *scope) (Value, error) {
	if r.constMode {
		switch x := x.(type) {
		case *nameExpr, *callExpr:
			return nil, errImpossible
		case *filterExpr:
			if contextFilters[x.name] {
				return nil, errImpossible
			}
		}
	}
	switch x := x.(type) {
	case *constExpr:
		return x.v, nil
	case *nameExpr:
		return r.lookup(s, x.name), nil
	case *listExpr:
		items, err := r.evalList(x.items, s)
		if err != nil {
			return nil, err
		}
		return &List{Items: items, Tuple: x.tuple}, nil
	case *dictExpr:
		d := NewDict()
		for i := range x.keys {
			k, err := r.eval(x.keys[i], s)
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.vals[i], s)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *attrExpr:
		obj, err := r.eval(x.obj, s)
		if err != nil {
			return nil, err
		}
		return getAttr(obj, x.name)
	case *itemExpr:
		obj, err := r.eval(x.obj, s)
		if err != nil {
			return nil, err
		}
		k, err := r.eval(x.index, s)
		if err != nil {
			return nil, err
		}
		return getItem(obj, k)
	case *sliceExpr:
		return r.evalSlice(x, s)
	case *callExpr:
		return r.evalCall(x, s, nil)
	case *filterExpr:
		obj, err := r.eval(x.obj, s)
		if err != nil {
			return nil, err
		}
		return r.applyFilter(x, obj, s)
	case *testExpr:
		return r.evalTest(x, s)
	case *unaryExpr:
		v, err := r.eval(x.x, s)
		if err != nil {
			return nil, err
		}
		return unary(x.op, v)
	case *binExpr:
		l, err := r.eval(x.l, s)
		if err != nil {
			return nil, err
		}
		rv, err := r.eval(x.r, s)
		if err != nil {
			return nil, err
		}
		return binary(x.op, l, rv, r.maxOut)
	case *andExpr:
		l, err := r.eval(x.l, s)
		if err != nil || !truthy(l) {
			return l, err
		}
		return r.eval(x.r, s)
	case *orExpr:
		l, err := r.eval(x.l, s)
		if err != nil || truthy(l) {
			return l, err
		}
		return r.eval(x.r, s)
	case *notExpr:
		v, err := r.eval(x.x, s)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	case *compareExpr:
		l, err := r.eval(x.first, s)
		if err != nil {
			return nil, err
		}
		for i, op := range x.ops {
			rv, err := r.eval(x.rest[i], s)
			if err != nil {
				return nil, err
			}
			ok, err := compare(op, l, rv)
			if err != nil || !ok {
				return false, err
			}
			l = rv
		}
		return true, nil
	case *condExpr:
		t, err := r.eval(x.test, s)
		if err != nil {
			return nil, err
		}
		if truthy(t) {
			return r.eval(x.then, s)
		}
		if x.els == nil {
			return Undefined{hint: "the inline if-expression evaluated to false and no else section was defined"}, nil
		}
		return r.eval(x.els, s)
	}
	return nil, fmt.Errorf("internal error: unknown expression %T", x)
}

func (r *renderer) evalSlice(x *sliceExpr, s *scope) (Value, error) {
	obj, err := r.eval(x.obj, s)
	if err != nil {
		return nil, err
	}
	var idx [3]Value
	for i, e := range []expr{x.start, x.stop, x.step} {
		if e == nil {
			continue
		}
		if idx[i], err = r.eval(e, s); err != nil {
			return nil, err
		}
	}
	if u, ok := obj.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	v, err := sliceValue(obj, idx[0], idx[1], idx[2])
	if err != nil && !errors.Is(err, errStepZero) && (r.constMode || r.folds(x)) {
		return Undefined{hint: fmt.Sprintf("%s is not subscriptable", objDesc(obj))}, nil
	}
	return v, err
}

// errStepZero is Python's ValueError for a zero slice step, which jinja2's
// forgiving lookup does not swallow.
var errStepZero = errors.New("slice step cannot be zero")

// sliceIndex converts a slice bound; None means absent.
func sliceIndex(v Value) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	case int64:
		return x, true, nil
	}
	return 0, false, rtErrorf("slice indices must be integers or None, not %s", typeName(v))
}

// sliceBounds resolves Python slice semantics for a sequence of length n.
func sliceBounds(n int, start, stop, step Value) ([]int, error) {
	st, hasStep, err := sliceIndex(step)
	if err != nil {
		return nil, err
	}
	if !hasStep {
		st = 1
	}
	if st == 0 {
		return nil, errStepZero
	}
	a, hasA, err := sliceIndex(start)
	if err != nil {
		return nil, err
	}
	b, hasB, err := sliceIndex(stop)
	if err != nil {
		return nil, err
	}
	ln := int64(n)
	clamp := func(i int64, lo, hi int64) int64 {
		if i < 0 {
			i += ln
			if i < lo {
				i = lo
			}
		} else if i > hi {
			i = hi
		}
		return i
	}
	var out []int
	if st > 0 {
		if !hasA {
			a = 0
		} else {
			a = clamp(a, 0, ln)
		}
		if !hasB {
			b = ln
		} else {
			b = clamp(b, 0, ln)
		}
		for i := a; i < b; i += st {
			out = append(out, int(i))
		}
	} else {
		if !hasA {
			a = ln - 1
		} else {
			a = clamp(a, -1, ln-1)
		}
		if !hasB {
			b = -1
		} else {
			b = clamp(b, -1, ln-1)
		}
		for i := a; i > b; i += st {
			out = append(out, int(i))
		}
	}
	return out, nil
}

func sliceValue(obj, start, stop, step Value) (Value, error) {
	switch o := obj.(type) {
	case *List:
		idx, err := sliceBounds(len(o.Items), start, stop, step)
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(idx))
		for i, j := range idx {
			out[i] = o.Items[j]
		}
		return &List{Items: out, Tuple: o.Tuple}, nil
	case string:
		if isASCII(o) {
			idx, err := sliceBounds(len(o), start, stop, step)
			if err != nil {
				return nil, err
			}
			if len(idx) > 0 && (step == nil || step == int64(1)) {
				return o[idx[0] : idx[len(idx)-1]+1], nil
			}
			b := make([]byte, len(idx))
			for i, j := range idx {
				b[i] = o[j]
			}
			return string(b), nil
		}
		rs := []rune(o)
		idx, err := sliceBounds(len(rs), start, stop, step)
		if err != nil {
			return nil, err
		}
		out := make([]rune, len(idx))
		for i, j := range idx {
			out[i] = rs[j]
		}
		return string(out), nil
	case *Dict:
		return nil, rtErrorf("unhashable type: 'slice'")
	}
	// jinja2 slices with a plain Python subscript, so this is a TypeError
	// rather than an undefined value.
	return nil, rtErrorf("'%s' object is not subscriptable", typeName(obj))
}

// getAttr is jinja2's environment.getattr: Python attributes (methods)
// first, then items.
func getAttr(obj Value, name string) (Value, error) {
	switch o := obj.(type) {
	case Undefined:
		return nil, rtErrorf("%s", o.message())
	case *Dict:
		if isMethod(obj, name) {
			return &boundMethod{recv: obj, name: name}, nil
		}
		if v, ok := o.Get(name); ok {
			return v, nil
		}
	case string:
		if isMethod(obj, name) {
			return &boundMethod{recv: obj, name: name}, nil
		}
	case *List:
		for i, f := range o.fields {
			if f == name {
				return o.Items[i], nil
			}
		}
		if isMethod(obj, name) {
			return &boundMethod{recv: obj, name: name}, nil
		}
	case *Namespace:
		if v, ok := o.attrs.Get(name); ok {
			return v, nil
		}
	case *loopObj:
		return o.attr(name), nil
	}
	return undefinedAttr(obj, name), nil
}

// getItem is jinja2's environment.getitem: items first, then attributes;
// a failed lookup is undefined rather than an error.
func getItem(obj, key Value) (Value, error) {
	switch o := obj.(type) {
	case Undefined:
		return nil, rtErrorf("%s", o.message())
	case *Dict:
		if v, ok := o.Get(key); ok {
			return v, nil
		}
	case *List:
		if i, ok := listIndex(key, len(o.Items)); ok {
			return o.Items[i], nil
		}
	case string:
		if isASCII(o) {
			if i, ok := listIndex(key, len(o)); ok {
				return o[i : i+1], nil
			}
		} else {
			rs := []rune(o)
			if i, ok := listIndex(key, len(rs)); ok {
				return string(rs[i]), nil
			}
		}
	}
	if name, ok := key.(string); ok {
		return getAttr(obj, name)
	}
	return Undefined{hint: fmt.Sprintf("%s has no element %s", objTypeRepr(obj), repr(key))}, nil
}

func listIndex(key Value, n int) (int, bool) {
	var i int64
	switch k := key.(type) {
	case int64:
		i = k
	case bool:
		if k {
			i = 1
		}
	default:
		return 0, false
	}
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

func (r *renderer) evalCall(x *callExpr, s *scope, caller *macro) (Value, error) {
	fn, err := r.eval(x.fn, s)
	if err != nil {
		return nil, err
	}
	args, err := r.evalList(x.args, s)
	if err != nil {
		return nil, err
	}
	kwargs, err := r.evalKwargs(x.kwargs, s)
	if err != nil {
		return nil, err
	}
	return r.call(fn, args, kwargs, caller)
}

func (r *renderer) call(fn Value, args []Value, kwargs []Kwarg, caller *macro) (Value, error) {
	switch f := fn.(type) {
	case *macro:
		return r.callMacro(f, args, kwargs, caller)
	case Func:
		return f(args, kwargs)
	case *boundMethod:
		return r.callMethod(f, args, kwargs)
	case *loopObj:
		if f.recurse == nil {
			return nil, rtErrorf("the loop is not recursive; use 'for … recursive' to call loop()")
		}
		if len(args) != 1 || len(kwargs) != 0 {
			return nil, rtErrorf("loop() takes exactly one argument")
		}
		return f.recurse(args[0])
	case Undefined:
		return nil, rtErrorf("%s", f.message())
	}
	return nil, rtErrorf("'%s' object is not callable", typeName(fn))
}

// maxListLen bounds lists built by + and *, so a template cannot
// allocate without limit.
const maxListLen = 1 << 22

// Numbers.

// number extracts a Python number (bools count as ints).
func number(v Value) (i int64, f float64, isFloat, ok bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, 1, false, true
		}
		return 0, 0, false, true
	case int64:
		return x, float64(x), false, true
	case float64:
		return 0, x, true, true
	}
	return 0, 0, false, false
}

func unary(op string, v Value) (Value, error) {
	if u, ok := v.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	i, f, isF, ok := number(v)
	if !ok {
		return nil, rtErrorf("bad operand type for unary %s: '%s'", op, typeName(v))
	}
	if op == "+" {
		if isF {
			return f, nil
		}
		return i, nil
	}
	if isF {
		return -f, nil
	}
	if i == math.MinInt64 {
		return nil, rtErrorf("integer overflow")
	}
	return -i, nil
}

func opError(op string, l, r Value) error {
	if op == "+" {
		if _, ok := l.(string); ok {
			return rtErrorf(`can only concatenate str (not "%s") to str`, typeName(r))
		}
		if ll, ok := l.(*List); ok && !ll.Tuple {
			return rtErrorf(`can only concatenate list (not "%s") to list`, typeName(r))
		}
	}
	return rtErrorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

func binary(op string, l, r Value, maxLen int) (Value, error) {
	if op == "~" {
		s := toStr(l) + toStr(r)
		if len(s) > maxLen {
			return nil, rtErrorf("string exceeds %d bytes", maxLen)
		}
		return s, nil
	}
	if u, ok := l.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	if u, ok := r.(Undefined); ok {
		return nil, rtErrorf("%s", u.message())
	}
	li, lf, lF, lok := number(l)
	ri, rf, rF, rok := number(r)
	if lok && rok {
		return arith(op, li, lf, lF, ri, rf, rF)
	}
	switch op {
	case "+":
		switch a := l.(type) {
		case string:
			if b, ok := r.(string); ok {
				if len(a)+len(b) > maxLen {
					return nil, rtErrorf("string exceeds %d bytes", maxLen)
				}
				return a + b, nil
			}
		case *List:
			if b, ok := r.(*List); ok && a.Tuple == b.Tuple {
				if len(a.Items)+len(b.Items) > maxListLen {
					return nil, rtErrorf("list exceeds %d items", maxLen)
				}
				items := make([]Value, 0, len(a.Items)+len(b.Items))
				items = append(append(items, a.Items...), b.Items...)
				return &List{Items: items, Tuple: a.Tuple}, nil
			}
		}
	case "*":
		seq, cnt := l, r
		if lok {
			seq, cnt = r, l
		}
		n, _, isF, ok := number(cnt)
		if ok && !isF {
			if n < 0 {
				n = 0
			}
			switch a := seq.(type) {
			case string:
				if n > 0 && int64(len(a)) > int64(maxLen)/n {
					return nil, rtErrorf("string exceeds %d bytes", maxLen)
				}
				return strings.Repeat(a, int(n)), nil
			case *List:
				if n > 0 && int64(len(a.Items)) > maxListLen/n {
					return nil, rtErrorf("list exceeds %d items", maxLen)
				}
				items := make([]Value, 0, len(a.Items)*int(n))
				for k := int64(0); k < n; k++ {
					items = append(items, a.Items...)
				}
				return &List{Items: items, Tuple: a.Tuple}, nil
			}
		}
	case "%":
		if f, ok := l.(string); ok {
			return percentFormat(f, r)
		}
	}
	return nil, opError(op, l, r)
}

func arith(op string, li int64, lf float64, lF bool, ri int64, rf float64, rF bool) (Value, error) {
	isF := lF || rF
	switch op {
	case "+":
		if isF {
			return lf + rf, nil
		}
		s := li + ri
		if (s > li) != (ri > 0) {
			return nil, rtErrorf("integer overflow")
		}
		return s, nil
	case "-":
		if isF {
			return lf - rf, nil
		}
		s := li - ri
		if (s < li) != (ri > 0) {
			return nil, rtErrorf("integer overflow")
		}
		return s, nil
	case "*":
		if isF {
			return lf * rf, nil
		}
		if li != 0 && ri != 0 {
			p := li * ri
			if p/ri != li || (li == -1 && ri == math.MinInt64) || (ri == -1 && li == math.MinInt64) {
				return nil, rtErrorf("integer overflow")
			}
			return p, nil
		}
		return int64(0), nil
	case "/":
		if rf == 0 {
			return nil, rtErrorf("division by zero")
		}
		return lf / rf, nil
	case "//":
		if rf == 0 {
			return nil, rtErrorf("integer division or modulo by zero")
		}
		if isF {
			return math.Floor(lf / rf), nil
		}
		if li == math.MinInt64 && ri == -1 {
			return nil, rtErrorf("integer overflow")
		}
		q := li / ri
		if (li%ri != 0) && ((li < 0) != (ri < 0)) {
			q--
		}
		return q, nil
	case "%":
		if rf == 0 {
			return nil, rtErrorf("integer division or modulo by zero")
		}
		if isF {
			m := math.Mod(lf, rf)
			if m != 0 && (m < 0) != (rf < 0) {
				m += rf
			}
			return m, nil
		}
		if ri == -1 {
			return int64(0), nil
		}
		m := li % ri
		if m != 0 && (m < 0) != (ri < 0) {
			m += ri
		}
		return m, nil
	case "**":
		if isF || ri < 0 {
			if lf == 0 && rf < 0 {
				return nil, rtErrorf("zero cannot be raised to a negative power")
			}
			return math.Pow(lf, rf), nil
		}
		switch {
		case ri == 0:
			return int64(1), nil
		case li == 0 || li == 1:
			return li, nil
		case li == -1:
			if ri%2 == 0 {
				return int64(1), nil
			}
			return int64(-1), nil
		case ri > 63:
			return nil, rtErrorf("integer overflow")
		}
		res := int64(1)
		for e := ri; e > 0; e-- {
			if res > math.MaxInt64/absInt(li) || res < -math.MaxInt64/absInt(li) {
				return nil, rtErrorf("integer overflow")
			}
			res *= li
		}
		return res, nil
	}
	return nil, rtErrorf("unknown operator %s", op)
}

func absInt(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

// Comparisons.

func compare(op string, l, r Value) (bool, error) {
	switch op {
	case "==":
		return pyEqual(l, r), nil
	case "!=":
		return !pyEqual(l, r), nil
	case "in":
		return contains(r, l)
	case "notin":
		ok, err := contains(r, l)
		return !ok, err
	}
	c, err := order(l, r, op)
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, rtErrorf("unknown comparison %s", op)
}

// pyEqual is Python's ==.
func pyEqual(a, b Value) bool {
	ai, af, aF, aok := number(a)
	bi, bf, bF, bok := number(b)
	if aok && bok {
		if aF || bF {
			return af == bf
		}
		return ai == bi
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *List:
		y, ok := b.(*List)
		if !ok || x.Tuple != y.Tuple || len(x.Items) != len(y.Items) {
			return false
		}
		for i := range x.Items {
			if !pyEqual(x.Items[i], y.Items[i]) {
				return false
			}
		}
		return true
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			v, ok := y.Get(k)
			if !ok || !pyEqual(x.vals[i], v) {
				return false
			}
		}
		return true
	case *Namespace:
		return a == b
	case *macro:
		return a == b
	case *loopObj, *Iter:
		return a == b
	}
	return false
}

// order compares for <, >, <=, >= with Python's rules.
func order(a, b Value, op string) (int, error) {
	if u, ok := a.(Undefined); ok {
		return 0, rtErrorf("%s", u.message())
	}
	if u, ok := b.(Undefined); ok {
		return 0, rtErrorf("%s", u.message())
	}
	ai, af, aF, aok := number(a)
	bi, bf, bF, bok := number(b)
	if aok && bok {
		if aF || bF {
			switch {
			case af < bf:
				return -1, nil
			case af > bf:
				return 1, nil
			case af == bf:
				return 0, nil
			}
			return 2, nil // NaN: every comparison is false
		}
		switch {
		case ai < bi:
			return -1, nil
		case ai > bi:
			return 1, nil
		}
		return 0, nil
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case *List:
		if y, ok := b.(*List); ok && x.Tuple == y.Tuple {
			for i := 0; i < len(x.Items) && i < len(y.Items); i++ {
				if pyEqual(x.Items[i], y.Items[i]) {
					continue
				}
				return order(x.Items[i], y.Items[i], op)
			}
			switch {
			case len(x.Items) < len(y.Items):
				return -1, nil
			case len(x.Items) > len(y.Items):
				return 1, nil
			}
			return 0, nil
		}
	}
	return 0, rtErrorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

// contains is Python's "item in container".
func contains(container, item Value) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		if !ok {
			return false, rtErrorf("'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(c, s), nil
	case *List:
		for _, it := range c.Items {
			if pyEqual(it, item) {
				return true, nil
			}
		}
		return false, nil
	case *Dict:
		if _, ok := hashKey(item); !ok {
			return false, rtErrorf("unhashable type: '%s'", typeName(item))
		}
		_, ok := c.Get(item)
		return ok, nil
	case *Iter:
		items, err := c.rest()
		if err != nil {
			return false, err
		}
		for _, it := range items {
			if pyEqual(it, item) {
				return true, nil
			}
		}
		return false, nil
	case Undefined:
		return false, nil
	}
	return false, rtErrorf("argument of type '%s' is not iterable", typeName(container))
}
