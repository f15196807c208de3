package cpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/kernels"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/tensor"
)

// tile is the number of output elements a fused chain evaluates at a time:
// every register of the chain holds one tile, so a chain of ten ops keeps
// its working set in L1/L2.
const tile = 512

// serialElems is the output size below which a fused chain runs on the
// calling goroutine alone.
const serialElems = 8 * tile

// opKernel maps IR ops to the kernels package's unary (kind 1) and binary
// (kind 2) functions; arrays, not maps, because the lookup is per launch.
var (
	unaryOf, binaryOf = func() (u [256]int8, b [256]int8) {
		for i := range u {
			u[i], b[i] = -1, -1
		}
		for op, k := range unaryKernel {
			u[op] = int8(k)
		}
		for op, k := range binaryKernel {
			b[op] = int8(k)
		}
		return
	}()
)

var unaryKernel = map[ir.Op]kernels.UnaryOp{
	ir.OpNeg: kernels.Neg, ir.OpExp: kernels.Exp, ir.OpLog: kernels.Log, ir.OpSqrt: kernels.Sqrt,
	ir.OpRsqrt: kernels.Rsqrt, ir.OpTanh: kernels.Tanh, ir.OpSigmoid: kernels.Sigmoid, ir.OpSilu: kernels.SiLU,
	ir.OpGeluErf: kernels.GELU, ir.OpGeluTanh: kernels.GELUTanh, ir.OpRelu: kernels.ReLU, ir.OpAbs: kernels.Abs,
	ir.OpErf: kernels.Erf,
}

var binaryKernel = map[ir.Op]kernels.BinaryOp{
	ir.OpAdd: kernels.Add, ir.OpSub: kernels.Sub, ir.OpMul: kernels.Mul, ir.OpDiv: kernels.Div,
	ir.OpMax: kernels.Max, ir.OpMin: kernels.Min, ir.OpPow: kernels.Pow,
}

// fused evaluates a straight-line elementwise program tile by tile.
type fused struct {
	b       *Backend
	code    []ir.Instr
	nIn     int
	scratch sync.Pool // *fusedScratch
}

// loader says how one input of a fused chain is read for a tile.
type loader struct {
	full    []float32 // same shape, F32: read in place
	half    []uint16  // same shape, F16/BF16: widened per tile
	scalar  float32
	isConst bool
	data    []byte
	dt      tensor.DType
	str     []int // broadcast strides aligned to the output
}

// fusedScratch is the per-call state of a fused kernel, reused through a
// sync.Pool so that a launch allocates nothing in the steady state.
type fusedScratch struct {
	lds   []loader
	store [][]float32   // per worker: nregs tiles
	regs  [][][]float32 // per worker: register views
	idx   [][]int       // per worker: multi-index
	dst   []float32
	shape []int
}

func (b *Backend) fusedKernel(n *ir.Node, code []ir.Instr) (backend.Kernel, error) {
	for _, in := range code {
		switch {
		case in.Op.Kind() == ir.KindUnary, in.Op.Kind() == ir.KindBinary, in.Op == ir.OpWhere, in.Op == ir.OpCast:
		default:
			return nil, fmt.Errorf("cpu: fused chain cannot hold %v", in.Op)
		}
		if in.Op.Kind() == ir.KindBinary {
			if _, ok := binaryKernel[in.Op]; !ok {
				return nil, fmt.Errorf("cpu: fused chain cannot hold %v", in.Op)
			}
		}
	}
	return &fused{b: b, code: code, nIn: len(n.Inputs)}, nil
}

// Run implements backend.Kernel.
func (f *fused) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	dst := f32(out)
	total := len(dst)
	if total == 0 {
		return nil
	}
	workers := f.b.pool.Size()
	sc, _ := f.scratch.Get().(*fusedScratch)
	if sc == nil {
		nregs := f.nIn + len(f.code)
		sc = &fusedScratch{lds: make([]loader, f.nIn), store: make([][]float32, workers),
			regs: make([][][]float32, workers), idx: make([][]int, workers)}
		for w := range workers {
			sc.store[w] = make([]float32, nregs*tile)
			sc.regs[w] = make([][]float32, nregs)
		}
	}
	defer f.scratch.Put(sc)
	for i, in := range ins {
		l := &sc.lds[i]
		*l = loader{}
		cnt := tensor.NumElements(in.Shape)
		switch {
		case cnt == total && in.DType == tensor.F32 && sameTail(in.Shape, out.Shape):
			l.full = f32(in)
		case cnt == total && (in.DType == tensor.F16 || in.DType == tensor.BF16) && sameTail(in.Shape, out.Shape):
			l.half, l.dt = u16(in), in.DType
		case cnt == 1:
			v, err := in.DType.LoadFloat64(raw(in), 0)
			if err != nil {
				return err
			}
			l.scalar, l.isConst = float32(v), true
		default:
			l.data, l.dt = raw(in), in.DType
			l.str = bstrides(in.Shape, out.Shape)
		}
	}
	sc.dst, sc.shape = dst, out.Shape
	tiles := (total + tile - 1) / tile
	if total <= serialElems {
		// Waking workers costs more than a few microseconds of work.
		for t := range tiles {
			lo := t * tile
			f.tile(sc, 0, lo, min(lo+tile, total))
		}
		return nil
	}
	f.b.pool.Run(tiles, func(task, w int) {
		lo := task * tile
		f.tile(sc, w, lo, min(lo+tile, total))
	})
	return nil
}

// tile evaluates output elements [lo, hi) as worker w.
func (f *fused) tile(sc *fusedScratch, w, lo, hi int) {
	L := hi - lo
	store, regs := sc.store[w], sc.regs[w]
	for i := range regs {
		regs[i] = store[i*tile : i*tile+L]
	}
	for i := range sc.lds {
		l := &sc.lds[i]
		switch {
		case l.full != nil:
			regs[i] = l.full[lo:hi]
		case l.half != nil && l.dt == tensor.F16:
			kernels.F16ToF32(regs[i], l.half[lo:hi])
		case l.half != nil:
			kernels.BF16ToF32(regs[i], l.half[lo:hi])
		case l.isConst:
			r := regs[i]
			for j := range r {
				r[j] = l.scalar
			}
		default:
			if len(sc.idx[w]) < len(sc.shape) {
				sc.idx[w] = make([]int, len(sc.shape))
			}
			gatherBroadcast(regs[i], l.data, l.dt, l.str, sc.shape, lo, sc.idx[w][:len(sc.shape)])
		}
	}
	for k, in := range f.code {
		d := regs[f.nIn+k]
		if k == len(f.code)-1 {
			d = sc.dst[lo:hi]
		}
		runInstr(in, d, regs)
	}
}

// sameTail reports whether shapes are equal (a broadcast-free input).
func sameTail(a, b []int) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[len(a)-1-i] != b[len(b)-1-i] {
			return false
		}
	}
	return true
}

func runInstr(in ir.Instr, d []float32, regs [][]float32) {
	a := regs[in.Args[0]]
	switch in.Op {
	case ir.OpCast:
		copy(d, a)
		return
	case ir.OpWhere:
		x, y := regs[in.Args[1]], regs[in.Args[2]]
		for i := range d {
			if a[i] != 0 {
				d[i] = x[i]
			} else {
				d[i] = y[i]
			}
		}
		return
	case ir.OpSoftcap:
		kernels.Softcap(d, a, float32(in.Attr.(*ir.SoftcapAttr).Cap))
		return
	case ir.OpRecip:
		for i, v := range a[:len(d)] {
			d[i] = 1 / v
		}
		return
	case ir.OpSquare:
		for i, v := range a[:len(d)] {
			d[i] = v * v
		}
		return
	case ir.OpSin:
		for i, v := range a[:len(d)] {
			d[i] = float32(math.Sin(float64(v)))
		}
		return
	case ir.OpCos:
		for i, v := range a[:len(d)] {
			d[i] = float32(math.Cos(float64(v)))
		}
		return
	}
	if k := unaryOf[in.Op&255]; k >= 0 {
		kernels.Unary(kernels.UnaryOp(k), d, a)
		return
	}
	kernels.Binary(kernels.BinaryOp(binaryOf[in.Op&255]), d, a, regs[in.Args[1]])
}

// bstrides gives in's element strides aligned to out's rank, 0 where in
// broadcasts.
func bstrides(in, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		j := len(out) - len(in) + i
		if in[i] != 1 {
			st[j] = s
		}
		s *= in[i]
	}
	return st
}

// gatherBroadcast loads len(d) elements of a broadcast input starting at
// output element lo, converting to float32.
func gatherBroadcast(d []float32, data []byte, dt tensor.DType, str, shape []int, lo int, idx []int) {
	rem := lo
	off := 0
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = rem % shape[k]
		rem /= shape[k]
		off += idx[k] * str[k]
	}
	last := len(shape) - 1
	for i := range d {
		d[i] = loadF32(data, dt, off)
		// Advance the multi-index.
		for k := last; k >= 0; k-- {
			idx[k]++
			off += str[k]
			if idx[k] < shape[k] {
				break
			}
			off -= idx[k] * str[k]
			idx[k] = 0
		}
	}
}

func loadF32(data []byte, dt tensor.DType, i int) float32 {
	switch dt {
	case tensor.F32:
		return math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
	case tensor.F16:
		return tensor.F16ToF32(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
	case tensor.BF16:
		return tensor.BF16ToF32(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
	case tensor.Bool, tensor.U8:
		return float32(data[i])
	}
	v, _ := dt.LoadFloat64(data, i)
	return float32(v)
}

// genericElementwise evaluates any elementwise node through float64 with
// broadcasting: integer arithmetic, comparisons, casts to non-float types.
func (b *Backend) genericElementwise(n *ir.Node) backend.Kernel {
	op, attr := n.Op, n.Attr
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		o := raw(out)
		cnt := tensor.NumElements(out.Shape)
		strs := make([][]int, len(ins))
		datas := make([][]byte, len(ins))
		for i, in := range ins {
			strs[i] = bstrides(in.Shape, out.Shape)
			datas[i] = raw(in)
		}
		idx := make([]int, len(out.Shape))
		args := make([]float64, len(ins))
		for e := range cnt {
			for j := range ins {
				off := 0
				for k, x := range idx {
					off += x * strs[j][k]
				}
				v, err := ins[j].DType.LoadFloat64(datas[j], off)
				if err != nil {
					return err
				}
				args[j] = v
			}
			var v float64
			switch k := op.Kind(); {
			case k == ir.KindUnary:
				v = interp.Unary(op, attr, args[0])
			case k == ir.KindBinary || k == ir.KindCompare:
				v = interp.Binary(op, args[0], args[1])
				if op == ir.OpDiv && out.DType != tensor.F32 && out.DType != tensor.F64 && args[1] == 0 {
					return fmt.Errorf("integer division by zero")
				}
			case op == ir.OpWhere:
				v = args[2]
				if args[0] != 0 {
					v = args[1]
				}
			default: // cast
				v = args[0]
			}
			if err := out.DType.StoreFloat64(o, e, interp.Round(out.DType, v)); err != nil {
				return err
			}
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				if idx[k] < out.Shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		return nil
	})
}

// castFunc converts elements [lo, hi) of src into dst.
type castFunc func(dst, src backend.Tensor, lo, hi int)

func fastCast(from, to tensor.DType) castFunc {
	switch {
	case from == tensor.F32 && to == tensor.F16:
		return func(dst, src backend.Tensor, lo, hi int) {
			kernels.F32ToF16(u16(dst)[lo:hi], f32(src)[lo:hi])
		}
	case from == tensor.F32 && to == tensor.BF16:
		return func(dst, src backend.Tensor, lo, hi int) {
			d, s := u16(dst), f32(src)
			for i := lo; i < hi; i++ {
				d[i] = tensor.F32ToBF16(s[i])
			}
		}
	case from == tensor.I32 && to == tensor.I64:
		return func(dst, src backend.Tensor, lo, hi int) {
			d, s := i64(dst), i32(src)
			for i := lo; i < hi; i++ {
				d[i] = int64(s[i])
			}
		}
	}
	return nil
}

func (b *Backend) parallelCast(f castFunc) backend.Kernel {
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		n := tensor.NumElements(out.Shape)
		b.pool.For(n, max(4096, n/(4*b.pool.Size())+1), func(lo, hi int) { f(out, ins[0], lo, hi) })
		return nil
	})
}
