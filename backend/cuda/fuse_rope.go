package cuda

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// The q/k RMSNorm → RoPE fusion of the pass (fuse.go): rmsnorm_rope_f32
// for decode steps, rmsnorm_rope_rows_f32 for prefill.

// fuseMaxTokens is the most tokens (batch × tokens) of q/k that the norm
// and RoPE fusion runs with rmsnorm_rope_f32 (a block per head row, the
// decode kernel); more go to rmsnorm_rope_rows_f32 when the head size is at
// most normRoPERowsMaxD (fuseRoPERows), else to rmsnorm_rope_f32 too.
const fuseMaxTokens = 4

// rmsnorm_rope_rows_f32's launch: kernels/rope.cu's NR_MAXD, NR_WARPS·32
// threads and NR_MAXTPB tokens per block at most.
const (
	normRoPERowsMaxD    = 256
	normRoPERowsThreads = 256
	normRoPERowsMaxTPB  = 8
)

// normRoPETokensPerBlock is how many tokens a block of rmsnorm_rope_rows_f32
// takes, for rowsPerToken head rows (q's and k's) of each: enough for about
// two rows per warp (Qwen3-0.6B's 24 heads: one token a block; a single
// 2-head side: 8), within the kernel's (cos, sin) table of
// normRoPERowsMaxTPB·128 pairs.
func normRoPETokensPerBlock(rowsPerToken, pairs int) int {
	tpb := (2*normRoPERowsThreads/32 + rowsPerToken - 1) / max(rowsPerToken, 1)
	tpb = min(max(tpb, 1), normRoPERowsMaxTPB)
	for tpb > 1 && tpb*pairs > normRoPERowsMaxTPB*normRoPERowsMaxD/2 {
		tpb--
	}
	return tpb
}

// normRoPE is an rmsnorm_rope_f32 launch with its arguments made once.
type normRoPE struct {
	name    string // for the profile
	b       *Backend
	f       driver.Function
	blocks  int
	threads int
	args    []any
}

func (k *normRoPE) fusedName() string { return k.name }

func (k *normRoPE) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.blocks}, driver.Dim3{X: k.threads}, 0, k.b.stream, k.args...)
}

// normRoPESide is one tensor of a norm → RoPE pair; norm is nil for a
// RoPE alone.
type normRoPESide struct {
	norm *backend.Launch
	rope backend.Launch
	eps  float32
}

// fuseNormRoPE matches up to two RMSNorms followed by up to two RoPEs, each
// norm feeding one of the RoPEs (Qwen3's q and k: norm, norm, RoPE, RoPE;
// Llama's q and k: RoPE, RoPE; or one norm → RoPE), at ls[i], and makes
// them one rmsnorm_rope_f32 launch (for a single RoPE alone, a dependent
// launch of the same work).
func (b *Backend) fuseNormRoPE(ls []backend.Launch, i int) (backend.Launch, int) {
	if fuseMode&fuseRoPE == 0 {
		return backend.Launch{}, 0
	}
	j := i
	var norms []int
	for j < len(ls) && len(norms) < 2 {
		if _, ok := ls[j].Kernel.(*rmsnorm); !ok || len(ls[j].Ins) < 2 {
			break
		}
		norms = append(norms, j)
		j++
	}
	var ropes []int
	for j < len(ls) && len(ropes) < 2 {
		if _, ok := ls[j].Kernel.(*rope); !ok || len(ls[j].Ins) < 3 {
			break
		}
		ropes = append(ropes, j)
		j++
	}
	if len(ropes) == 0 {
		return backend.Launch{}, 0
	}
	used := make([]bool, len(norms))
	var sides []normRoPESide
	for _, r := range ropes {
		sd := normRoPESide{rope: ls[r]}
		for ni, n := range norms {
			if !used[ni] && sameView(ls[r].Ins[0], ls[n].Out) {
				sd.norm, sd.eps, used[ni] = &ls[n], ls[n].Kernel.(*rmsnorm).eps, true
				break
			}
		}
		sides = append(sides, sd)
	}
	for _, u := range used {
		if !u { // a norm that feeds something else
			return backend.Launch{}, 0
		}
	}
	r0 := sides[0].rope
	at := r0.Kernel.(*rope).at
	rsh := r0.Out.Shape
	if len(rsh) != 4 || len(r0.Ins[1].Shape) == 0 || len(r0.Ins[1].Shape) > 2 {
		return backend.Launch{}, 0
	}
	d := rsh[3]
	tokens := rsh[0] * rsh[1]
	if d <= 0 || d > 1024 || at.RotaryDim <= 0 || at.RotaryDim > d || at.RotaryDim%2 != 0 || tokens < 1 ||
		(tokens > fuseMaxTokens && fuseMode&fuseRoPERows == 0) {
		return backend.Launch{}, 0
	}
	var reads, writes, inPlace []backend.Tensor
	reads = append(reads, r0.Ins[1], r0.Ins[2])
	for _, s := range sides {
		rs := s.rope.Out.Shape
		ra := s.rope.Kernel.(*rope).at
		if ra != at || len(rs) != 4 || rs[0] != rsh[0] || rs[1] != rsh[1] || rs[3] != d ||
			!sameView(s.rope.Ins[1], r0.Ins[1]) || !sameView(s.rope.Ins[2], r0.Ins[2]) ||
			s.rope.Ins[0].Bytes() != s.rope.Out.Bytes() || s.rope.Ins[1].DType != r0.Ins[1].DType {
			return backend.Launch{}, 0
		}
		if s.norm != nil {
			if s.norm.Ins[0].Bytes() != s.norm.Out.Bytes() || s.norm.Ins[1].Bytes() != int64(d)*4 {
				return backend.Launch{}, 0
			}
			reads = append(reads, s.norm.Ins[0], s.norm.Ins[1])
		} else {
			reads = append(reads, s.rope.Ins[0])
		}
	}
	n := j - i
	group := ls[i:j]
	writeXN := make([]bool, len(sides))
	for si, s := range sides {
		src := s.rope.Ins[0] // the row the block reads
		if s.norm != nil {
			src = s.norm.Ins[0]
		}
		writes = append(writes, s.rope.Out)
		inPlace = append(inPlace, src)
		if s.norm == nil {
			continue
		}
		// The norm's output, unless dead or the RoPE overwrites it anyway.
		writeXN[si] = !released(group, s.norm.Out) && !sameView(s.norm.Out, s.rope.Out)
		if writeXN[si] {
			writes = append(writes, s.norm.Out)
			inPlace = append(inPlace, src)
		} else if overlap(s.norm.Out, s.rope.Out) && !sameView(s.norm.Out, s.rope.Out) {
			return backend.Launch{}, 0
		}
	}
	if !hazardFree(writes, reads, inPlace) {
		return backend.Launch{}, 0
	}
	ok := true
	ptr := viewPtr(&ok)
	le := binary.LittleEndian
	enc := func(si int) ([]byte, int64, float32) {
		buf := make([]byte, 48)
		if si >= len(sides) {
			le.PutUint64(buf[40:], 1)
			return buf, 0, 0
		}
		s := sides[si]
		rs := s.rope.Out.Shape
		if s.norm == nil {
			le.PutUint64(buf[0:], uint64(ptr(s.rope.Ins[0])))
		} else {
			le.PutUint64(buf[0:], uint64(ptr(s.norm.Ins[0])))
			le.PutUint64(buf[8:], uint64(ptr(s.norm.Ins[1])))
		}
		if writeXN[si] {
			le.PutUint64(buf[16:], uint64(ptr(s.norm.Out)))
		}
		le.PutUint64(buf[24:], uint64(ptr(s.rope.Out)))
		rows := int64(rs[0]) * int64(rs[1]) * int64(rs[2])
		le.PutUint64(buf[32:], uint64(rows))
		le.PutUint64(buf[40:], uint64(rs[2]))
		return buf, rows, s.eps
	}
	qa, qrows, qeps := enc(0)
	ka, krows, keps := enc(1)
	pos, inv := ptr(r0.Ins[1]), ptr(r0.Ins[2])
	if !ok || qrows+krows > math.MaxInt32 {
		return backend.Launch{}, 0
	}
	f, err := b.ks.Func("rmsnorm_rope_f32")
	if err != nil {
		return backend.Launch{}, 0
	}
	posRows := int64(0)
	if ps := r0.Ins[1].Shape; len(ps) == 2 {
		posRows = int64(ps[0])
	}
	pos64, inter := 0, 0
	if r0.Ins[1].DType == tensor.I64 {
		pos64 = 1
	}
	if at.Layout == ir.RoPEInterleaved {
		inter = 1
	}
	name := fmt.Sprintf("RoPE×%d", len(sides))
	if len(norms) > 0 {
		name = fmt.Sprintf("RMSNorm×%d+%s", len(norms), name)
	}
	kern := &normRoPE{name: name, b: b, f: f, blocks: int(qrows + krows), threads: threadsFor(d),
		args: []any{qa, ka, pos, pos64, posRows, inv, int64(rsh[1]), d, at.RotaryDim, inter, float32(at.Scale), qeps, keps}}
	if tokens > fuseMaxTokens && d <= normRoPERowsMaxD {
		// Prefill: a warp per row, a block per few tokens sharing the
		// (cos, sin) of each pair across heads.
		if f, err = b.ks.Func("rmsnorm_rope_rows_f32"); err != nil {
			return backend.Launch{}, 0
		}
		tpb := normRoPETokensPerBlock(int(qrows+krows)/tokens, at.RotaryDim/2)
		kern.f, kern.threads, kern.blocks = f, normRoPERowsThreads, (tokens+tpb-1)/tpb
		kern.args = []any{qa, ka, pos, pos64, posRows, inv, int64(rsh[1]), int64(tokens), tpb, d, at.RotaryDim, inter,
			float32(at.Scale), qeps, keps}
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, n
}
