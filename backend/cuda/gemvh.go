package cuda

import (
	"encoding/binary"
	"math"
	"os"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/tensor"
)

// The decode GEMV of F16/BF16 weights (kernels/gemvh.cu): gemvh_*
// multiply M ≤ 2 f32 activation rows by 1–3 matrices in one launch, with
// an optional RMSNorm prologue, gate/up pair mode (silu(gate)·up) or
// addend. Lone GEMVs (nseg = 1) and fuse.go's groups share it, so a fused
// group computes every output with the arithmetic of its unfused launches.

// gemvHalf sends F16/BF16 decode GEMVs to gemvh_* (RLX_CUDA_GEMVH=0:
// the older gemv_<type>_r<R> kernels, and no F16/BF16 grouping in fuse.go).
var gemvHalf = os.Getenv("RLX_CUDA_GEMVH") != "0"

var gemvHalfWPR = envInt("RLX_CUDA_GEMVH_WPR", 0)

// gemvHalfPerSM caps the grid of a q/k/v launch with the RMSNorm prologue
// (gemvh_*n, no pair) at this many blocks a multiprocessor
// (RLX_CUDA_GEMVH_PERSM; -1, the default: as many as fit at once, 0: no
// cap). Row groups beyond the single wave become loop iterations of the
// resident blocks, which then compute the norm once instead of once per
// group (BenchmarkGEMVHalfGroup on the H100: Llama-3.2-1B's q/k/v 1594
// against 1312 GB/s, Qwen3-0.6B's 1273 against 1029). The gate/up pair
// measured slower on one wave (2186 against 2421) and lone GEMVs gain
// nothing: their entry points keep a block a group, without the loop's
// registers.
var gemvHalfPerSM = decEnv("RLX_CUDA_GEMVH_PERSM", -1)

// gemvHalfWarps is the warps gemvHalfShape aims to put on one matrix
// (RLX_CUDA_GEMVH_WARPS; 4096 takes the shapes of before the sweep).
var gemvHalfWarps = envInt("RLX_CUDA_GEMVH_WARPS", 16384)

const (
	hmSegs     = 3   // HM_SEGS in gemvh.cu
	hmMaxM     = 2   // HM_MAX_M
	hmSegSize  = 40  // sizeof(HMSeg)
	hmArgsSize = 184 // sizeof(HMArgs)
	hmThreads  = 256
)

// hmTypes are gemvh.cu's type codes.
var hmTypes = map[tensor.DType]int{tensor.F16: 0, tensor.BF16: 1}

// gemvHalfOK reports whether gemvh_* take an [n, k] weight of type dt
// with m activation rows.
func gemvHalfOK(dt tensor.DType, k, m int) bool {
	_, ok := hmTypes[dt]
	return gemvHalf && ok && m >= 1 && m <= hmMaxM && k > 0 && k%8 == 0
}

// gemvHalfShape picks the warps per row (1, 2, 4 or 8) and rows per
// 256-thread block for an [n, k] weight. More warps share a row while
// there are fewer than gemvHalfWarps warps on the matrix and each lane
// still gets at least four of the row's 16-byte chunks, or, below 4096
// warps, two; rows per block follow (one round of the block's warps).
// Measured on the H100 (BenchmarkGEMVHalf, BenchmarkGEMVHalfGroup):
// Llama-3.2-1B's down projection [2048, 8192] reads 2.35 TB/s at 8 warps
// a row against 1.78 at 2, its gate/up [8192, 2048] 2.4 at 2 against 2.0
// at 1, while its q [2048, 2048] is no faster at 4 than at 2 alone and
// 10% slower in the q/k/v launch. gemvHalfWPR overrides the warps per row
// when non-zero (RLX_CUDA_GEMVH_WPR).
func gemvHalfShape(n, k int) (warpsPerRow, rowsPerBlock int) {
	chunks := k / 8
	wpr := 1
	for wpr < 8 && n*wpr < gemvHalfWarps {
		lanes := 32 * wpr * 2 // after doubling
		if chunks < 4*lanes && (n*wpr >= 4096 || chunks < 2*lanes) {
			break
		}
		wpr *= 2
	}
	if gemvHalfWPR > 0 {
		wpr = gemvHalfWPR
	}
	return wpr, (hmThreads / 32) / wpr
}

// hmSeg is one matrix of a gemvh_* launch.
type hmSeg struct {
	w, y driver.Ptr
	n    int
	dt   tensor.DType
}

// hmLaunch is the encoded arguments (HMArgs) and grid of one launch.
type hmLaunch struct {
	args   []byte
	blocks int
}

// encodeHM lays out HMArgs for segs (pair: gate and up of one shape and
// type, act = silu(gate)·up).
func encodeHM(segs []hmSeg, x, nw, xn, act, add driver.Ptr, m, k int, eps float32, accumulate bool) hmLaunch {
	args := make([]byte, hmArgsSize)
	le := binary.LittleEndian
	blocks := 0
	for s, sg := range segs {
		wpr, rpb := gemvHalfShape(sg.n, k)
		o := s * hmSegSize
		le.PutUint64(args[o:], uint64(sg.w))
		le.PutUint64(args[o+8:], uint64(sg.y))
		le.PutUint32(args[o+16:], uint32(sg.n))
		le.PutUint32(args[o+20:], uint32(hmTypes[sg.dt]))
		le.PutUint32(args[o+24:], uint32(wpr))
		le.PutUint32(args[o+28:], uint32(rpb))
		le.PutUint32(args[o+32:], uint32(blocks))
		nb := (sg.n + rpb - 1) / rpb
		if act == 0 {
			blocks += nb
		} else if s == 0 {
			blocks = nb
		}
	}
	o := hmSegs * hmSegSize
	le.PutUint64(args[o:], uint64(x))
	le.PutUint64(args[o+8:], uint64(nw))
	le.PutUint64(args[o+16:], uint64(xn))
	le.PutUint64(args[o+24:], uint64(act))
	le.PutUint64(args[o+32:], uint64(add))
	le.PutUint32(args[o+40:], uint32(len(segs)))
	le.PutUint32(args[o+44:], uint32(m))
	le.PutUint32(args[o+48:], uint32(k))
	le.PutUint32(args[o+52:], math.Float32bits(eps))
	if accumulate {
		le.PutUint32(args[o+56:], 1)
	}
	le.PutUint32(args[o+60:], uint32(blocks))
	return hmLaunch{args: args, blocks: blocks}
}

// hmGrid is the grid of a gemvh_* launch of f over blocks row groups:
// for a q/k/v launch with the norm prologue (wave), at most one wave of
// resident blocks (gemvHalfPerSM), each looping over the groups it is
// given; otherwise a block a group (which entry points without the
// prologue require).
func (b *Backend) hmGrid(f driver.Function, blocks int, wave bool) int {
	if gemvHalfPerSM == 0 || !wave {
		return blocks
	}
	per, ok := b.hmResident.Load(f)
	if !ok {
		n, err := b.ctx.ActiveBlocks(f, hmThreads, 0)
		if err != nil || n < 1 {
			n = 1 // the occupancy query cannot fail for a loaded kernel; one a multiprocessor is always safe
		}
		per, _ = b.hmResident.LoadOrStore(f, n)
	}
	n := per.(int)
	if gemvHalfPerSM > 0 {
		n = min(n, gemvHalfPerSM)
	}
	return min(blocks, n*b.ctx.Device.SMs)
}

// gemvHalfName is the gemvh.cu entry point for m activation rows, pair
// mode (silu(gate)·up) and the RMSNorm prologue: each mode is compiled on
// its own, with the registers it needs.
func gemvHalfName(m int, pair, norm bool) string {
	name := "gemvh_2"
	if m == 1 {
		name = "gemvh_1"
	}
	if pair {
		name += "p"
	}
	if norm {
		name += "n"
	}
	return name
}

// launchGEMVHalf queues y[m, n] = (add or y, when accumulating) +
// x[m, :]·W[n, :] through gemvh_1 or gemvh_2 (one segment).
func (b *Backend) launchGEMVHalf(p *packed, w, x, y, add driver.Ptr, m int, accumulate bool) error {
	f := p.gemvH
	if m == 1 {
		f = p.gemvH1
	}
	l := encodeHM([]hmSeg{{w: w, y: y, n: p.n, dt: p.dt}}, x, 0, 0, 0, add, m, p.k, 0, accumulate)
	return b.ctx.LaunchDependent(f, driver.Dim3{X: l.blocks}, driver.Dim3{X: hmThreads}, 0, b.stream, l.args)
}
