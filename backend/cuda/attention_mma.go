package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// Prefill attention on the tensor cores (kernels/attn_mma.cu): F16 caches,
// equal key and value head sizes of 64, 80, 96 or 128, more query rows per
// kv head than the decode kernel takes. F32 caches keep the exact CUDA-core
// kernel (attn_f32): their models are held to 1e-4 of the CPU's logits.
// The queries and softmax weights go through the tensor cores as two f16
// terms each (about f32 precision), or, with Options.HalfActivations, as
// one (attn_mmah_*: half the MMAs, the rounding the cache applies to K and
// V).

const mmaArgsSize = 152 // sizeof(MmaArgs)

// mmaMaxSplits is SMAX in attn_mma.cu's mma_merge.
const mmaMaxSplits = 8

var (
	// mmaOff sends prefills to attn_f32 (BenchmarkAttention compares).
	mmaOff = false
	// mmaLaunches counts attn_mma launches (tests check that prefills took it).
	mmaLaunches atomic.Int64
	// mmaWarps is the warps (16 query rows each) of an attn_mma block: 4,
	// or 2 (on the H100, 2 made the Qwen3-0.6B 512-token prefill 1.46×
	// slower although it doubles the blocks: 128 → 256 for 132 SMs).
	mmaWarps = 4
	// mmaSplitKeys is the fewest keys (a multiple of 64) of a piece when
	// a row block's key range is split over several blocks; 0 never
	// splits. RLX_CUDA_MMA_SPLIT overrides it (A/B runs).
	mmaSplitKeys = mmaSplitSetting()
	// mmaSplitAlways splits however many row blocks there are
	// (BenchmarkAttention compares).
	mmaSplitAlways = false
)

// mmaSplitSetting is RLX_CUDA_MMA_SPLIT (0 turns splitting off), else 128.
func mmaSplitSetting() int {
	if v, err := strconv.Atoi(os.Getenv("RLX_CUDA_MMA_SPLIT")); err == nil && v >= 0 {
		return v
	}
	return 128
}

// mmaSplits gives the key pieces per row block of a prefill of T rows
// (1: none): enough that a piece of the longest causal row block is about
// mmaSplitKeys keys (from T alone: a captured graph must not depend on the
// past), as long as the partials fit the scratch and the counters their area.
// Only launches of fewer than 1.5 row blocks per multiprocessor split: with
// more, the scheduler already fills the SMs around the long rows (H100,
// Llama-3.2-1B's 256 row blocks of a 512-token prefill: 63.5 µs unsplit,
// 64.8 split; Qwen3-0.6B's 128: 71.5 → 58.0 µs).
func (k *attention) mmaSplits(blocks, rows, d, t int) int {
	if mmaSplitKeys <= 0 || blocks*4 > decCounterSize || (!mmaSplitAlways && 2*blocks >= 3*k.b.ctx.Device.SMs) {
		return 1
	}
	s := min(mmaMaxSplits, (t+mmaSplitKeys-1)/mmaSplitKeys)
	for s > 1 && int64(blocks*s*rows*(d+2))*4 > k.scratchN {
		s--
	}
	return max(s, 1)
}

// mmaFuncs resolves attn_mma_<head size>_<warps>.
func (k *attention) mmaFuncs() error {
	k.mma = map[[3]int]driver.Function{}
	for _, d := range []int{64, 80, 96, 128} {
		for _, w := range []int{2, 4} {
			for half, name := range []string{"attn_mma", "attn_mmah"} {
				f, err := k.b.ks.Func(fmt.Sprintf("%s_%d_%d", name, d, w))
				if err != nil {
					return err
				}
				k.mma[[3]int{d, w, half}] = f
			}
		}
	}
	return nil
}

// prefillMMA runs the attention over the (already stored) F16 cache kc, vc
// as one attn_mma launch when it fits that kernel, reporting false
// otherwise, having launched nothing.
func (k *attention) prefillMMA(ins []backend.Tensor, qp, kp, vp, op, pastRows driver.Ptr, past, keys int) (bool, error) {
	at := &k.at
	q := ins[0]
	B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	Hkv, Dv := ins[1].Shape[2], ins[2].Shape[3]
	G := Hq / Hkv
	warps := mmaWarps
	half := 0
	if k.b.halfActs {
		half = 1
	}
	f, ok := k.mma[[3]int{D, warps, half}]
	if mmaOff || !ok || D != Dv || G*T <= decMaxRows {
		return false, nil
	}
	for _, p := range []driver.Ptr{qp, kp, vp, op} {
		if p%16 != 0 {
			return false, nil
		}
	}
	mp, ms, err := k.maskStrides(ins, B, Hq, T, keys, past)
	if err != nil {
		return false, err
	}
	args := make([]byte, mmaArgsSize)
	le := binary.LittleEndian
	o := 0
	put64 := func(v uint64) { le.PutUint64(args[o:], v); o += 8 }
	put32 := func(v uint32) { le.PutUint32(args[o:], v); o += 4 }
	rows := 16 * warps
	blocks := B * Hkv * ((G*T + rows - 1) / rows)
	splits := k.mmaSplits(blocks, rows, D, T)
	counters := k.scratch + driver.Ptr(k.scratchN)
	for _, p := range []driver.Ptr{qp, kp, vp, mp, pastRows, op, k.scratch, counters} {
		put64(uint64(p))
	}
	for _, v := range []int64{int64(keys * Hkv * D), ms[0], ms[1], ms[2], ms[3]} {
		put64(uint64(v))
	}
	causal := 0
	if at.Causal {
		causal = 1
	}
	minSplit := (max(mmaSplitKeys, 64) + 63) / 64 * 64
	for _, v := range []int{B, T, Hq, Hkv, past, causal, at.Window, minSplit, splits, 0} {
		put32(uint32(int32(v)))
	}
	put32(math.Float32bits(float32(at.Scale)))
	put32(math.Float32bits(float32(at.Softcap)))
	if o != mmaArgsSize {
		return false, fmt.Errorf("attention: tensor-core argument block of %d bytes, want %d", o, mmaArgsSize)
	}
	mmaLaunches.Add(1)
	return true, k.b.ctx.LaunchDependent(f, driver.Dim3{X: blocks * splits}, driver.Dim3{X: 32 * warps}, 0, k.b.stream, args)
}
