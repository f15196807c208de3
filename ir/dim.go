package ir

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Dim is one dimension of a shape: an integer polynomial over named
// symbols, such as 64, seq, past+seq or batch*seq. Symbols are bound to
// concrete sizes when a compiled program runs, so one program serves every
// sequence length. Dims are values; compare them with Equal, not ==.
type Dim struct {
	c     int64
	terms []term // sorted by key, nonzero coefficients
}

// term is coef × the product of the symbols in key (names joined by "*",
// sorted, repeated for powers).
type term struct {
	coef int64
	key  string
}

// N is the constant dimension n.
func N(n int) Dim { return Dim{c: int64(n)} }

// Sym is the dimension named name (batch, seq, past, …). Names must be Go
// identifiers-like words; the builder rejects others.
func Sym(name string) Dim { return Dim{terms: []term{{1, name}}} }

// Const reports the value of a dimension with no symbols.
func (d Dim) Const() (int, bool) {
	if len(d.terms) != 0 {
		return 0, false
	}
	return int(d.c), true
}

// IsConst reports whether d has no symbols.
func (d Dim) IsConst() bool { return len(d.terms) == 0 }

// Equal reports whether d and e are the same polynomial.
func (d Dim) Equal(e Dim) bool {
	return d.c == e.c && slices.Equal(d.terms, e.terms)
}

// Add returns d+e.
func (d Dim) Add(e Dim) Dim {
	out := Dim{c: d.c + e.c}
	m := map[string]int64{}
	for _, t := range d.terms {
		m[t.key] += t.coef
	}
	for _, t := range e.terms {
		m[t.key] += t.coef
	}
	out.terms = fromMap(m)
	return out
}

// AddN returns d+n.
func (d Dim) AddN(n int) Dim { return d.Add(N(n)) }

// Sub returns d-e.
func (d Dim) Sub(e Dim) Dim { return d.Add(e.MulN(-1)) }

// MulN returns n·d.
func (d Dim) MulN(n int) Dim {
	out := Dim{c: d.c * int64(n)}
	if n == 0 {
		return out
	}
	for _, t := range d.terms {
		out.terms = append(out.terms, term{t.coef * int64(n), t.key})
	}
	return out
}

// Mul returns d·e.
func (d Dim) Mul(e Dim) Dim {
	m := map[string]int64{}
	c := d.c * e.c
	if d.c != 0 {
		for _, t := range e.terms {
			m[t.key] += d.c * t.coef
		}
	}
	if e.c != 0 {
		for _, t := range d.terms {
			m[t.key] += e.c * t.coef
		}
	}
	for _, a := range d.terms {
		for _, b := range e.terms {
			names := append(strings.Split(a.key, "*"), strings.Split(b.key, "*")...)
			slices.Sort(names)
			m[strings.Join(names, "*")] += a.coef * b.coef
		}
	}
	return Dim{c: c, terms: fromMap(m)}
}

// DivN returns d/n when every coefficient is divisible by n, so the result
// is exact for every binding.
func (d Dim) DivN(n int) (Dim, bool) {
	if n == 0 || d.c%int64(n) != 0 {
		return Dim{}, false
	}
	out := Dim{c: d.c / int64(n)}
	for _, t := range d.terms {
		if t.coef%int64(n) != 0 {
			return Dim{}, false
		}
		out.terms = append(out.terms, term{t.coef / int64(n), t.key})
	}
	return out, true
}

// Div returns d/e when e is a single monomial (such as 4, seq or
// 2*batch*seq) that divides every term of d exactly.
func (d Dim) Div(e Dim) (Dim, bool) {
	if c, ok := e.Const(); ok {
		return d.DivN(c)
	}
	if len(e.terms) != 1 || e.c != 0 || d.c != 0 {
		return Dim{}, false
	}
	den := strings.Split(e.terms[0].key, "*")
	m := map[string]int64{}
	c := int64(0)
	for _, t := range d.terms {
		if t.coef%e.terms[0].coef != 0 {
			return Dim{}, false
		}
		names := strings.Split(t.key, "*")
		for _, s := range den {
			i := slices.Index(names, s)
			if i < 0 {
				return Dim{}, false
			}
			names = slices.Delete(names, i, i+1)
		}
		q := t.coef / e.terms[0].coef
		if len(names) == 0 {
			c += q
		} else {
			m[strings.Join(names, "*")] += q
		}
	}
	return Dim{c: c, terms: fromMap(m)}, true
}

func fromMap(m map[string]int64) []term {
	var ts []term
	for k, c := range m {
		if c != 0 {
			ts = append(ts, term{c, k})
		}
	}
	slices.SortFunc(ts, func(a, b term) int { return strings.Compare(a.key, b.key) })
	return ts
}

// Symbols lists the distinct symbol names in d, sorted.
func (d Dim) Symbols() []string {
	var out []string
	for _, t := range d.terms {
		for _, s := range strings.Split(t.key, "*") {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Eval computes d for concrete symbol sizes. Every symbol of d must be bound.
func (d Dim) Eval(bind map[string]int) (int, error) {
	v := d.c
	for _, t := range d.terms {
		p := t.coef
		for _, s := range strings.Split(t.key, "*") {
			x, ok := bind[s]
			if !ok {
				return 0, fmt.Errorf("ir: dimension %v: symbol %q is not bound", d, s)
			}
			p *= int64(x)
		}
		v += p
	}
	return int(v), nil
}

// Linear reports whether d is coef·sym + c for a single symbol, which is
// how run-time binding solves a symbol from an input's concrete size.
func (d Dim) Linear() (sym string, coef, c int, ok bool) {
	if len(d.terms) != 1 || strings.Contains(d.terms[0].key, "*") {
		return "", 0, 0, false
	}
	return d.terms[0].key, int(d.terms[0].coef), int(d.c), true
}

// String prints the polynomial as the dump shows it: "64", "seq",
// "past+seq", "2*seq+1", "batch*seq".
func (d Dim) String() string {
	var sb strings.Builder
	for i, t := range d.terms {
		switch {
		case t.coef == 1:
			if i > 0 {
				sb.WriteByte('+')
			}
		case t.coef == -1:
			sb.WriteByte('-')
		default:
			if i > 0 && t.coef > 0 {
				sb.WriteByte('+')
			}
			sb.WriteString(strconv.FormatInt(t.coef, 10))
			sb.WriteByte('*')
		}
		sb.WriteString(t.key)
	}
	if d.c != 0 || len(d.terms) == 0 {
		if len(d.terms) > 0 && d.c > 0 {
			sb.WriteByte('+')
		}
		sb.WriteString(strconv.FormatInt(d.c, 10))
	}
	return sb.String()
}

// Shape is a list of dimensions, outermost first.
type Shape []Dim

// Ints makes a constant shape.
func Ints(dims ...int) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		s[i] = N(d)
	}
	return s
}

// Rank is the number of dimensions.
func (s Shape) Rank() int { return len(s) }

// Equal reports whether two shapes have equal dimensions.
func (s Shape) Equal(t Shape) bool {
	return slices.EqualFunc(s, t, Dim.Equal)
}

// NumElements is the product of the dimensions.
func (s Shape) NumElements() Dim {
	n := N(1)
	for _, d := range s {
		n = n.Mul(d)
	}
	return n
}

// Eval computes concrete sizes.
func (s Shape) Eval(bind map[string]int) ([]int, error) {
	out := make([]int, len(s))
	for i, d := range s {
		v, err := d.Eval(bind)
		if err != nil {
			return nil, err
		}
		if v < 0 {
			return nil, fmt.Errorf("ir: dimension %v evaluates to %d", d, v)
		}
		out[i] = v
	}
	return out, nil
}

// Symbols lists the symbols of every dimension, sorted and distinct.
func (s Shape) Symbols() []string {
	var out []string
	for _, d := range s {
		for _, n := range d.Symbols() {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// String prints "[batch, seq, 64]".
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (s Shape) clone() Shape { return slices.Clone(s) }
