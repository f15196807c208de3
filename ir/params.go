package ir

import (
	"fmt"
	"slices"

	"github.com/rlx-go/rlx/tensor"
)

// ParamSource supplies weights by name when a graph is compiled. Data is
// used in place: a source backed by an mmapped file stays zero-copy, and a
// quantized tensor stays in its packed block layout. The returned slice
// must stay valid and unchanged while programs compiled from it live.
type ParamSource interface {
	Lookup(name string) (dt tensor.DType, shape []int, data []byte, err error)
}

// MapParams is a ParamSource over host tensors, for tests and small models.
type MapParams map[string]*tensor.Tensor

// Lookup implements ParamSource.
func (m MapParams) Lookup(name string) (tensor.DType, []int, []byte, error) {
	t, ok := m[name]
	if !ok {
		return 0, nil, nil, fmt.Errorf("param %q not found", name)
	}
	return t.DType, t.Shape, t.Data, nil
}

// LookupParam fetches the weight for Param node n and checks its dtype,
// shape and size against the declaration.
func LookupParam(src ParamSource, n *Node) (*tensor.Tensor, error) {
	if src == nil {
		return nil, fmt.Errorf("ir: param %q: no parameter source", n.Name)
	}
	dt, shape, data, err := src.Lookup(n.Name)
	if err != nil {
		return nil, fmt.Errorf("ir: param %q: %w", n.Name, err)
	}
	want, err := n.Shape.Eval(nil)
	if err != nil {
		return nil, fmt.Errorf("ir: param %q: %w", n.Name, err)
	}
	if dt != n.DType || !slices.Equal(shape, want) {
		return nil, fmt.Errorf("ir: param %q is %v%v, the graph declares %v%v", n.Name, dt, shape, n.DType, want)
	}
	nb, err := tensor.Bytes(dt, shape)
	if err != nil {
		return nil, fmt.Errorf("ir: param %q: %w", n.Name, err)
	}
	if int64(len(data)) != nb {
		return nil, fmt.Errorf("ir: param %q: %d bytes, want %d for %v%v", n.Name, len(data), nb, dt, shape)
	}
	return &tensor.Tensor{DType: dt, Shape: shape, Data: data}, nil
}

// Bind solves the graph's symbols from the concrete shapes of its inputs,
// starting from the explicitly given sizes (needed for symbols that appear
// in no input, such as past). Every input dimension must agree with the
// solution, and every symbol of the graph must end up bound.
func Bind(g *Graph, inputs map[string][]int, dims map[string]int) (map[string]int, error) {
	return NewBinder(g).Bind(inputs, dims)
}

// Binder solves symbol sizes for one graph repeatedly (it caches what Bind
// would recompute on every call).
type Binder struct {
	ins  []*Node
	syms []string
}

// NewBinder prepares binding for g.
func NewBinder(g *Graph) *Binder { return &Binder{ins: g.Inputs(), syms: g.Symbols()} }

// Bind is the package-level Bind for the binder's graph.
func (bd *Binder) Bind(inputs map[string][]int, dims map[string]int) (map[string]int, error) {
	bind := make(map[string]int, len(dims)+4)
	for k, v := range dims {
		if v < 0 {
			return nil, fmt.Errorf("ir: dimension %s = %d is negative", k, v)
		}
		bind[k] = v
	}
	ins := bd.ins
	for _, n := range ins {
		shape, ok := inputs[n.Name]
		if !ok {
			return nil, fmt.Errorf("ir: input %q is missing", n.Name)
		}
		if len(shape) != len(n.Shape) {
			return nil, fmt.Errorf("ir: input %q has shape %v, the graph declares %v", n.Name, shape, n.Shape)
		}
	}
	// Solve single-symbol linear dims until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, n := range ins {
			for i, d := range n.Shape {
				s, coef, c, ok := d.Linear()
				if !ok {
					continue
				}
				if _, done := bind[s]; done {
					continue
				}
				v := inputs[n.Name][i] - c
				if coef == 0 || v%coef != 0 || v/coef < 0 {
					return nil, fmt.Errorf("ir: input %q axis %d: size %d does not fit %v", n.Name, i, inputs[n.Name][i], d)
				}
				bind[s] = v / coef
				changed = true
			}
		}
	}
	for _, n := range ins {
		for i, d := range n.Shape {
			v, err := d.Eval(bind)
			if err != nil {
				return nil, fmt.Errorf("ir: input %q: %w", n.Name, err)
			}
			if v != inputs[n.Name][i] {
				return nil, fmt.Errorf("ir: input %q has shape %v, the graph declares %v (axis %d should be %d)",
					n.Name, inputs[n.Name], n.Shape, i, v)
			}
		}
	}
	for _, s := range bd.syms {
		if _, ok := bind[s]; !ok {
			return nil, fmt.Errorf("ir: symbol %q is not bound: pass its size explicitly", s)
		}
	}
	return bind, nil
}
