// Package compile turns an IR graph into a Program for one backend: graph
// passes (constant folding, common-subexpression elimination, recognition
// of norm and softmax patterns, lowering, elementwise fusion, dead-code
// elimination), kernel preparation (weights pre-packed by the backend), and
// a liveness-based memory plan made per concrete binding of the symbolic
// dims, so one Program runs every sequence length without recompiling.
//
// Set RLX_DUMP_IR=1 (or Options.Dump) to print the graph before and after
// the passes, and the memory plan of each binding.
package compile

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Options selects passes and diagnostics. The zero value is the normal,
// fully optimising configuration.
type Options struct {
	NoFold     bool // skip constant folding
	NoCSE      bool // skip common-subexpression elimination
	NoPatterns bool // skip norm/softmax pattern recognition
	NoFusion   bool // skip elementwise fusion and matmul epilogues
	// NoReuse gives every value its own memory (no buffer sharing).
	NoReuse bool
	// Dump receives the graph before and after the passes and each new
	// memory plan. When nil, RLX_DUMP_IR=1 in the environment dumps to
	// standard error.
	Dump io.Writer
}

// Stats reports what the passes did.
type Stats struct {
	NodesIn, NodesOut int
	Removed           int      // nodes removed as dead
	CSE               int      // nodes merged
	Folded            int      // nodes folded to constants
	Patterns          []string // fused patterns recognised, in order
	Fused             []int    // size of each fused elementwise chain
}

// Program is a compiled graph: a list of prepared kernels over slots. It
// is safe for concurrent use by several Sessions.
type Program struct {
	be     backend.Backend
	graph  *ir.Graph // after passes
	stats  Stats
	slots  []*slot
	steps  []step
	outs   []outSlot
	ins    map[string]*slot
	dead   map[string]bool // inputs of the source graph that no output needs
	states []*slot
	dump   io.Writer
	noReu  bool
	binder *ir.Binder
	fixed  []backend.Buffer

	planMu sync.Mutex
	plans  map[string]*Plan // by flattened shapes, shared by the sessions
}

type slotKind uint8

const (
	slotArena slotKind = iota // planned activation memory
	slotFixed                 // param or constant buffer
	slotState                 // session-owned persistent buffer
)

// slot is the storage of one node's value.
type slot struct {
	id    int
	node  *ir.Node
	kind  slotKind
	root  *slot          // views (reshapes, contiguous slices) point at the slot owning memory
	off   ir.Dim         // element offset of a view within its root
	buf   backend.Buffer // fixed slots
	def   int            // step that writes it (-1: before the first step)
	last  int            // last step that reads it (or any of its aliases)
	shape ir.Shape
}

type step struct {
	node    *ir.Node
	kernel  backend.Kernel
	ins     []*slot
	out     *slot // nil for Assign
	release []*slot
}

type outSlot struct {
	name string
	s    *slot
}

// Graph is the graph after the passes (for dumps and tests).
func (p *Program) Graph() *ir.Graph { return p.graph }

// Stats reports what the passes did.
func (p *Program) Stats() Stats { return p.stats }

// Backend is the backend the program runs on.
func (p *Program) Backend() backend.Backend { return p.be }

// Compile optimises g and prepares it for be, binding Params from params.
func Compile(g *ir.Graph, be backend.Backend, params ir.ParamSource, opt Options) (*Program, error) {
	if g == nil || be == nil {
		return nil, fmt.Errorf("compile: nil graph or backend")
	}
	dump := opt.Dump
	if dump == nil && os.Getenv("RLX_DUMP_IR") == "1" {
		dump = os.Stderr
	}
	wg := cloneGraph(g)
	wg.stats = &Stats{NodesIn: len(g.Nodes)}
	if dump != nil {
		fmt.Fprintf(dump, "== rlx IR before passes (%d nodes)\n%s", len(g.Nodes), g.Dump())
	}
	if !opt.NoFold {
		if err := wg.fold(); err != nil {
			return nil, err
		}
	}
	if !opt.NoCSE {
		wg.cse()
	}
	wg.dce()
	if !opt.NoPatterns {
		wg.patterns()
	}
	wg.lower()
	if !opt.NoFusion {
		wg.epilogue()
		wg.fuse()
	}
	wg.dce()
	// State assignments run after every other step, so that all reads of a
	// state see the value from the start of the step.
	var assigns []*ir.Node
	kept := wg.nodes[:0]
	for _, n := range wg.nodes {
		if n.Op == ir.OpAssign {
			assigns = append(assigns, n)
		} else {
			kept = append(kept, n)
		}
	}
	wg.nodes = append(kept, assigns...)
	// An output that is a state itself must be copied before the
	// assignments overwrite it.
	for i, o := range wg.outputs {
		if o.Node.Op == ir.OpState {
			c := &ir.Node{Op: ir.OpReshape, Inputs: []*ir.Node{o.Node}, DType: o.Node.DType, Shape: o.Node.Shape, Name: o.Name}
			wg.nodes = slices.Insert(wg.nodes, len(kept), c)
			wg.outputs[i].Node = c
		}
	}
	out := wg.toIR()
	wg.stats.NodesOut = len(out.Nodes)
	if dump != nil {
		fmt.Fprintf(dump, "== rlx IR after passes (%d nodes; folded %d, cse %d, removed %d, patterns %v, fused chains %v)\n%s",
			len(out.Nodes), wg.stats.Folded, wg.stats.CSE, wg.stats.Removed, wg.stats.Patterns, wg.stats.Fused, out.Dump())
	}
	p := &Program{be: be, graph: out, stats: *wg.stats, ins: map[string]*slot{}, dead: map[string]bool{}, dump: dump, noReu: opt.NoReuse}
	for _, in := range g.Inputs() {
		p.dead[in.Name] = true
	}
	for _, in := range out.Inputs() {
		delete(p.dead, in.Name)
	}
	p.binder = ir.NewBinder(out)
	if err := p.build(params); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close releases the program's constant buffers.
func (p *Program) Close() {
	for _, b := range p.fixed {
		p.be.Free(b)
	}
	p.fixed = nil
}

// build creates slots, prepares kernels and computes lifetimes.
func (p *Program) build(params ir.ParamSource) error {
	bySlot := map[*ir.Node]*slot{}
	host := map[*ir.Node]*tensor.Tensor{}
	newSlot := func(n *ir.Node, k slotKind) *slot {
		s := &slot{id: len(p.slots), node: n, kind: k, def: -1, last: -1, shape: n.Shape}
		s.root = s
		p.slots = append(p.slots, s)
		bySlot[n] = s
		return s
	}
	for _, n := range p.graph.Nodes {
		switch n.Op {
		case ir.OpInput:
			p.ins[n.Name] = newSlot(n, slotArena)
			continue
		case ir.OpParam, ir.OpConst:
			var t *tensor.Tensor
			if n.Op == ir.OpParam {
				var err error
				if t, err = ir.LookupParam(params, n); err != nil {
					return fmt.Errorf("compile: %w", err)
				}
			} else {
				t = n.Attr.(*ir.ConstAttr).Value
			}
			host[n] = t
			buf, err := p.be.Wrap(t.Data)
			if err != nil {
				return fmt.Errorf("compile: %v %q: %w", n.Op, n.Name, err)
			}
			p.fixed = append(p.fixed, buf)
			s := newSlot(n, slotFixed)
			s.buf = buf
			continue
		case ir.OpState:
			p.states = append(p.states, newSlot(n, slotState))
			continue
		}
		consts := make([]*tensor.Tensor, len(n.Inputs))
		ins := make([]*slot, len(n.Inputs))
		for i, in := range n.Inputs {
			consts[i] = host[in]
			ins[i] = bySlot[in]
		}
		st := step{node: n, ins: ins}
		idx := len(p.steps)
		if off, ok := viewOf(n); ok && ins[0].root.kind != slotState {
			// A reshape, or a slice that is one contiguous run of its
			// input, is a view of its input's memory: no kernel. (Views of
			// a state copy instead, so that they keep the value from the
			// start of the step.)
			s := newSlot(n, ins[0].root.kind)
			s.root = ins[0].root
			s.off = ins[0].off.Add(off)
			s.def = idx
			for _, in := range ins {
				in.root.last = max(in.root.last, idx)
			}
			// A view of a weight is still a weight: its consumers get the
			// host bytes (zero-copy) to pre-pack, as for the Param itself.
			if t := host[n.Inputs[0]]; t != nil {
				if v := constView(t, n, off); v != nil {
					host[n] = v
				}
			}
			continue
		}
		if err := p.be.Supports(n); err != nil {
			return fmt.Errorf("compile: node %v: %w", n, err)
		}
		k, err := p.be.Prepare(n, consts)
		if err != nil {
			return fmt.Errorf("compile: node %v: %w", n, err)
		}
		st.kernel = k
		if n.Op != ir.OpAssign {
			st.out = newSlot(n, slotArena)
			st.out.def = idx
		}
		for _, in := range ins {
			in.root.last = max(in.root.last, idx)
		}
		p.steps = append(p.steps, st)
	}
	end := len(p.steps)
	for _, o := range p.graph.Outputs {
		s := bySlot[o.Node]
		s.root.last = end
		p.outs = append(p.outs, outSlot{o.Name, s})
	}
	// Lifetimes extend through aliases; release arena roots after their
	// last reader.
	for _, s := range p.slots {
		if s.root != s || s.kind != slotArena {
			continue
		}
		if s.last < 0 {
			s.last = max(s.def, 0) // written but never read (dead output of a side effect)
		}
		if s.last < end && s.last >= 0 && s.last < len(p.steps) {
			p.steps[s.last].release = append(p.steps[s.last].release, s)
		}
	}
	return nil
}

// viewOf reports whether n's result is a contiguous run of its input's
// elements, and at which element offset: a reshape (offset 0), or a
// unit-step slice with only size-1 axes before the sliced one.
func viewOf(n *ir.Node) (ir.Dim, bool) {
	switch n.Op {
	case ir.OpReshape:
		return ir.N(0), true
	case ir.OpSlice:
		a := n.Attr.(*ir.SliceAttr)
		in := n.Inputs[0].Shape
		if a.Step != 1 {
			return ir.Dim{}, false
		}
		for _, d := range in[:a.Axis] {
			if c, ok := d.Const(); !ok || c != 1 {
				return ir.Dim{}, false
			}
		}
		return a.Start.Mul(ir.Shape(in[a.Axis+1:]).NumElements()), true
	}
	return ir.Dim{}, false
}

// constView is the host tensor of view node n over constant t (nil when
// the view's shape or offset is symbolic).
func constView(t *tensor.Tensor, n *ir.Node, off ir.Dim) *tensor.Tensor {
	shape, err := n.Shape.Eval(nil)
	o, ok := off.Const()
	if err != nil || !ok || t.DType.Quantized() && o != 0 {
		return nil
	}
	es := int64(t.DType.BlockBytes())
	nb, err := tensor.Bytes(t.DType, shape)
	start := int64(o) * es
	if t.DType.Quantized() {
		start = 0
	}
	if err != nil || start+nb > int64(len(t.Data)) {
		return nil
	}
	return &tensor.Tensor{DType: t.DType, Shape: shape, Data: t.Data[start : start+nb]}
}

// String summarises the program: its backend, steps and buffers.
func (p *Program) String() string {
	var arena, fixed, state int
	for _, s := range p.slots {
		switch {
		case s.root != s:
		case s.kind == slotArena:
			arena++
		case s.kind == slotFixed:
			fixed++
		default:
			state++
		}
	}
	return fmt.Sprintf("program on %s: %d steps, %d activation buffers, %d constant buffers, %d states",
		p.be.Name(), len(p.steps), arena, fixed, state)
}

// inputNames lists the graph inputs (sorted), for error messages.
func (p *Program) inputNames() []string {
	var names []string
	for k := range p.ins {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
