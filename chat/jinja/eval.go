package jinja

import (
	"errors"
	"fmt"
	"strings"
)

var (
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

// maxCallDepth bounds macro recursion, as Python's recursion limit does.
const maxCallDepth = 200

// scope holds the variables of one frame. Frames hold few names, so a
// slice searched linearly beats a map and allocates less.
type scope struct {
	names  []string
	vals   []Value
	parent *scope
}

func (s *scope) child() *scope { return &scope{parent: s} }

func (s *scope) get(name string) (Value, bool) {
	for i := len(s.names) - 1; i >= 0; i-- {
		if s.names[i] == name {
			return s.vals[i], true
		}
	}
	return nil, false
}

func (s *scope) set(name string, v Value) {
	for i := len(s.names) - 1; i >= 0; i-- {
		if s.names[i] == name {
			s.vals[i] = v
			return
		}
	}
	s.names = append(s.names, name)
	s.vals = append(s.vals, v)
}

type renderer struct {
	env      *Env
	root     *scope
	out      *strings.Builder
	steps    int64
	maxSteps int64
	maxOut   int
	depth    int
	// constMode evaluates as jinja2's compile-time folding does: names,
	// calls and context filters are impossible, slicing is forgiving.
	constMode bool
}

// errImpossible stops a compile-time (constant) evaluation.
var errImpossible = errors.New("not a constant expression")

// folds reports whether jinja2 would have folded the slice x (or an
// enclosing expression) at compile time, where slicing a non-sequence
// gives Undefined instead of a TypeError. An enclosing expression folds
// when it is constant and its value has a safe repr, or when it is the
// whole {{ }} expression.
func (r *renderer) folds(x *sliceExpr) bool {
	chain := append([]expr{x}, x.ancestors...)
	for i, e := range chain {
		v, err := r.constEval(e)
		if err != nil {
			return false
		}
		if safeRepr(v) || (x.inOutput && i == len(chain)-1) {
			return true
		}
	}
	return false
}

func (r *renderer) constEval(x expr) (Value, error) {
	saved := r.constMode
	r.constMode = true
	defer func() { r.constMode = saved }()
	return r.eval(x, &scope{})
}

// safeRepr is jinja2's has_safe_repr: what a folded constant may hold.
func safeRepr(v Value) bool {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case *List:
		for _, it := range x.Items {
			if !safeRepr(it) {
				return false
			}
		}
		return true
	case *Dict:
		for i, k := range x.keys {
			if !safeRepr(k) || !safeRepr(x.vals[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// rtError is a runtime error not yet tied to a line.
func rtErrorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// wrap attaches the line of n to err unless it already has one.
func (r *renderer) wrap(n interface{ pos() int }, err error) error {
	if err == nil || err == errBreak || err == errContinue {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Line: n.pos(), Msg: err.Error(), Err: err}
}

func (r *renderer) step() error {
	r.steps++
	if r.steps > r.maxSteps {
		return rtErrorf("template exceeded its step limit (%d)", r.maxSteps)
	}
	return nil
}

func (r *renderer) write(s string) error {
	if r.out.Len()+len(s) > r.maxOut {
		return rtErrorf("output exceeds %d bytes", r.maxOut)
	}
	r.out.WriteString(s)
	return nil
}

func (r *renderer) lookup(s *scope, name string) Value {
	for sc := s; sc != nil; sc = sc.parent {
		if v, ok := sc.get(name); ok {
			return v
		}
	}
	if v, ok := r.env.Globals[name]; ok {
		return v
	}
	if v, ok := builtinGlobals[name]; ok {
		return v
	}
	return undefinedName(name)
}

// capture renders body into a fresh buffer and returns the text.
func (r *renderer) capture(body []node, s *scope) (string, error) {
	saved := r.out
	r.out = &strings.Builder{}
	err := r.execBody(body, s)
	text := r.out.String()
	r.out = saved
	return text, err
}

func (r *renderer) execBody(body []node, s *scope) error {
	for _, n := range body {
		if err := r.exec(n, s); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) exec(n node, s *scope) error {
	if err := r.step(); err != nil {
		return r.wrap(n, err)
	}
	switch n := n.(type) {
	case *textNode:
		return r.wrap(n, r.write(n.text))
	case *outputNode:
		v, err := r.eval(n.x, s)
		if err != nil {
			return err
		}
		return r.wrap(n, r.write(toStr(v)))
	case *ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c, s)
			if err != nil {
				return err
			}
			if truthy(v) {
				return r.execBody(n.bodies[i], s)
			}
		}
		return r.execBody(n.els, s)
	case *forNode:
		return r.execFor(n, s)
	case *setNode:
		v, err := r.eval(n.value, s)
		if err != nil {
			return err
		}
		return r.wrap(n, r.assign(n.target, v, s))
	case *setBlockNode:
		text, err := r.capture(n.body, s)
		if err != nil {
			return err
		}
		var v Value = text
		for _, f := range n.filters {
			if v, err = r.applyFilter(f, v, s); err != nil {
				return err
			}
		}
		return r.wrap(n, r.assign(n.target, v, s))
	case *macroNode:
		s.set(n.def.name, &macro{def: n.def, closure: s})
		return nil
	case *callBlockNode:
		caller := &macro{def: n.caller, closure: s}
		v, err := r.evalCall(n.call, s, caller)
		if err != nil {
			return r.wrap(n, err)
		}
		return r.wrap(n, r.write(toStr(v)))
	case *filterBlockNode:
		text, err := r.capture(n.body, s)
		if err != nil {
			return err
		}
		var v Value = text
		for _, f := range n.filters {
			if v, err = r.applyFilter(f, v, s); err != nil {
				return err
			}
		}
		return r.wrap(n, r.write(toStr(v)))
	case *withNode:
		inner := s.child()
		for i, tg := range n.targets {
			v, err := r.eval(n.values[i], s)
			if err != nil {
				return err
			}
			if err := r.assign(tg, v, inner); err != nil {
				return r.wrap(n, err)
			}
		}
		return r.execBody(n.body, inner)
	case *breakNode:
		return errBreak
	case *continueNode:
		return errContinue
	}
	return fmt.Errorf("internal error: unknown node %T", n)
}

// assign binds v to a set/for/with target in scope s.
func (r *renderer) assign(tg assignTarget, v Value, s *scope) error {
	if tg.attr != "" {
		obj := r.lookup(s, tg.names[0])
		ns, ok := obj.(*Namespace)
		if !ok {
			return rtErrorf("cannot assign attribute '%s' on %s: only namespace() objects take attributes", tg.attr, objDesc(obj))
		}
		return ns.attrs.Set(tg.attr, v)
	}
	return assignTo(tg, v, s)
}

func assignTo(tg assignTarget, v Value, s *scope) error {
	if !tg.tuple {
		s.set(tg.names[0], v)
		return nil
	}
	items, err := iterate(v)
	if err != nil {
		return err
	}
	if len(items) != len(tg.items) {
		if len(items) > len(tg.items) {
			return rtErrorf("too many values to unpack (expected %d)", len(tg.items))
		}
		return rtErrorf("not enough values to unpack (expected %d, got %d)", len(tg.items), len(items))
	}
	for i, sub := range tg.items {
		if err := assignTo(sub, items[i], s); err != nil {
			return err
		}
	}
	return nil
}

// iterate lists the items Python's iter(v) yields.
func iterate(v Value) ([]Value, error) {
	switch x := v.(type) {
	case *List:
		return x.Items, nil
	case *Dict:
		return x.keys, nil
	case string:
		out := make([]Value, 0, len(x))
		for _, c := range x {
			out = append(out, string(c))
		}
		return out, nil
	case *Iter:
		return x.rest()
	case Undefined:
		return nil, nil
	}
	return nil, rtErrorf("'%s' object is not iterable", typeName(v))
}

func (r *renderer) execFor(n *forNode, s *scope) error {
	seq, err := r.eval(n.iter, s)
	if err != nil {
		return err
	}
	return r.loop(n, seq, s, 0)
}

func (r *renderer) loop(n *forNode, seq Value, s *scope, depth int) error {
	if _, ok := seq.(Undefined); ok {
		// Iterating an undefined value is an empty loop, as in jinja2.
		seq = NewList()
	}
	items, err := iterate(seq)
	if err != nil {
		return r.wrap(n, err)
	}
	if n.cond != nil {
		kept := make([]Value, 0, len(items))
		for _, it := range items {
			inner := s.child()
			if err := r.assign(n.target, it, inner); err != nil {
				return r.wrap(n, err)
			}
			ok, err := r.eval(n.cond, inner)
			if err != nil {
				return err
			}
			if truthy(ok) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.execBody(n.els, s)
	}
	lp := &loopObj{items: items, depth0: depth}
	if n.recursive {
		lp.recurse = func(v Value) (string, error) {
			if r.depth >= maxCallDepth {
				return "", rtErrorf("maximum recursion depth exceeded in a recursive loop")
			}
			r.depth++
			defer func() { r.depth-- }()
			saved := r.out
			r.out = &strings.Builder{}
			err := r.loop(n, v, s, depth+1)
			text := r.out.String()
			r.out = saved
			return text, err
		}
	}
	completed := false
	for i, it := range items {
		if err := r.step(); err != nil {
			return r.wrap(n, err)
		}
		lp.index0 = i
		inner := &scope{names: make([]string, 0, 4), vals: make([]Value, 0, 4), parent: s}
		inner.set("loop", lp)
		if err := r.assign(n.target, it, inner); err != nil {
			return r.wrap(n, err)
		}
		err := r.execBody(n.body, inner)
		if err == errBreak {
			break
		}
		if err == errContinue {
			continue
		}
		if err != nil {
			return err
		}
		completed = true
	}
	// jinja2 renders the else block unless some iteration ran to the end of
	// the body: a loop left by break (or continued) on every pass gets it.
	if !completed {
		return r.execBody(n.els, s)
	}
	return nil
}

// macro is a {% macro %} (or a {% call %} body) bound to the scope it was
// defined in.
type macro struct {
	def     *macroDef
	closure *scope
}

func (r *renderer) callMacro(m *macro, args []Value, kwargs []Kwarg, caller *macro) (Value, error) {
	def := m.def
	if r.depth >= maxCallDepth {
		return nil, rtErrorf("maximum recursion depth exceeded calling macro '%s'", def.name)
	}
	s := m.closure.child()
	var extra []Value
	if len(args) > len(def.params) {
		if !def.usesVargs {
			return nil, rtErrorf("macro '%s' takes not more than %d argument(s)", def.name, len(def.params))
		}
		extra = args[len(def.params):]
		args = args[:len(def.params)]
	}
	set := make([]bool, len(def.params))
	for i, a := range args {
		s.set(def.params[i].name, a)
		set[i] = true
	}
	kw := NewDict()
	for _, k := range kwargs {
		found := false
		for i, p := range def.params {
			if p.name == k.Name {
				if set[i] {
					return nil, rtErrorf("macro '%s' got multiple values for argument '%s'", def.name, k.Name)
				}
				s.set(p.name, k.Value)
				set[i] = true
				found = true
				break
			}
		}
		if found {
			continue
		}
		if k.Name == "caller" && def.usesCall {
			if c, ok := k.Value.(*macro); ok {
				caller = c
				continue
			}
		}
		if !def.usesKw {
			return nil, rtErrorf("macro '%s' takes no keyword argument '%s'", def.name, k.Name)
		}
		_ = kw.Set(k.Name, k.Value)
	}
	for i, p := range def.params {
		if set[i] {
			continue
		}
		if p.def == nil {
			s.set(p.name, Undefined{hint: fmt.Sprintf("parameter '%s' was not provided", p.name)})
			continue
		}
		v, err := r.eval(p.def, s)
		if err != nil {
			return nil, err
		}
		s.set(p.name, v)
	}
	s.set("varargs", &List{Items: extra, Tuple: true})
	s.set("kwargs", kw)
	if caller != nil {
		s.set("caller", caller)
	}
	r.depth++
	text, err := r.capture(def.body, s)
	r.depth--
	if err == errBreak || err == errContinue {
		err = rtErrorf("break or continue outside of a loop")
	}
	if err != nil {
		return nil, err
	}
	return text, nil
}

// loopObj is the "loop" variable inside a for loop.
type loopObj struct {
	items       []Value
	index0      int
	depth0      int
	lastChanged []Value
	changedSet  bool
	recurse     func(Value) (string, error)
}

func (l *loopObj) attr(name string) Value {
	n := len(l.items)
	switch name {
	case "index":
		return int64(l.index0 + 1)
	case "index0":
		return int64(l.index0)
	case "revindex":
		return int64(n - l.index0)
	case "revindex0":
		return int64(n - l.index0 - 1)
	case "first":
		return l.index0 == 0
	case "last":
		return l.index0 == n-1
	case "length":
		return int64(n)
	case "depth":
		return int64(l.depth0 + 1)
	case "depth0":
		return int64(l.depth0)
	case "previtem":
		if l.index0 == 0 {
			return Undefined{hint: "there is no previous item"}
		}
		return l.items[l.index0-1]
	case "nextitem":
		if l.index0 >= n-1 {
			return Undefined{hint: "there is no next item"}
		}
		return l.items[l.index0+1]
	case "cycle", "changed":
		return &boundMethod{recv: l, name: name}
	}
	return undefinedAttr(l, name)
}
