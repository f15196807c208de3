package cuda

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Mixture of experts on the device (kernels/gatherq.cu): moe_gate_up
// computes act(gate·x)·(up·x) for the experts each token routes to, into a
// scratch of [tokens, experts, ffn] made at Prepare (tokens beyond its
// capacity run in chunks), and moe_down adds the routed down projections
// in expert order, as the host does. Weights stay as stored (F32, F16,
// BF16 or a GGUF block type), dequantized element by element. Chunks of at
// least moeTiledMin tokens run moe_gate_up_tiled and moe_down_tiled, which
// read each expert row once per 8 tokens of a 128-token tile routed to it.

// moeScratch is the bytes of h (at least one token's worth is made); a
// variable so that tests can force chunks.
var moeScratch int64 = 32 << 20

// moeWeightType is sw_elem's type code of a weight dtype, or -1.
func moeWeightType(dt tensor.DType) int {
	switch dt {
	case tensor.F32:
		return 0
	case tensor.F16:
		return 1
	case tensor.BF16:
		return 2
	}
	if c, ok := storedGather(dt); ok && dt.Quantized() {
		return c
	}
	return -1
}

// moeSupports returns "" when MoE node n runs on the device.
func moeSupports(n *ir.Node) string {
	at := n.Attr.(*ir.MoEAttr)
	x, r := n.Inputs[0], n.Inputs[1]
	if x.DType != tensor.F32 || r.DType != tensor.F32 || len(x.Shape) != 2 || len(r.Shape) != 2 {
		return "F32 tokens [T, D] and routing [T, E] only"
	}
	if at.Act != ir.OpSilu && at.Act != ir.OpGeluTanh && at.Act != ir.OpGeluErf {
		return "activation " + at.Act.String()
	}
	ws := n.Inputs[2:]
	groups := [][]*ir.Node{{ws[0]}, {ws[1]}, {ws[2]}}
	if at.PerExpert {
		e := len(ws) / 3
		groups = [][]*ir.Node{ws[:e], ws[e : 2*e], ws[2*e:]}
	}
	for _, g := range groups {
		for _, w := range g {
			if w.DType != g[0].DType || moeWeightType(w.DType) < 0 {
				return "expert weights of one type per matrix, F32/F16/BF16/Q4_0/Q8_0/Q4_K/Q5_K/Q6_K"
			}
			for _, d := range w.Shape {
				if _, ok := d.Const(); !ok {
					return "symbolic expert shapes"
				}
			}
		}
	}
	return ""
}

// moeTiledMin is the fewest tokens (of a chunk) that take the tiled
// kernels (a variable so that tests and benchmarks can move it).
var moeTiledMin = 8

type moeKernel struct {
	b         *Backend
	up, down  driver.Function
	upT, dnT  driver.Function // the tiled (prefill) kernels
	act       int
	perExpert bool
	E, F, D   int
	types     [3]tensor.DType
	table     driver.Ptr // 3·E expert pointers
	tableHost []byte     // what table holds
	h         driver.Ptr
	tcap      int
}

func (b *Backend) moe(n *ir.Node) (backend.Kernel, error) {
	at := n.Attr.(*ir.MoEAttr)
	k := &moeKernel{b: b, perExpert: at.PerExpert, act: map[ir.Op]int{ir.OpSilu: 0, ir.OpGeluTanh: 1, ir.OpGeluErf: 2}[at.Act]}
	var err error
	if k.up, err = b.ks.Func("moe_gate_up"); err != nil {
		return nil, err
	}
	if k.down, err = b.ks.Func("moe_down"); err != nil {
		return nil, err
	}
	if k.upT, err = b.ks.Func("moe_gate_up_tiled"); err != nil {
		return nil, err
	}
	if k.dnT, err = b.ks.Func("moe_down_tiled"); err != nil {
		return nil, err
	}
	ws := n.Inputs[2:]
	c := func(d ir.Dim) int { v, _ := d.Const(); return v }
	if at.PerExpert {
		k.E = len(ws) / 3
		k.F, k.D = c(ws[0].Shape[0]), c(ws[0].Shape[1])
		k.types = [3]tensor.DType{ws[0].DType, ws[k.E].DType, ws[2*k.E].DType}
	} else {
		k.E, k.F, k.D = c(ws[0].Shape[0]), c(ws[0].Shape[1]), c(ws[0].Shape[2])
		k.types = [3]tensor.DType{ws[0].DType, ws[1].DType, ws[2].DType}
	}
	if k.E <= 0 || k.F <= 0 || k.D <= 0 {
		return nil, fmt.Errorf("cuda: MoE of %d experts [%d, %d]", k.E, k.F, k.D)
	}
	per := int64(k.E) * int64(k.F) * 4
	k.tcap = int(min(max(1, moeScratch/per), 65535)) // gridDim.z
	alloc := func(n int64) (driver.Ptr, error) {
		p, err := b.ctx.Alloc(n)
		if err != nil {
			return 0, err
		}
		b.mu.Lock()
		b.owned = append(b.owned, p)
		b.mu.Unlock()
		return p, nil
	}
	if k.h, err = alloc(int64(k.tcap) * per); err != nil {
		return nil, err
	}
	if k.perExpert {
		if k.table, err = alloc(int64(3 * k.E * 8)); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// weights encodes gatherq.cu's MoEWeights for matrix i (0 gate, 1 up,
// 2 down): stacked experts by base and stride, per-expert ones through
// the pointer table.
func (k *moeKernel) weights(i int, base driver.Ptr, expertBytes int64) ([]byte, error) {
	dt := k.types[i]
	cols := k.D
	if i == 2 {
		cols = k.F
	}
	rb, err := dt.RowBytes(int64(cols))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 48)
	le := binary.LittleEndian
	if k.perExpert {
		le.PutUint64(buf[8:], uint64(k.table.Add(int64(i*k.E*8))))
	} else {
		le.PutUint64(buf, uint64(base))
		le.PutUint64(buf[16:], uint64(expertBytes))
	}
	le.PutUint64(buf[24:], uint64(rb))
	le.PutUint32(buf[32:], uint32(moeWeightType(dt)))
	le.PutUint32(buf[36:], uint32(dt.BlockSize()))
	le.PutUint32(buf[40:], uint32(dt.BlockBytes()))
	return buf, nil
}

func (k *moeKernel) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	scratchMu.Lock()
	defer scratchMu.Unlock()
	T := ins[0].Shape[0]
	if ins[0].Shape[1] != k.D || ins[1].Shape[1] != k.E {
		return fmt.Errorf("moe: tokens %v and routing %v for %d experts of [%d, %d]", ins[0].Shape, ins[1].Shape, k.E, k.F, k.D)
	}
	var w [3][]byte
	if k.perExpert {
		// The expert pointer table: uploaded when the views move (the
		// first run; weights do not move after).
		table := make([]byte, 3*k.E*8)
		for i := range 3 * k.E {
			binary.LittleEndian.PutUint64(table[i*8:], uint64(ps[2+i]))
		}
		if !bytes.Equal(table, k.tableHost) {
			if err := k.b.copyIn(k.table, table); err != nil {
				return err
			}
			k.tableHost = table
		}
	}
	for i := range w {
		var base driver.Ptr
		var per int64
		if !k.perExpert {
			base, per = ps[2+i], ins[2+i].Bytes()/int64(k.E)
		}
		if w[i], err = k.weights(i, base, per); err != nil {
			return err
		}
	}
	const warps = 8
	for t0 := 0; t0 < T; t0 += k.tcap {
		nt := min(k.tcap, T-t0)
		x, r, y := ps[0].Add(int64(t0*k.D*4)), ps[1].Add(int64(t0*k.E*4)), o.Add(int64(t0*k.D*4))
		if nt >= moeTiledMin {
			const tile = 128 // MOE_TILE in gatherq.cu
			tiles := (nt + tile - 1) / tile
			if err := k.b.ctx.Launch(k.upT, driver.Dim3{X: (k.F + warps - 1) / warps, Y: k.E, Z: tiles}, driver.Dim3{X: 32 * warps}, 0, k.b.stream,
				x, r, w[0], w[1], k.E, k.F, k.D, nt, k.act, k.h); err != nil {
				return err
			}
			if err := k.b.ctx.Launch(k.dnT, driver.Dim3{X: (k.D + warps - 1) / warps, Y: tiles}, driver.Dim3{X: 32 * warps}, 0, k.b.stream,
				r, w[2], k.h, y, k.E, k.F, k.D, nt); err != nil {
				return err
			}
			continue
		}
		if err := k.b.ctx.Launch(k.up, driver.Dim3{X: (k.F + warps - 1) / warps, Y: k.E, Z: nt}, driver.Dim3{X: 32 * warps}, 0, k.b.stream,
			x, r, w[0], w[1], k.E, k.F, k.D, k.act, k.h); err != nil {
			return err
		}
		if err := k.b.ctx.Launch(k.down, driver.Dim3{X: (k.D + warps - 1) / warps, Y: nt}, driver.Dim3{X: 32 * warps}, 0, k.b.stream,
			r, w[2], k.h, y, k.E, k.F, k.D); err != nil {
			return err
		}
	}
	return nil
}
