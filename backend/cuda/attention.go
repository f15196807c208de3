package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Fused attention (kernels/attention.cu): this step's keys and values are
// written into the device KV cache (kv_store2, one launch for both), then attn_f32 runs a
// flash-style pass over the cache (or over uncached keys), split along the
// keys when the (batch, kv head, query block) units alone would leave most
// of the GPU idle (decode), and attn_combine merges the splits.

const (
	attnMaxHead   = 256      // ATT_MAX_D in attention.cu
	attnMaxWarps  = 16       // query slots run at once by a block
	attnShared    = 48 << 10 // static per-block shared memory limit
	attnScratchSz = 32 << 20 // split partials, shared by a backend's attentions
	attnArgsSize  = 176      // sizeof(AttnArgs): 172 bytes of fields, padded to 8
)

// attnSupports returns "" when attention node n runs on the device.
func attnSupports(n *ir.Node) string {
	at := n.Attr.(*ir.AttentionAttr)
	q, k, v := n.Inputs[0], n.Inputs[1], n.Inputs[2]
	if q.DType != tensor.F32 || k.DType != tensor.F32 || v.DType != tensor.F32 || n.DType != tensor.F32 {
		return "F32 queries, keys and values only"
	}
	if len(q.Shape) != 4 || len(k.Shape) != 4 || len(v.Shape) != 4 {
		return "rank-4 [batch, seq, heads, head_dim] tensors only"
	}
	d, okD := q.Shape[3].Const()
	dv, okV := v.Shape[3].Const()
	if !okD || !okV || d > attnMaxHead || dv > attnMaxHead || d <= 0 || dv <= 0 {
		return fmt.Sprintf("head sizes up to %d only", attnMaxHead)
	}
	if at.Window > 0 && !at.Causal {
		return "a sliding window needs causal attention"
	}
	if at.Masked {
		m := n.Inputs[3]
		if m.DType != tensor.F32 || len(m.Shape) > 4 {
			return "an F32 mask of rank ≤ 4 only"
		}
	}
	if at.Cached {
		end := len(n.Inputs)
		if at.PerRow {
			end--
			if pr := n.Inputs[end+0]; pr.DType != tensor.I32 {
				return "per-row pasts must be I32"
			}
		}
		kc, vc := n.Inputs[end-2], n.Inputs[end-1]
		if kc.DType != vc.DType || (kc.DType != tensor.F32 && kc.DType != tensor.F16) {
			return "KV caches must both be F32 or both F16"
		}
	}
	return ""
}

type attention struct {
	b        *Backend
	f, comb  driver.Function
	store    driver.Function
	at       ir.AttentionAttr
	dec      [4][3]driver.Function      // attn_dec_<lanes>_<rows>
	dec2     [4][3]driver.Function      // attn_dec2_<lanes>_<rows>
	mma      map[[3]int]driver.Function // attn_mma(h)_<head size>_<warps>, by (head size, warps, half)
	scratch  driver.Ptr
	scratchN int64
}

// scratches holds each backend's split buffer (freed with the backend's
// other Prepare allocations).
var scratches sync.Map // *Backend → driver.Ptr

// scratchMu is held while a kernel that uses a shared scratch (attention
// splits, MoE) queues its launches: sessions running at once on one
// stream then cannot interleave between a kernel's writes and its reads.
var scratchMu sync.Mutex

func (b *Backend) attention(n *ir.Node) (backend.Kernel, error) {
	k := &attention{b: b, at: *n.Attr.(*ir.AttentionAttr)}
	var err error
	if k.f, err = b.ks.Func("attn_f32"); err != nil {
		return nil, err
	}
	if k.comb, err = b.ks.Func("attn_combine"); err != nil {
		return nil, err
	}
	if k.store, err = b.ks.Func("kv_store2"); err != nil {
		return nil, err
	}
	if err := k.decFuncs(); err != nil {
		return nil, err
	}
	if err := k.mmaFuncs(); err != nil {
		return nil, err
	}
	// One scratch per backend, made before any run (so that a captured
	// decode step never allocates).
	if p, ok := scratches.Load(b); ok {
		k.scratch = p.(driver.Ptr)
	} else {
		p, err := b.ctx.Alloc(attnScratchSz)
		if err != nil {
			return nil, fmt.Errorf("cuda: attention scratch: %w", err)
		}
		// attn_dec's split counters (its last 64 KiB) start at zero, and
		// each launch leaves them so.
		if err := b.ctx.Memset(p, 0, attnScratchSz); err != nil {
			return nil, fmt.Errorf("cuda: attention scratch: %w", err)
		}
		b.mu.Lock()
		b.owned = append(b.owned, p)
		b.mu.Unlock()
		scratches.Store(b, p)
		k.scratch = p
	}
	k.scratchN = attnScratchSz - decCounterSize // the split partials' room
	return k, nil
}

// broadcastStrides gives the element strides of a tensor of shape in
// broadcast (aligned on the right) to out: 0 along broadcast dims.
func broadcastStrides(in, out []int) []int64 {
	st := make([]int64, len(out))
	s := int64(1)
	for i := len(in) - 1; i >= 0; i-- {
		j := len(out) - len(in) + i
		if in[i] != 1 && j >= 0 {
			st[j] = s
		}
		s *= int64(in[i])
	}
	return st
}

// Launch shape knobs (variables so that the benchmarks can compare
// settings): a block has at least attnMinWarps warps (those beyond the
// query slots only help load the key/value tiles), and the keys are split
// until there are about attnBlocksPerSM blocks per multiprocessor.
var (
	attnMinWarps    = 4
	attnBlocksPerSM = 4
)

// attnLayout picks the rows per block, warps and keys per tile for a
// launch: every query head of a kv group in one block, rows until 16
// warps, and the largest tile (multiple of 8, ≤ 64) whose K, V, Q and P
// buffers fit the shared memory.
func attnLayout(g, t, d, dv int) (rows, warps, tile, shared int) {
	rows = max(1, min(t, attnMaxWarps/g))
	warps = max(min(g*rows, attnMaxWarps), attnMinWarps)
	fixed := warps * (d + 64)
	for tile = 64; tile > 8; tile -= 8 {
		if 4*(tile*(d+1+dv)+fixed) <= attnShared {
			break
		}
	}
	return rows, warps, tile, 4 * (tile*(d+1+dv) + fixed)
}

func (k *attention) Run(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	scratchMu.Lock()
	defer scratchMu.Unlock()
	at := &k.at
	q, kk, vv := ins[0], ins[1], ins[2]
	B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	Hkv, Dv := kk.Shape[2], vv.Shape[3]
	if B == 0 || T == 0 || Hq == 0 {
		return nil
	}
	if Hkv == 0 || Hq%Hkv != 0 {
		return fmt.Errorf("attention: %d query heads over %d kv heads", Hq, Hkv)
	}
	qp, _, err := view(q)
	if err != nil {
		return err
	}
	kp, _, err := view(kk)
	if err != nil {
		return err
	}
	vp, _, err := view(vv)
	if err != nil {
		return err
	}
	op, _, err := view(out)
	if err != nil {
		return err
	}
	var (
		pastRows driver.Ptr
		past     int
		tkFixed  = -1
		keys     int // length of the key axis held (cache or keys)
		f16      int
		kb, vb   int64
	)
	if at.PerRow {
		if pastRows, _, err = view(ins[len(ins)-1]); err != nil {
			return err
		}
	} else if past, err = env.Dim(at.Past); err != nil {
		return err
	}
	if at.Cached {
		end := len(ins)
		if at.PerRow {
			end--
		}
		kc, vc := ins[end-2], ins[end-1]
		keys = kc.Shape[1]
		if !at.PerRow && (past < 0 || past+T > keys) {
			return fmt.Errorf("positions [%d, %d) exceed the KV cache of %d", past, past+T, keys)
		}
		if ok, err := k.decode(ins, out, kc, vc, qp, kp, vp, op, pastRows, past); ok || err != nil {
			return err
		}
		if kc.DType == tensor.F16 {
			f16 = 1
		}
		kcp, _, err := view(kc)
		if err != nil {
			return err
		}
		vcp, _, err := view(vc)
		if err != nil {
			return err
		}
		// Both caches in one launch.
		krow, vrow := int64(kc.Shape[2]*kc.Shape[3]), int64(vc.Shape[2]*vc.Shape[3])
		vec := kvStoreVec(krow, vrow, f16 == 1, kp, vp, kcp, vcp)
		if err := k.b.ctx.LaunchDependent(k.store, grid(int64(B*T)*(krow+vrow)/int64(vec)), driver.Dim3{X: 256}, 0, k.b.stream,
			kp, vp, kcp, vcp, f16, B, T, krow, vrow, int64(keys), past, pastRows, k.b.errFlag, vec); err != nil {
			return err
		}
		kp, _, _ = view(kc)
		vp, _, _ = view(vc)
		if f16 == 1 {
			if ok, err := k.prefillMMA(ins, qp, kp, vp, op, pastRows, past, keys); ok || err != nil {
				return err
			}
		}
		kb, vb = int64(keys*Hkv*D), int64(keys*Hkv*Dv)
	} else {
		keys = kk.Shape[1]
		tkFixed = keys
		kb, vb = int64(keys*Hkv*D), int64(keys*Hkv*Dv)
	}
	mp, ms, err := k.maskStrides(ins, B, Hq, T, keys, past)
	if err != nil {
		return err
	}
	g := Hq / Hkv
	rows, warps, tile, shared := attnLayout(g, T, D, Dv)
	qblocks := (T + rows - 1) / rows
	units := B * Hkv * qblocks
	splits, splitLen := 1, max(keys, 1)
	if target := attnBlocksPerSM * k.b.ctx.Device.SMs; units < target && keys > 128 {
		want := (target + units - 1) / units
		splitLen = (keys + want - 1) / want
		splitLen = max(64, (splitLen+63)/64*64)
		splits = (keys + splitLen - 1) / splitLen
		per := int64(B*T*Hq) * int64(Dv+2) * 4
		if int64(splits)*per > k.scratchN {
			splits = int(k.scratchN / per)
			if splits > 1 {
				splitLen = (keys + splits - 1) / splits
				splits = (keys + splitLen - 1) / splitLen
			}
		}
		if splits <= 1 {
			splits, splitLen = 1, max(keys, 1)
		}
	}
	args := make([]byte, attnArgsSize)
	le := binary.LittleEndian
	o := 0
	put64 := func(v uint64) { le.PutUint64(args[o:], v); o += 8 }
	put32 := func(v uint32) { le.PutUint32(args[o:], v); o += 4 }
	var part driver.Ptr
	if splits > 1 {
		part = k.scratch
	}
	for _, p := range []driver.Ptr{qp, kp, vp, mp, pastRows, op, part} {
		put64(uint64(p))
	}
	for _, v := range []int64{kb, vb, ms[0], ms[1], ms[2], ms[3]} {
		put64(uint64(v))
	}
	causal := 0
	if at.Causal {
		causal = 1
	}
	// Whole 16-byte words per row, and rows starting on them: vector loads.
	vec, per := 0, 4
	if f16 == 1 {
		per = 8
	}
	if D%per == 0 && Dv%per == 0 && kp%16 == 0 && vp%16 == 0 {
		vec = 1
	}
	for _, v := range []int{B, T, Hq, Hkv, D, Dv, past, tkFixed, causal, at.Window, f16, rows, tile, splitLen, vec} {
		put32(uint32(int32(v)))
	}
	put32(math.Float32bits(float32(at.Scale)))
	put32(math.Float32bits(float32(at.Softcap)))
	if o != attnArgsSize-4 {
		return fmt.Errorf("attention: argument block of %d bytes, want %d", o, attnArgsSize-4)
	}
	if err := k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: units, Y: splits}, driver.Dim3{X: 32 * warps}, shared, k.b.stream, args); err != nil {
		return err
	}
	if splits == 1 {
		return nil
	}
	nrows := int64(B * T * Hq)
	return k.b.ctx.LaunchDependent(k.comb, driver.Dim3{X: int(min(nrows, 65535))}, driver.Dim3{X: threadsFor(Dv)}, 0, k.b.stream,
		part, op, nrows, splits, Dv)
}

// maskStrides gives the mask's pointer and element strides over
// [B, Hq, T, keys] (null and zeros without a mask).
func (k *attention) maskStrides(ins []backend.Tensor, B, Hq, T, keys, past int) (driver.Ptr, [4]int64, error) {
	var ms [4]int64
	if !k.at.Masked {
		return 0, ms, nil
	}
	m := ins[3]
	mp, _, err := view(m)
	if err != nil {
		return 0, ms, err
	}
	tk := keys
	if k.at.Cached {
		tk = past + T
	}
	st := broadcastStrides(m.Shape, []int{B, Hq, T, tk})
	if tk > 1 && st[3] != 1 && st[3] != 0 {
		return 0, ms, fmt.Errorf("attention mask %v is not contiguous along keys", m.Shape)
	}
	copy(ms[:], st)
	return mp, ms, nil
}

// copyKernel is Assign (state ← value) and a Reshape that copies (a view
// of a state, kept from the start of the step): a device-to-device copy.
type copyKernel struct {
	b      *Backend
	assign bool
}

func (k *copyKernel) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	dst, src := out, ins[0]
	if k.assign {
		dst, src = ins[0], ins[1]
	}
	d, db, err := view(dst)
	if err != nil {
		return err
	}
	s, sb, err := view(src)
	if err != nil {
		return err
	}
	if db != sb {
		return fmt.Errorf("copy of %d bytes into %d", sb, db)
	}
	if db == 0 || d == s {
		return nil
	}
	return k.b.ctx.CopyDtoDAsync(d, s, db, k.b.stream)
}

// kvStoreVec is how many consecutive values of a row each kv_store2 thread
// stores: 4 when both rows are multiples of 4 and the step's keys/values
// (16-byte loads) and the caches (8-byte f16 or 16-byte f32 stores, at
// row starts that are multiples of 4 values) are aligned for it, else 1.
func kvStoreVec(krow, vrow int64, f16 bool, k, v, kc, vc driver.Ptr) int {
	align := driver.Ptr(16)
	if f16 {
		align = 8
	}
	if krow%4 != 0 || vrow%4 != 0 || k%16 != 0 || v%16 != 0 || kc%align != 0 || vc%align != 0 {
		return 1
	}
	return 4
}
