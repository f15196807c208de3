package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// openInternal opens a backend on device 0, or skips without a GPU.
func openInternal(tb testing.TB) *Backend {
	tb.Helper()
	if err := driver.Init(); err != nil {
		tb.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		tb.Skipf("no CUDA device (%v)", err)
	}
	be, err := New(Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := be.Close(); err != nil {
			tb.Error(err)
		}
	})
	return be
}

// devBytes copies b to a new device buffer (freed at the test's end).
func devBytes(tb testing.TB, be *Backend, b []byte) driver.Ptr {
	tb.Helper()
	p, err := be.ctx.Alloc(int64(max(len(b), 16)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { be.ctx.Free(p) })
	if len(b) > 0 {
		if err := be.ctx.CopyHtoD(p, b); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func readF32(tb testing.TB, be *Backend, p driver.Ptr, n int) []float32 {
	tb.Helper()
	b := make([]byte, 4*n)
	if err := be.ctx.CopyDtoH(b, p); err != nil {
		tb.Fatal(err)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// halfWeight is a random [n, k] weight of type dt, as stored and as the
// values it holds.
func halfWeight(tb testing.TB, rng *rand.Rand, dt tensor.DType, n, k int) ([]byte, []float32) {
	tb.Helper()
	wf := make([]float32, n*k)
	for i := range wf {
		wf[i] = float32(rng.NormFloat64())
	}
	b := make([]byte, 2*n*k)
	if err := quant.Quantize(dt, b, wf); err != nil {
		tb.Fatal(err)
	}
	if err := quant.Dequantize(dt, wf, b); err != nil {
		tb.Fatal(err)
	}
	return b, wf
}

// TestGEMVHalf checks the gemvh_* kernels against a float64 reference: lone GEMVs
// (plain, with an addend, accumulating), 1–3 matrices with and without the
// RMSNorm prologue (and its stored output), and the gate/up pair writing
// silu(gate)·up, for F16 and BF16 at awkward sizes, one and two rows; with
// the prologue, on a grid of one block per row group, hmGrid's resident
// wave or three blocks looping over every group (across segments).
func TestGEMVHalf(t *testing.T) {
	be := openInternal(t)
	rng := rand.New(rand.NewPCG(41, 7))
	type mode struct {
		name               string
		nseg               int
		norm, add, acc, pr bool
	}
	modes := []mode{
		{name: "lone", nseg: 1}, {name: "addend", nseg: 1, add: true}, {name: "accumulate", nseg: 1, acc: true},
		{name: "norm", nseg: 1, norm: true}, {name: "qkv", nseg: 3}, {name: "norm+qkv", nseg: 3, norm: true},
		{name: "pair", nseg: 2, pr: true}, {name: "norm+pair", nseg: 2, norm: true, pr: true},
	}
	shapes := [][2]int{{1, 64}, {37, 192}, {259, 320}, {4301, 64 * 33}, {13, 64 * 129}, {600, 64 * 7}}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		for si, sh := range shapes {
			for mi, md := range modes {
				if (si+mi)%2 == 1 && sh[0] > 1000 {
					continue // the largest shape on half the modes
				}
				for _, m := range []int{1, 2} {
					grid := (si + mi + m) % 3
					if !md.norm || md.pr {
						grid = 0 // only q/k/v with the prologue loop over groups
					}
					name := fmt.Sprintf("%v/%dx%d/%s/m%d/grid%d", dt, sh[0], sh[1], md.name, m, grid)
					t.Run(name, func(t *testing.T) {
						testGEMVHalfCase(t, be, rng, name, dt, sh[0], sh[1], m, md.nseg, md.norm, md.add, md.acc, md.pr, grid)
					})
				}
			}
		}
	}
}

// testGEMVHalfCase runs one case; grid 0 launches a block per row group,
// 1 hmGrid's grid, 2 three blocks.
func testGEMVHalfCase(t *testing.T, be *Backend, rng *rand.Rand, name string, dt tensor.DType, n, k, m, nseg int, norm, add, acc, pair bool, grid int) {
	ns := make([]int, nseg)
	for s := range ns {
		ns[s] = n
		if !pair && s > 0 {
			ns[s] = max(1, n/(s+1)+s) // q/k/v of different heights
		}
	}
	x := make([]float32, m*k)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
	}
	nw := make([]float32, k)
	for i := range nw {
		nw[i] = float32(0.5 + rng.Float64())
	}
	const eps = 1e-6
	// The activations the GEMVs see, in float64 (the norm as rmsnorm_f32
	// rounds it, in float32, is within a few ulps of this).
	xr := make([]float64, m*k)
	for r := range m {
		scale := 1.0
		if norm {
			ss := 0.0
			for _, v := range x[r*k : (r+1)*k] {
				ss += float64(v) * float64(v)
			}
			scale = 1 / math.Sqrt(ss/float64(k)+eps)
		}
		for i := range k {
			xr[r*k+i] = float64(x[r*k+i]) * scale
			if norm {
				xr[r*k+i] *= float64(nw[i])
			}
		}
	}
	segs := make([]hmSeg, nseg)
	ref := make([][]float64, nseg)
	bound := make([][]float64, nseg) // Σ|w·x|, for the tolerance
	var init []float32
	for s := range segs {
		wb, wf := halfWeight(t, rng, dt, ns[s], k)
		segs[s] = hmSeg{w: devBytes(t, be, wb), n: ns[s], dt: dt}
		ref[s] = make([]float64, m*ns[s])
		bound[s] = make([]float64, m*ns[s])
		// Rows in parallel: the largest cases are ~10⁸ products.
		var wg sync.WaitGroup
		for r := range m {
			for j0 := 0; j0 < ns[s]; j0 += 256 {
				wg.Go(func() {
					for j := j0; j < min(j0+256, ns[s]); j++ {
						var d, a float64
						for i := range k {
							p := float64(wf[j*k+i]) * xr[r*k+i]
							d += p
							a += math.Abs(p)
						}
						ref[s][r*ns[s]+j], bound[s][r*ns[s]+j] = d, a
					}
				})
			}
		}
		wg.Wait()
		if s == 0 && (add || acc) {
			init = make([]float32, m*ns[0])
			for i := range init {
				init[i] = float32(rng.NormFloat64())
				ref[0][i] += float64(init[i])
				bound[0][i] += math.Abs(float64(init[i]))
			}
		}
		y := make([]float32, m*ns[s])
		if s == 0 && acc {
			copy(y, init)
		}
		segs[s].y = devBytes(t, be, f32Bytes(y))
	}
	px := devBytes(t, be, f32Bytes(x))
	var pnw, pxn, pact, padd driver.Ptr
	if norm {
		pnw = devBytes(t, be, f32Bytes(nw))
		pxn = devBytes(t, be, make([]byte, 4*m*k))
	}
	if pair {
		pact = devBytes(t, be, make([]byte, 4*m*n))
	}
	if add {
		padd = devBytes(t, be, f32Bytes(init))
	}
	f, err := be.ks.Func(gemvHalfName(m, pair, norm))
	if err != nil {
		t.Fatal(err)
	}
	l := encodeHM(segs, px, pnw, pxn, pact, padd, m, k, eps, acc)
	blocks := l.blocks
	switch grid {
	case 1:
		blocks = be.hmGrid(f, l.blocks, true)
		if per, err := be.ctx.ActiveBlocks(f, hmThreads, 0); err != nil || per < 1 || per > 2048/hmThreads || blocks > l.blocks || blocks < min(l.blocks, be.ctx.Device.SMs) {
			t.Fatalf("%s: %d blocks resident a multiprocessor (%v), grid %d of %d groups", name, per, err, blocks, l.blocks)
		}
	case 2:
		blocks = min(blocks, 3)
	}
	if err := be.ctx.LaunchDependent(f, driver.Dim3{X: blocks}, driver.Dim3{X: hmThreads}, 0, be.stream, l.args); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := be.ctx.Synchronize(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// f32 products summed in f32: error ≲ (a few ·K/32 + 8)·2⁻²⁴·Σ|w·x|,
	// plus the normalized activations' own rounding.
	tol := func(b float64) float64 { return (float64(k)/8 + 64) * 6e-8 * b }
	for s := range segs {
		got := readF32(t, be, segs[s].y, m*ns[s])
		for i, g := range got {
			if e := math.Abs(float64(g) - ref[s][i]); !(e <= tol(bound[s][i])+1e-30) {
				t.Fatalf("%s seg %d: y[%d] = %g, want %g (error %.3g, bound %.3g)", name, s, i, g, ref[s][i], e, tol(bound[s][i]))
			}
		}
	}
	if pair {
		got := readF32(t, be, pact, m*n)
		for i, g := range got {
			gv, uv := ref[0][i], ref[1][i]
			want := gv / (1 + math.Exp(-gv)) * uv
			b := 1.2*tol(bound[0][i])*math.Abs(uv) + tol(bound[1][i])*math.Abs(gv) + 1e-6*math.Abs(want)
			if e := math.Abs(float64(g) - want); !(e <= b+1e-30) {
				t.Fatalf("%s: act[%d] = %g, want %g (error %.3g, bound %.3g)", name, i, g, want, e, b)
			}
		}
	}
	if norm {
		got := readF32(t, be, pxn, m*k)
		for i, g := range got {
			if e := math.Abs(float64(g) - xr[i]); e > 4e-7*math.Abs(xr[i])+1e-30 {
				t.Fatalf("%s: xn[%d] = %g, want %g", name, i, g, xr[i])
			}
		}
	}
}

// BenchmarkGEMVHalf times lone F16/BF16 decode GEMVs (weights rotated
// through more than the L2 holds): "old" is the gemv_<type>_r<R> kernel
// (RLX_CUDA_GEMVH=0), "auto" gemvh_1 or gemvh_2 with gemvHalfShape's warps per
// row, wN with N warps per row. GB/s counts the weight bytes.
func BenchmarkGEMVHalf(b *testing.B) {
	be := openInternal(b)
	const poolBytes = 1 << 30
	pool := weightPool(b, be, poolBytes)
	x := devBytes(b, be, make([]byte, 2*8192*4))
	if err := be.ctx.Memset(x, 0x3c, 2*8192*4); err != nil {
		b.Fatal(err)
	}
	y := devBytes(b, be, make([]byte, 2*151936*4))
	shapes := [][2]int{{8192, 2048}, {2048, 8192}, {2048, 2048}, {512, 2048}, {128256, 2048}, {151936, 1024}, {3072, 1024}, {1024, 3072}}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		for _, sh := range shapes {
			for _, v := range []string{"old", "auto", "w1", "w2", "w4", "w8"} {
				for _, m := range []int{1, 2} {
					if (dt == tensor.BF16 || m == 2) && v != "old" && v != "auto" {
						continue
					}
					b.Run(fmt.Sprintf("%v/%dx%d/%s/m%d", dt, sh[0], sh[1], v, m), func(b *testing.B) {
						defer func(on bool, w int) { gemvHalf, gemvHalfWPR = on, w }(gemvHalf, gemvHalfWPR)
						gemvHalf = v != "old"
						if len(v) == 2 && v[0] == 'w' {
							gemvHalfWPR = int(v[1] - '0')
						}
						ws, stored := rotated(b, be, pool, poolBytes, dt, sh[0], sh[1])
						ms := gpuTime(b, be, b.N, func(i int) error {
							p := ws[i%len(ws)]
							return be.launchGEMV(p, p.w, x, y, m, false)
						})
						us := ms * 1e3 / float64(b.N)
						b.ReportMetric(us, "us/call")
						b.ReportMetric(float64(stored)/(us*1e-6)/1e9, "GB/s")
					})
				}
			}
		}
	}
}

// TestGEMVHalfShape pins gemvHalfShape's launch shapes for the decode
// matrices of Llama-3.2-1B and Qwen3-0.6B (no GPU needed).
func TestGEMVHalfShape(t *testing.T) {
	for _, c := range []struct{ n, k, wpr, rpb int }{
		{8192, 2048, 2, 4}, {2048, 8192, 8, 1}, {2048, 2048, 2, 4}, {512, 2048, 4, 2},
		{128256, 2048, 1, 8}, {151936, 1024, 1, 8}, {3072, 1024, 2, 4}, {1024, 3072, 4, 2}, {13, 64 * 129, 8, 1},
	} {
		if w, r := gemvHalfShape(c.n, c.k); w != c.wpr || r != c.rpb {
			t.Errorf("%dx%d: %d warps a row, %d rows a block; want %d, %d", c.n, c.k, w, r, c.wpr, c.rpb)
		}
	}
	l := encodeHM([]hmSeg{{n: 100, dt: tensor.F16}, {n: 30, dt: tensor.BF16}}, 1, 0, 0, 0, 0, 2, 2048, 0, false)
	if len(l.args) != hmArgsSize || l.blocks != 100/2+(30+1)/2 {
		t.Errorf("encodeHM: %d bytes, %d blocks", len(l.args), l.blocks)
	}
}

// BenchmarkGEMVHalfGroup times the fused F16 decode launches of a layer
// (fuse.go's groups, one activation row): RMSNorm + q/k/v, and RMSNorm +
// gate/up + SiLU·up, for the shapes of Llama-3.2-1B and Qwen3-0.6B, each
// launch on its own copy of the weights (more than the L2 holds in all).
// The wN variants set the warps per row (RLX_CUDA_GEMVH_WPR); "nonorm"
// leaves the RMSNorm prologue out. "auto" takes hmGrid's grid (one wave
// of resident blocks for q/k/v with the prologue), "full" a block a row
// group, "waveN" at most N blocks a multiprocessor (q/k/v only).
func BenchmarkGEMVHalfGroup(b *testing.B) {
	be := openInternal(b)
	const poolBytes = 1 << 30
	pool := weightPool(b, be, poolBytes)
	const k0 = 8192
	x := devBytes(b, be, make([]byte, 4*k0))
	nw := devBytes(b, be, make([]byte, 4*k0))
	for _, p := range []driver.Ptr{x, nw} {
		if err := be.ctx.Memset(p, 0x3c, 4*k0); err != nil {
			b.Fatal(err)
		}
	}
	y := devBytes(b, be, make([]byte, 3*4*16384))
	for _, c := range []struct {
		name string
		ns   []int
		k    int
		pair bool
	}{
		{"llama/qkv", []int{2048, 512, 512}, 2048, false},
		{"llama/gateup", []int{8192, 8192}, 2048, true},
		{"qwen3/qkv", []int{2048, 1024, 1024}, 1024, false},
		{"qwen3/gateup", []int{3072, 3072}, 1024, true},
	} {
		for _, v := range []string{"auto", "full", "w1", "w2", "w4", "w8", "nonorm", "wave2", "wave3"} {
			if c.pair && v[:2] == "wa" {
				continue
			}
			b.Run(c.name+"/"+v, func(b *testing.B) {
				defer func(w, p int) { gemvHalfWPR, gemvHalfPerSM = w, p }(gemvHalfWPR, gemvHalfPerSM)
				switch {
				case v == "full":
					gemvHalfPerSM = 0
				case len(v) == 5 && v[:4] == "wave":
					gemvHalfPerSM = int(v[4] - '0')
				case v[0] == 'w':
					gemvHalfWPR = int(v[1] - '0')
				}
				wave := v != "nonorm" && !c.pair
				set := int64(0)
				for _, n := range c.ns {
					set += int64(n) * int64(c.k) * 2
				}
				copies := min(poolBytes/set, (300<<20+set-1)/set)
				if copies < 2 {
					b.Skipf("%d MB a set", set>>20)
				}
				norm := v != "nonorm"
				f, err := be.ks.Func(gemvHalfName(1, c.pair, norm))
				if err != nil {
					b.Fatal(err)
				}
				var act driver.Ptr
				if c.pair {
					act = y.Add(2 * 4 * 16384)
				}
				ls := make([]hmLaunch, copies)
				for i := range ls {
					segs := make([]hmSeg, len(c.ns))
					off := pool.Add(int64(i) * set)
					for s, n := range c.ns {
						segs[s] = hmSeg{w: off, y: y.Add(int64(s) * 4 * 16384), n: n, dt: tensor.F16}
						off = off.Add(int64(n) * int64(c.k) * 2)
					}
					pnw := nw
					if !norm {
						pnw = 0
					}
					ls[i] = encodeHM(segs, x, pnw, 0, act, 0, 1, c.k, 1e-6, false)
				}
				ms := gpuTime(b, be, b.N, func(i int) error {
					l := ls[i%len(ls)]
					return be.ctx.LaunchDependent(f, driver.Dim3{X: be.hmGrid(f, l.blocks, wave)}, driver.Dim3{X: hmThreads}, 0, be.stream, l.args)
				})
				us := ms * 1e3 / float64(b.N)
				b.ReportMetric(us, "us/call")
				b.ReportMetric(float64(set)/(us*1e-6)/1e9, "GB/s")
			})
		}
	}
}
