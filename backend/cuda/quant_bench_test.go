package cuda

import (
	"fmt"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/tensor"
)

func openBench(tb testing.TB) *Backend {
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

// gpuTime returns the device milliseconds that n launches take when queued
// back to back: each batch waits behind a spin kernel while the host queues
// it, so the host's launch rate is not measured, only the kernels.
func gpuTime(tb testing.TB, be *Backend, n int, launch func(i int) error) float64 {
	tb.Helper()
	spin, err := be.ks.Func("qt_spin")
	if err != nil {
		tb.Fatal(err)
	}
	start, err := be.ctx.NewEvent()
	if err != nil {
		tb.Fatal(err)
	}
	defer be.ctx.DestroyEvent(start)
	end, err := be.ctx.NewEvent()
	if err != nil {
		tb.Fatal(err)
	}
	defer be.ctx.DestroyEvent(end)
	total := 0.0
	for done := 0; done < n; {
		batch := min(200, n-done)
		// About 20 ms at 2 GHz: longer than queuing 200 launches.
		if err := be.ctx.Launch(spin, driver.Dim3{X: 1}, driver.Dim3{X: 1}, 0, be.stream, int64(40_000_000)); err != nil {
			tb.Fatal(err)
		}
		if err := be.ctx.Record(start, be.stream); err != nil {
			tb.Fatal(err)
		}
		for i := range batch {
			if err := launch(done + i); err != nil {
				tb.Fatal(err)
			}
		}
		if err := be.ctx.Record(end, be.stream); err != nil {
			tb.Fatal(err)
		}
		if err := be.ctx.SyncEvent(end); err != nil {
			tb.Fatal(err)
		}
		ms, err := be.ctx.Elapsed(start, end)
		if err != nil {
			tb.Fatal(err)
		}
		total += float64(ms)
		done += batch
	}
	return total
}

// weightPool is device memory that benchmarks carve weights from: larger
// than L2 many times over, so that rotating through copies reads HBM.
func weightPool(tb testing.TB, be *Backend, n int64) driver.Ptr {
	p, err := be.ctx.Alloc(n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { be.ctx.Free(p) })
	// 0x11 bytes: small positive f16 scales, every quant in range.
	if err := be.ctx.Memset(p, 0x11, n); err != nil {
		tb.Fatal(err)
	}
	return p
}

// benchShapes are [N, K] weights of Qwen3-0.6B and Llama-3.2-1B: MLP
// up/gate and down, and the output projections.
var benchShapes = [][2]int{{3072, 1024}, {1024, 3072}, {8192, 2048}, {2048, 8192}, {151936, 1024}, {128256, 2048}}

// rotated makes copies of an [n, k] weight of type dt in the pool, enough
// of them to exceed 300 MB, and returns them with the stored (GGUF) bytes
// of one.
func rotated(tb testing.TB, be *Backend, pool driver.Ptr, poolBytes int64, dt tensor.DType, n, k int) ([]*packed, int64) {
	tb.Helper()
	stored, err := dt.RowBytes(int64(n) * int64(k))
	if err != nil {
		tb.Fatal(err)
	}
	blocks := int64(n) * int64(k) / int64(dt.BlockSize())
	mainBytes, auxBytes := stored, int64(0)
	switch dt {
	case tensor.Q8_0, tensor.Q4_0, tensor.Q6_K:
		auxBytes = 2 * blocks
		mainBytes = stored - auxBytes
	}
	round := func(v int64) int64 { return (v + 255) &^ 255 }
	each := round(mainBytes) + round(auxBytes)
	copies := max(2, min(poolBytes/each, (300<<20+each-1)/each))
	if copies*each > poolBytes {
		tb.Skipf("%v [%d, %d] needs %d MB", dt, n, k, 2*each>>20)
	}
	out := make([]*packed, copies)
	for i := range out {
		p, err := be.packed(dt, n, k, nil, false)
		if err != nil {
			tb.Fatal(err)
		}
		p.w = pool.Add(int64(i) * each)
		if auxBytes > 0 {
			p.aux = p.w.Add(round(mainBytes))
		}
		out[i] = p
	}
	return out, stored
}

// BenchmarkGEMV measures the decode GEMV kernels alone: weight bytes (as
// stored in the GGUF) per second of device time, rotating over copies of
// the weight larger than L2. r0 is the int8-activation kernel of quantized
// types, r8/r16/r32 the f32-activation kernel with runs of that many
// columns.
func BenchmarkGEMV(b *testing.B) {
	be := openBench(b)
	const poolBytes = 1 << 30
	pool := weightPool(b, be, poolBytes)
	x, err := be.ctx.Alloc(8 * 8192 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(x)
	if err := be.ctx.Memset(x, 0x3c, 8*8192*4); err != nil {
		b.Fatal(err)
	}
	y, err := be.ctx.Alloc(8 * 151936 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(y)
	types := []tensor.DType{tensor.Q4_0, tensor.Q8_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K, tensor.F16, tensor.BF16}
	for _, dt := range types {
		runs := []int{8, 16, 32}
		if dt == tensor.Q6_K {
			runs = runs[:2]
		}
		if dt.Quantized() {
			runs = append([]int{0}, runs...) // 0: the int8-activation kernel (r0)
		}
		for _, sh := range benchShapes {
			for _, r := range runs {
				for _, m := range []int{1, 2, 4, 8} {
					if m > 1 && ((dt != tensor.Q4_K && dt != tensor.F16) || sh[0] != 8192) {
						continue
					}
					b.Run(fmt.Sprintf("%v/%dx%d/r%d/m%d", dt, sh[0], sh[1], r, m), func(b *testing.B) {
						defer func(old [2]int, i8 int) { gemvRun[dt], gemvInt8Rows = old, i8 }(gemvRun[dt], gemvInt8Rows)
						if r > 0 {
							gemvRun[dt] = [2]int{r, r}
							gemvInt8Rows = 0
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

// BenchmarkGEMVInt8Shape sweeps the int8 GEMV's warps per row and rounds
// of rows per block (gemvInt8Shape's choice is "auto") for one activation
// row, to tune gemvInt8Shape.
func BenchmarkGEMVInt8Shape(b *testing.B) {
	be := openBench(b)
	const poolBytes = 1 << 30
	pool := weightPool(b, be, poolBytes)
	x, err := be.ctx.Alloc(8192 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(x)
	if err := be.ctx.Memset(x, 0x3c, 8192*4); err != nil {
		b.Fatal(err)
	}
	y, err := be.ctx.Alloc(151936 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(y)
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q6_K, tensor.Q8_0} {
		for _, sh := range benchShapes {
			for _, wpr := range []int{0, 1, 2, 4, 8} {
				for _, rounds := range []int{0, 1, 2, 4, 8} {
					if (wpr == 0) != (rounds == 0) {
						continue
					}
					name := fmt.Sprintf("%v/%dx%d/w%d/r%d", dt, sh[0], sh[1], wpr, rounds)
					if wpr == 0 {
						name = fmt.Sprintf("%v/%dx%d/auto", dt, sh[0], sh[1])
					}
					b.Run(name, func(b *testing.B) {
						defer func(w, r int) { gemvInt8WPR, gemvInt8Rounds = w, r }(gemvInt8WPR, gemvInt8Rounds)
						gemvInt8WPR, gemvInt8Rounds = wpr, rounds
						ws, stored := rotated(b, be, pool, poolBytes, dt, sh[0], sh[1])
						ms := gpuTime(b, be, b.N, func(i int) error {
							p := ws[i%len(ws)]
							return be.launchGEMV(p, p.w, x, y, 1, false)
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

// BenchmarkPackedGEMM measures the prefill path (decode to f16 scratch,
// round the activations, cuBLASLt) for M = 512 rows, and for M = 8 on one
// shape, to compare with the GEMV kernel there.
func BenchmarkPackedGEMM(b *testing.B) {
	be := openBench(b)
	const poolBytes = 1 << 30
	pool := weightPool(b, be, poolBytes)
	const maxM = 512
	x, err := be.ctx.Alloc(maxM * 8192 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(x)
	if err := be.ctx.Memset(x, 0x3c, maxM*8192*4); err != nil {
		b.Fatal(err)
	}
	y, err := be.ctx.Alloc(maxM * 8192 * 4)
	if err != nil {
		b.Fatal(err)
	}
	defer be.ctx.Free(y)
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q6_K, tensor.Q8_0, tensor.F16} {
		for _, sh := range benchShapes[:4] {
			for _, m := range []int{8, maxM} {
				if m != maxM && sh[0] != 8192 {
					continue
				}
				b.Run(fmt.Sprintf("%v/%dx%d/m%d", dt, sh[0], sh[1], m), func(b *testing.B) {
					ws, _ := rotated(b, be, pool, poolBytes, dt, sh[0], sh[1])
					ms := gpuTime(b, be, b.N, func(i int) error {
						p := ws[i%len(ws)]
						return be.halfGEMM(p, p.w, dt.Quantized(), x, y, m, false)
					})
					us := ms * 1e3 / float64(b.N)
					b.ReportMetric(us, "us/call")
					b.ReportMetric(2*float64(m)*float64(sh[0])*float64(sh[1])/(us*1e-6)/1e12, "TFLOP/s")
				})
			}
		}
	}
}

// BenchmarkCopyBandwidth is the card's device-to-device copy rate, the
// yardstick for the GEMV numbers: (bytes read + bytes written) per second.
func BenchmarkCopyBandwidth(b *testing.B) {
	be := openBench(b)
	const n = 256 << 20
	pool := weightPool(b, be, 2*n)
	ms := gpuTime(b, be, b.N, func(int) error { return be.ctx.CopyDtoDAsync(pool.Add(n), pool, n, be.stream) })
	us := ms * 1e3 / float64(b.N)
	b.ReportMetric(us, "us/copy")
	b.ReportMetric(2*n/(us*1e-6)/1e9, "GB/s")
}
