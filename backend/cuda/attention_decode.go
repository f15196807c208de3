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
	"github.com/rlx-go/rlx/tensor"
)

// Decode attention (kernels/attn_decode.cu): F16 caches and few query
// rows per kv head take one flash-decoding launch that also stores this
// step's keys and values; everything else runs kv_store2, then attn_mma
// (attention_mma.go) or attn_f32.

const (
	decArgsSize    = 184      // sizeof(DecArgs)
	decMaxRows     = 8        // query rows (T·G) per kv head
	decMaxSplits   = 64       // SMAX in attn_decode.cu
	decCounterSize = 64 << 10 // split counters at the end of the scratch
)

// Launch knobs (variables so that BenchmarkAttention can compare them):
// splits until about decBlocksPerSM blocks per multiprocessor, each of at
// least decMinSplit keys; decOff sends everything to attn_f32.
var (
	decBlocksPerSM = 2
	decMinSplit    = 64
	decOff         = false
	// decPrefetch has each block ask L2 for its cached rows before
	// RLX_GRID_WAIT (RLX_CUDA_DEC_PREFETCH=1). Off: on the H100 it moved
	// neither BenchmarkAttention (K/V already in L2 there) nor the decode
	// profile of Llama-3.2-1B (attention 275.0 vs 272.9 µs a step).
	decPrefetch = os.Getenv("RLX_CUDA_DEC_PREFETCH") == "1"
	// decWhole: key ranges of at most this many keys run in one block,
	// skipping the cross-block merge (RLX_CUDA_DEC_WHOLE, keys; 0: off).
	// BenchmarkAttention's perSM1/min128 (which also leaves Llama-3.2-1B's
	// 65 keys to one block) took 10.6 µs against 13.4 µs for two blocks at
	// past 64, while Qwen3-0.6B's shape did not move (10.5 µs either way);
	// with 128, Llama-3.2-1B Q4_K_M tg128 ran at 944 / 945 t/s against
	// 909 / 885 without (H100, interleaved, one machine start).
	decWhole = decWholeSetting()
	// decLaunches counts attn_dec launches (tests check that decode steps took it).
	decLaunches atomic.Int64

	// decMode picks the decode kernel (RLX_CUDA_DEC_V2): 2 (default)
	// attn_dec2, with blocks of decThreads threads (RLX_CUDA_DEC_THREADS;
	// capped at 128 where a block's partials would pass 32 KiB of shared
	// memory) and splits until about dec2PerSM blocks per multiprocessor
	// (RLX_CUDA_DEC_PERSM, rounded down so that no block waits for a second
	// wave); 0 attn_dec. H100, BenchmarkAttention (docs/PERFORMANCE.md):
	// 128 threads and 2 blocks per SM (attn_dec's launch shape) were at
	// least as fast as attn_dec at every past and shape measured; 256
	// threads and one block per SM were faster than that at pasts of
	// 128–1024 but slower at 1 and, reading device memory (ncu), at 4096.
	decMode    = decEnv("RLX_CUDA_DEC_V2", 2)
	decThreads = decEnv("RLX_CUDA_DEC_THREADS", 128)
	dec2PerSM  = decEnv("RLX_CUDA_DEC_PERSM", 2)
)

// decEnv is the non-negative integer in the environment variable name, else def.
func decEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// decWholeSetting is RLX_CUDA_DEC_WHOLE (keys), else 128.
func decWholeSetting() int { return decEnv("RLX_CUDA_DEC_WHOLE", 128) }

// decFuncs resolves the decode kernels (attn_dec and attn_dec2), indexed
// by [log2(lanes per key)-2][rows index].
func (k *attention) decFuncs() error {
	for i, lk := range []int{4, 8, 16, 32} {
		for j, rm := range []int{2, 4, 8} {
			f, err := k.b.ks.Func(fmt.Sprintf("attn_dec_%d_%d", lk, rm))
			if err != nil {
				return err
			}
			k.dec[i][j] = f
			if f, err = k.b.ks.Func(fmt.Sprintf("attn_dec2_%d_%d", lk, rm)); err != nil {
				return err
			}
			k.dec2[i][j] = f
		}
	}
	return nil
}

// decShape is the launch of a decode step of units (batch row, kv head)
// pairs: splits per unit and threads per block.
func (k *attention) decShape(units, lk, rm int) (splits, threads int) {
	sms := k.b.ctx.Device.SMs
	if decMode == 0 {
		return min(decMaxSplits, max(1, (decBlocksPerSM*sms+units-1)/units)), 128
	}
	threads = min(max(decThreads/32*32, 64), 256)
	if rm*lk > 128 {
		threads = min(threads, 128) // attn_dec2's shared partials
	}
	return min(decMaxSplits, max(1, dec2PerSM*sms/units)), threads
}

// decode runs the attention as one attn_dec launch when it fits that
// kernel (reporting false otherwise, having launched nothing).
func (k *attention) decode(ins []backend.Tensor, out, kc, vc backend.Tensor, qp, kp, vp, op, pastRows driver.Ptr, past int) (bool, error) {
	at := &k.at
	q := ins[0]
	B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	Hkv, Dv, Sk := ins[1].Shape[2], ins[2].Shape[3], kc.Shape[1]
	G := Hq / Hkv
	units := B * Hkv
	if decOff || kc.DType != tensor.F16 || D != Dv || D%8 != 0 || D > 256 || G*T > decMaxRows ||
		units*4 > decCounterSize {
		return false, nil
	}
	cp, _, err := view(kc)
	if err != nil {
		return false, err
	}
	cv, _, err := view(vc)
	if err != nil {
		return false, err
	}
	for _, p := range []driver.Ptr{qp, kp, vp, op, cp, cv} {
		if p%16 != 0 {
			return false, nil
		}
	}
	rm, ri := 2, 0
	for rm < G*T {
		rm, ri = rm*2, ri+1
	}
	lk, li := 4, 0
	for lk < D/8 {
		lk, li = lk*2, li+1
	}
	splits, threads := k.decShape(units, lk, rm)
	partBytes := int64(units*splits*rm*(D+2)) * 4
	for splits > 1 && partBytes > k.scratchN {
		splits /= 2
		partBytes = int64(units*splits*rm*(D+2)) * 4
	}
	mp, ms, err := k.maskStrides(ins, B, Hq, T, Sk, past)
	if err != nil {
		return false, err
	}
	args := make([]byte, decArgsSize)
	le := binary.LittleEndian
	o := 0
	put64 := func(v uint64) { le.PutUint64(args[o:], v); o += 8 }
	put32 := func(v uint32) { le.PutUint32(args[o:], v); o += 4 }
	counters := k.scratch + driver.Ptr(k.scratchN)
	for _, p := range []driver.Ptr{qp, kp, vp, cp, cv, mp, pastRows, op, k.scratch, counters, k.b.errFlag} {
		put64(uint64(p))
	}
	for _, v := range []int64{int64(Sk * Hkv * D), ms[0], ms[1], ms[2], ms[3]} {
		put64(uint64(v))
	}
	causal := 0
	if at.Causal {
		causal = 1
	}
	for _, v := range []int{B, T, Hq, Hkv, D, past, Sk, causal, at.Window, decMinSplit} {
		put32(uint32(int32(v)))
	}
	put32(math.Float32bits(float32(at.Scale)))
	put32(math.Float32bits(float32(at.Softcap)))
	prefetch := 0
	if decPrefetch {
		prefetch = 1
	}
	put32(uint32(prefetch))
	put32(uint32(decWhole))
	if o != decArgsSize {
		return false, fmt.Errorf("attention: decode argument block of %d bytes, want %d", o, decArgsSize)
	}
	decLaunches.Add(1)
	f := k.dec[li][ri]
	if decMode != 0 {
		f = k.dec2[li][ri]
	}
	return true, k.b.ctx.LaunchDependent(f, driver.Dim3{X: units, Y: splits}, driver.Dim3{X: threads}, 0, k.b.stream, args)
}
