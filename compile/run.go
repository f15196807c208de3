package compile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/tensor"
)

// align is the byte alignment of every planned buffer (a cache line, and
// enough for the widest vector loads).
const align = 64

// Plan is the memory plan for one set of concrete shapes.
type Plan struct {
	// ArenaBytes is the activation memory the plan uses (after reuse).
	ArenaBytes int64
	// PeakLiveBytes is the most activation memory live at one time: the
	// lower bound any plan needs.
	PeakLiveBytes int64
	// TotalBytes is what the activations would take without reuse.
	TotalBytes int64
	// Refit reports a placement reused from the session's previous plan
	// (every value still fit in the room reserved for it).
	Refit    bool
	offsets  []int64 // per slot id (arena roots)
	reserved []int64 // per slot id: bytes set aside (with slack for symbolic shapes)
	shapes   [][]int // per slot id
}

// slack is the fraction of extra room a plan reserves for values whose
// shape is symbolic, so that a sequence growing by a token (an attention
// mask over past+seq) reuses the plan instead of planning again.
const slack = 8 // 1/8

// reserve is the placement size of n bytes for slot sl.
func reserve(sl *slot, n int64) int64 {
	if len(sl.shape.Symbols()) > 0 {
		n += n / slack
	}
	return (n + align - 1) / align * align
}

// Session runs a Program and owns its state (KV caches, recurrent state)
// and activation memory. A Session is not safe for concurrent use; make one
// per concurrent stream.
type Session struct {
	p      *Program
	env    backend.Env
	arena  backend.Buffer
	states map[*slot]backend.Buffer
	sshape map[*slot][]int
	cache  map[string]*runPlan
	last   *Plan
	// The previous run's concrete shapes (flattened) and plan: consecutive
	// runs with the same shapes skip the cache key.
	prevShapes []int
	prevRun    *runPlan
	// The previous run's binding: every shape and view offset is a function
	// of it, so a run with the same binding (a decode step) reuses prevRun
	// without evaluating a shape.
	prevBind map[string]int
	inShapes map[string][]int          // Run's scratch: the input shapes to bind
	shared   map[string]*tensor.Tensor // RunShared's outputs, reused
}

type runPlan struct {
	plan     *Plan
	launches []backend.Launch
	ins      map[string]backend.Tensor
	outs     []backend.Tensor
}

// NewSession starts a session with zeroed state.
func (p *Program) NewSession() *Session {
	return &Session{p: p, states: map[*slot]backend.Buffer{}, sshape: map[*slot][]int{}, cache: map[string]*runPlan{}}
}

// Run is a one-shot run in a fresh session (states start at zero).
func (p *Program) Run(ctx context.Context, inputs map[string]*tensor.Tensor, dims map[string]int) (map[string]*tensor.Tensor, error) {
	s := p.NewSession()
	defer s.Close()
	return s.Run(ctx, inputs, dims)
}

// Close frees the session's memory.
func (s *Session) Close() {
	if s.arena != nil {
		s.p.be.Free(s.arena)
		s.arena = nil
	}
	for k, b := range s.states {
		s.p.be.Free(b)
		delete(s.states, k)
	}
	s.cache = map[string]*runPlan{}
	s.prevRun = nil
	s.shared = nil
}

// Reset zeroes the state buffers (a new conversation, a new audio stream).
func (s *Session) Reset() {
	for k, b := range s.states {
		s.p.be.Free(b)
		delete(s.states, k)
	}
	s.cache = map[string]*runPlan{}
	s.prevRun = nil
}

// LastPlan is the memory plan of the most recent run.
func (s *Session) LastPlan() *Plan { return s.last }

// State returns a copy of a state buffer's current contents (nil when the
// state was not allocated yet).
func (s *Session) State(name string) (*tensor.Tensor, error) {
	for _, st := range s.p.states {
		if st.node.Name != name {
			continue
		}
		buf, ok := s.states[st]
		if !ok {
			return nil, nil
		}
		t, err := tensor.New(st.node.DType, s.sshape[st]...)
		if err != nil {
			return nil, err
		}
		if err := s.p.be.Read(backend.Tensor{Buf: buf, DType: t.DType, Shape: t.Shape}, t.Data); err != nil {
			return nil, err
		}
		return t, nil
	}
	return nil, fmt.Errorf("compile: no state %q", name)
}

// SetState overwrites a state (a recurrent state restored from elsewhere, a
// KV cache prefix). The tensor must have the state's dtype and, once the
// state exists, its shape; before the first run it fixes the shape, which
// the first binding must then agree with.
func (s *Session) SetState(name string, t *tensor.Tensor) error {
	for _, st := range s.p.states {
		if st.node.Name != name {
			continue
		}
		if t == nil || t.DType != st.node.DType || len(t.Shape) != len(st.node.Shape) {
			return fmt.Errorf("compile: state %q is %v%v, got %v", name, st.node.DType, st.node.Shape, t)
		}
		for i, d := range st.node.Shape {
			if c, ok := d.Const(); ok && c != t.Shape[i] {
				return fmt.Errorf("compile: state %q is %v, got shape %v", name, st.node.Shape, t.Shape)
			}
		}
		nb, err := tensor.Bytes(t.DType, t.Shape)
		if err != nil || int64(len(t.Data)) != nb {
			return fmt.Errorf("compile: state %q: %d bytes of data for %v", name, len(t.Data), t)
		}
		buf, ok := s.states[st]
		if ok && !slices.Equal(s.sshape[st], t.Shape) {
			return fmt.Errorf("compile: state %q is %v in this session, got %v", name, s.sshape[st], t.Shape)
		}
		if !ok {
			if buf, err = s.p.be.Alloc(nb); err != nil {
				return fmt.Errorf("compile: state %q: %w", name, err)
			}
			s.states[st] = buf
			s.sshape[st] = slices.Clone(t.Shape)
			s.cache = map[string]*runPlan{}
			s.prevRun = nil
		}
		return s.p.be.Write(backend.Tensor{Buf: buf, DType: t.DType, Shape: t.Shape}, t.Data)
	}
	return fmt.Errorf("compile: no state %q", name)
}

// Prepare readies the session for runs whose inputs have these shapes
// (and dims, as Run takes them): it allocates the states, plans the
// activation memory and builds the launches, so the first such Run does
// only the work. A decoder session prepared for one-token steps keeps
// that set-up out of its first token's time. Inputs the program ignores
// may be given; every input it reads must be.
func (s *Session) Prepare(shapes map[string][]int, dims map[string]int) error {
	p := s.p
	live := make(map[string][]int, len(shapes))
	for name, sh := range shapes {
		if p.dead[name] {
			continue
		}
		if _, ok := p.ins[name]; !ok {
			return fmt.Errorf("compile: unknown input %q (inputs: %v)", name, p.inputNames())
		}
		live[name] = sh
	}
	bind, err := p.binder.Bind(live, dims)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	_, err = s.prepare(bind)
	return err
}

// Run binds inputs and symbol sizes, executes the program and returns the
// named outputs as host tensors. dims gives the sizes of symbols that no
// input shape determines (past, for one).
func (s *Session) Run(ctx context.Context, inputs map[string]*tensor.Tensor, dims map[string]int) (map[string]*tensor.Tensor, error) {
	return s.run(ctx, inputs, dims, false)
}

// RunShared is Run whose outputs belong to the session: the map and its
// tensors are reused by the next RunShared whose outputs have the same
// shapes, and so hold this run's values only until then; copy what must
// outlive it. A decode loop that reads each step's logits once (513 KB a
// token for a 128k vocabulary) then allocates nothing for them: a fresh
// tensor every step costs zeroing, page faults and collections, time in
// which a GPU waits for its next step.
func (s *Session) RunShared(ctx context.Context, inputs map[string]*tensor.Tensor, dims map[string]int) (map[string]*tensor.Tensor, error) {
	return s.run(ctx, inputs, dims, true)
}

func (s *Session) run(ctx context.Context, inputs map[string]*tensor.Tensor, dims map[string]int, shared bool) (map[string]*tensor.Tensor, error) {
	p := s.p
	if s.inShapes == nil {
		s.inShapes = make(map[string][]int, len(p.ins))
	}
	shapes := s.inShapes
	clear(shapes)
	live := inputs
	for name := range inputs {
		if p.dead[name] {
			// Accepted and ignored: the passes found no output needs it.
			live = make(map[string]*tensor.Tensor, len(inputs))
			for k, v := range inputs {
				if !p.dead[k] {
					live[k] = v
				}
			}
			break
		}
	}
	inputs = live
	for name, t := range inputs {
		if _, ok := p.ins[name]; !ok {
			return nil, fmt.Errorf("compile: unknown input %q (inputs: %v)", name, p.inputNames())
		}
		if t == nil {
			return nil, fmt.Errorf("compile: input %q is nil", name)
		}
		shapes[name] = t.Shape
	}
	bind, err := p.binder.Bind(shapes, dims)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	for name, t := range inputs {
		sl := p.ins[name]
		if t.DType != sl.node.DType {
			return nil, fmt.Errorf("compile: input %q is %v, the graph declares %v", name, t.DType, sl.node.DType)
		}
		nb, err := tensor.Bytes(t.DType, t.Shape)
		if err != nil || int64(len(t.Data)) != nb {
			return nil, fmt.Errorf("compile: input %q: %d bytes of data for %v", name, len(t.Data), t)
		}
	}
	rp, err := s.prepare(bind)
	if err != nil {
		return nil, err
	}
	s.env.Bind = bind
	for name, v := range rp.ins {
		if err := p.be.Write(v, inputs[name].Data); err != nil {
			return nil, fmt.Errorf("compile: input %q: %w", name, err)
		}
	}
	if err := p.be.Execute(ctx, &s.env, rp.launches); err != nil {
		return nil, err
	}
	if err := p.be.Sync(); err != nil {
		return nil, err
	}
	out := s.shared
	if !shared || out == nil {
		out = make(map[string]*tensor.Tensor, len(p.outs))
	}
	for i, o := range p.outs {
		v := rp.outs[i]
		t := out[o.name]
		if !shared || t == nil || t.DType != v.DType || !slices.Equal(t.Shape, v.Shape) {
			var err error
			if t, err = tensor.New(v.DType, v.Shape...); err != nil {
				return nil, err
			}
		}
		if err := p.be.Read(v, t.Data); err != nil {
			return nil, fmt.Errorf("compile: output %q: %w", o.name, err)
		}
		out[o.name] = t
	}
	if shared {
		s.shared = out
	}
	return out, nil
}

// prepare finds or makes the launches for the binding's shapes.
func (s *Session) prepare(bind map[string]int) (*runPlan, error) {
	if s.prevRun != nil && maps.Equal(bind, s.prevBind) {
		s.last = s.prevRun.plan
		return s.prevRun, nil
	}
	rp, err := s.prepareShapes(bind)
	if err != nil {
		return nil, err
	}
	if s.prevBind == nil {
		s.prevBind = make(map[string]int, len(bind))
	}
	clear(s.prevBind)
	maps.Copy(s.prevBind, bind)
	return rp, nil
}

// prepareShapes evaluates the binding's shapes and finds or makes their
// launches.
func (s *Session) prepareShapes(bind map[string]int) (*runPlan, error) {
	p := s.p
	shapes := make([][]int, len(p.slots))
	flat := make([]int, 0, len(s.prevShapes))
	for i, sl := range p.slots {
		sh, err := sl.shape.Eval(bind)
		if err != nil {
			return nil, fmt.Errorf("compile: %v: %w", sl.node, err)
		}
		shapes[i] = sh
		flat = append(flat, sh...)
		if sl.root != sl {
			// A view's offset can move while every shape stays put (a
			// slice starting at past): it is part of the plan's key.
			off, err := sl.off.Eval(bind)
			if err != nil {
				return nil, fmt.Errorf("compile: %v: %w", sl.node, err)
			}
			flat = append(flat, -2, off)
		}
		flat = append(flat, -1)
	}
	if s.prevRun != nil && slices.Equal(flat, s.prevShapes) {
		s.last = s.prevRun.plan
		return s.prevRun, nil
	}
	var key strings.Builder
	for _, d := range flat {
		key.WriteString(strconv.Itoa(d))
		key.WriteByte(',')
	}
	k := key.String()
	if rp, ok := s.cache[k]; ok {
		s.last = rp.plan
		s.prevShapes, s.prevRun = flat, rp
		return rp, nil
	}
	// States are allocated once per session, at their first bound size.
	for _, st := range p.states {
		sh := shapes[st.id]
		if _, ok := s.states[st]; ok {
			if !slices.Equal(s.sshape[st], sh) {
				return nil, fmt.Errorf("compile: state %q is %v in this session, the binding asks for %v (Reset the session)", st.node.Name, s.sshape[st], sh)
			}
			continue
		}
		nb, err := tensor.Bytes(st.node.DType, sh)
		if err != nil {
			return nil, fmt.Errorf("compile: state %q: %w", st.node.Name, err)
		}
		buf, err := p.be.Alloc(nb)
		if err != nil {
			return nil, fmt.Errorf("compile: state %q: %w", st.node.Name, err)
		}
		s.states[st] = buf
		s.sshape[st] = sh
	}
	plan := p.refit(s.last, shapes)
	var err error
	if plan == nil {
		if plan, err = p.sharedPlan(k, shapes); err != nil {
			return nil, err
		}
	}
	if s.arena == nil || s.arena.Size() < plan.ArenaBytes {
		if s.arena != nil {
			p.be.Free(s.arena)
		}
		s.arena, err = p.be.Alloc(max(plan.ArenaBytes, align))
		if err != nil {
			return nil, fmt.Errorf("compile: activations (%d bytes): %w", plan.ArenaBytes, err)
		}
		s.cache = map[string]*runPlan{} // old launches point at the old arena
		s.prevRun = nil
	}
	var verr error
	view := func(sl *slot) backend.Tensor {
		r := sl.root
		t := backend.Tensor{DType: sl.node.DType, Shape: shapes[sl.id]}
		if sl != r {
			off, err := sl.off.Eval(bind)
			if err != nil || off < 0 || off+tensor.NumElements(t.Shape) > tensor.NumElements(shapes[r.id]) {
				if verr == nil {
					verr = fmt.Errorf("compile: %v: view at element %d (%v) outside its source %v", sl.node, off, err, shapes[r.id])
				}
				off = 0
			}
			t.Off = int64(off) * int64(sl.node.DType.BlockBytes())
		}
		switch r.kind {
		case slotArena:
			t.Buf, t.Off = s.arena, t.Off+plan.offsets[r.id]
		case slotFixed:
			t.Buf = r.buf
		case slotState:
			t.Buf = s.states[r]
		}
		return t
	}
	rp := &runPlan{plan: plan, ins: map[string]backend.Tensor{}}
	for name, sl := range p.ins {
		rp.ins[name] = view(sl)
	}
	for _, st := range p.steps {
		l := backend.Launch{Node: st.node, Kernel: st.kernel, Ins: make([]backend.Tensor, len(st.ins))}
		for i, in := range st.ins {
			l.Ins[i] = view(in)
		}
		if st.out != nil {
			l.Out = view(st.out)
		}
		for _, r := range st.release {
			l.Release = append(l.Release, view(r))
		}
		rp.launches = append(rp.launches, l)
	}
	for _, o := range p.outs {
		rp.outs = append(rp.outs, view(o.s))
	}
	if verr != nil {
		return nil, verr
	}
	if len(s.cache) > 64 {
		s.cache = map[string]*runPlan{}
	}
	s.cache[k] = rp
	s.last = plan
	s.prevShapes, s.prevRun = flat, rp
	if p.dump != nil {
		fmt.Fprintf(p.dump, "== rlx memory plan %v: arena %d bytes, peak live %d, without reuse %d, refit %v\n",
			bind, plan.ArenaBytes, plan.PeakLiveBytes, plan.TotalBytes, plan.Refit)
	}
	return rp, nil
}

// maxSharedPlans bounds the plans a Program keeps for its sessions.
const maxSharedPlans = 64

// sharedPlan returns the program's plan for these shapes (key is their
// flattened form), planning them on first use. Plans are immutable once
// made, so every session of the program shares them: a new session (a
// new conversation, each run of a benchmark) does not plan again.
func (p *Program) sharedPlan(key string, shapes [][]int) (*Plan, error) {
	p.planMu.Lock()
	pl, ok := p.plans[key]
	p.planMu.Unlock()
	if ok {
		return pl, nil
	}
	pl, err := p.plan(shapes)
	if err != nil {
		return nil, err
	}
	p.planMu.Lock()
	if p.plans == nil || len(p.plans) >= maxSharedPlans {
		p.plans = map[string]*Plan{}
	}
	p.plans[key] = pl
	p.planMu.Unlock()
	return pl, nil
}

// measure fills a plan's reservations and its no-reuse and peak-live
// byte counts for its shapes.
func (p *Program) measure(pl *Plan) error {
	delta := make([]int64, len(p.steps)+3)
	for _, sl := range p.slots {
		if sl.root != sl || sl.kind != slotArena {
			continue
		}
		nb, err := tensor.Bytes(sl.node.DType, pl.shapes[sl.id])
		if err != nil {
			return fmt.Errorf("compile: %v: %w", sl.node, err)
		}
		nb = (nb + align - 1) / align * align
		pl.TotalBytes += nb
		pl.reserved[sl.id] = reserve(sl, nb)
		delta[sl.def+1] += nb
		delta[max(sl.last, sl.def)+2] -= nb
	}
	var cur int64
	for _, d := range delta {
		cur += d
		pl.PeakLiveBytes = max(pl.PeakLiveBytes, cur)
	}
	return nil
}

// refit reuses prev's placement for new shapes when every activation
// still fits in the room prev set aside for it (nil otherwise).
func (p *Program) refit(prev *Plan, shapes [][]int) *Plan {
	if prev == nil || p.noReu {
		return nil
	}
	for _, sl := range p.slots {
		if sl.root != sl || sl.kind != slotArena {
			continue
		}
		nb, err := tensor.Bytes(sl.node.DType, shapes[sl.id])
		if err != nil || nb > prev.reserved[sl.id] {
			return nil
		}
	}
	pl := &Plan{offsets: prev.offsets, reserved: make([]int64, len(p.slots)), shapes: shapes, ArenaBytes: prev.ArenaBytes, Refit: true}
	if p.measure(pl) != nil {
		return nil
	}
	pl.reserved = prev.reserved // keep the room, not the tighter new sizes
	return pl
}

// plan assigns arena offsets to every activation root so that values whose
// lifetimes overlap never share bytes. Greedy by size: the largest buffers
// are placed first, each at the lowest offset free during its lifetime.
func (p *Program) plan(shapes [][]int) (*Plan, error) {
	type item struct {
		s          *slot
		size       int64
		start, end int
	}
	var items []item
	pl := &Plan{offsets: make([]int64, len(p.slots)), reserved: make([]int64, len(p.slots)), shapes: shapes}
	if err := p.measure(pl); err != nil {
		return nil, err
	}
	for _, sl := range p.slots {
		if sl.root != sl || sl.kind != slotArena {
			continue
		}
		items = append(items, item{sl, pl.reserved[sl.id], sl.def, max(sl.last, sl.def)})
	}
	if p.noReu {
		pl.TotalBytes = 0
		for _, it := range items {
			pl.TotalBytes += it.size
		}
		var off int64
		for _, it := range items {
			pl.offsets[it.s.id] = off
			off += it.size
		}
		pl.ArenaBytes = off
		return pl, nil
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].size > items[j].size })
	type placed struct {
		off, size  int64
		start, end int
	}
	var done []placed
	for _, it := range items {
		// Candidate offsets: 0 and the end of every overlapping placement.
		var over []placed
		for _, d := range done {
			if d.start <= it.end && it.start <= d.end {
				over = append(over, d)
			}
		}
		sort.Slice(over, func(i, j int) bool { return over[i].off < over[j].off })
		off := int64(0)
		for _, d := range over {
			if off+it.size <= d.off {
				break
			}
			off = max(off, d.off+d.size)
		}
		pl.offsets[it.s.id] = off
		pl.ArenaBytes = max(pl.ArenaBytes, off+it.size)
		done = append(done, placed{off, it.size, it.start, it.end})
	}
	return pl, nil
}
