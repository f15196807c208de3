// Package ir is rlx's graph intermediate representation: typed nodes with
// symbolic shapes, the op catalog with its shape and dtype rules, and the
// Builder that model packages use to write graphs that read like the
// equations.
//
// A graph has sources (Input, Param, State, Const), computing nodes, and
// sinks (named outputs, state assignments, attention nodes that write a KV
// cache). It knows nothing about files or devices: parameters are bound by
// name when the graph is compiled, inputs and symbolic sizes when it runs.
package ir

import (
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/tensor"
)

// Node is one operation in a graph. Nodes are created by a Builder (or by
// compiler passes) and are immutable once their graph is built.
type Node struct {
	ID     int
	Op     Op
	Inputs []*Node
	DType  tensor.DType
	Shape  Shape
	// Attr holds the op's attributes: one of the *Attr structs of this
	// package, or nil for ops without attributes.
	Attr any
	// Name is the binding name of an Input, Param or State, or the
	// optional label of any other node.
	Name string
}

// Output is a named result of a graph.
type Output struct {
	Name string
	Node *Node
}

// Graph is a built, shape-checked graph. Nodes are in a topological order
// (every input precedes its users).
type Graph struct {
	Nodes   []*Node
	Outputs []Output
}

// Inputs lists the Input nodes in creation order.
func (g *Graph) Inputs() []*Node { return g.byOp(OpInput) }

// Params lists the Param nodes in creation order.
func (g *Graph) Params() []*Node { return g.byOp(OpParam) }

// States lists the State nodes in creation order.
func (g *Graph) States() []*Node { return g.byOp(OpState) }

func (g *Graph) byOp(op Op) []*Node {
	var out []*Node
	for _, n := range g.Nodes {
		if n.Op == op {
			out = append(out, n)
		}
	}
	return out
}

// Symbols lists every symbol that appears in a node's shape or in an
// attribute (such as an attention's past length), sorted.
func (g *Graph) Symbols() []string {
	seen := map[string]bool{}
	var out []string
	add := func(names []string) {
		for _, s := range names {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	for _, n := range g.Nodes {
		add(n.Shape.Symbols())
		for _, d := range attrDims(n.Attr) {
			add(d.Symbols())
		}
	}
	sortStrings(out)
	return out
}

// Value is a handle to a node's result, returned by Builder methods and
// passed to them. The zero Value is invalid; a Builder returns it after an
// error, and every method that receives it returns it again without adding
// another error, so the first error is the one reported.
type Value struct{ n *Node }

// Valid reports whether v refers to a node.
func (v Value) Valid() bool { return v.n != nil }

// Node returns the node behind v (nil when invalid).
func (v Value) Node() *Node { return v.n }

// DType is v's element type (Invalid when v is invalid).
func (v Value) DType() tensor.DType {
	if v.n == nil {
		return tensor.Invalid
	}
	return v.n.DType
}

// Shape is v's symbolic shape (nil when v is invalid).
func (v Value) Shape() Shape {
	if v.n == nil {
		return nil
	}
	return v.n.Shape
}

// Rank is the number of dimensions of v.
func (v Value) Rank() int { return len(v.Shape()) }

// Dim returns dimension i of v; negative i counts from the end.
func (v Value) Dim(i int) Dim {
	s := v.Shape()
	if i < 0 {
		i += len(s)
	}
	if i < 0 || i >= len(s) {
		return Dim{}
	}
	return s[i]
}

// String prints a node as the IR dump does: id, op, dtype, shape, inputs
// and attributes on one line.
func (n *Node) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%%%d = %s", n.ID, n.Op)
	if n.Name != "" {
		fmt.Fprintf(&sb, " %q", n.Name)
	}
	fmt.Fprintf(&sb, " %v%v", n.DType, n.Shape)
	if len(n.Inputs) > 0 {
		sb.WriteString(" (")
		for i, in := range n.Inputs {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "%%%d", in.ID)
		}
		sb.WriteString(")")
	}
	if a := attrString(n.Attr); a != "" {
		sb.WriteString(" {")
		sb.WriteString(a)
		sb.WriteString("}")
	}
	return sb.String()
}

// Dump prints the graph, one node per line, then its outputs.
func (g *Graph) Dump() string {
	var sb strings.Builder
	for _, n := range g.Nodes {
		sb.WriteString(n.String())
		sb.WriteByte('\n')
	}
	for _, o := range g.Outputs {
		fmt.Fprintf(&sb, "output %q = %%%d\n", o.Name, o.Node.ID)
	}
	return sb.String()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
