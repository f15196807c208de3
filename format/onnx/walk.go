package onnx

import "fmt"

// Walk calls fn for every node of g and of the subgraphs held in its nodes'
// attributes, depth first, in file order. path names the node's position,
// e.g. "node[3]" or "node[3].else_branch.node[0]". Walk stops at the first
// error fn returns.
func (g *Graph) Walk(fn func(path string, n *Node) error) error {
	return g.walk("", fn)
}

func (g *Graph) walk(prefix string, fn func(string, *Node) error) error {
	for i, n := range g.Nodes {
		p := fmt.Sprintf("%snode[%d]", prefix, i)
		if err := fn(p, n); err != nil {
			return err
		}
		for _, a := range n.Attributes {
			if a.G != nil {
				if err := a.G.walk(p+"."+a.Name+".", fn); err != nil {
					return err
				}
			}
			for j, sg := range a.Graphs {
				if err := sg.walk(fmt.Sprintf("%s.%s[%d].", p, a.Name, j), fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Initializer returns the initializer of g called name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}
