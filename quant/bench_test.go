package quant

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// Decode-shaped GEMV: y[1,N] = x[1,K]·Wᵀ. Each benchmark cycles through
// enough copies of W that their total (≥ 160 MB) far exceeds the 32 MiB
// L3, so weights stream from memory as in a real decode step. The GB/s
// metric counts the GGUF bytes of W per call.
var gemvShapes = []struct{ N, K int }{
	{3072, 1024}, // Qwen3-0.6B ffn_up / gate
	{1024, 3072}, // Qwen3-0.6B ffn_down
	{4096, 4096},
	{8192, 2048}, // Llama-3.2-1B ffn_up
	{2048, 8192}, // Llama-3.2-1B ffn_down
}

func BenchmarkGEMV(b *testing.B) {
	for _, dt := range kernelTypes {
		for _, s := range gemvShapes {
			b.Run(fmt.Sprintf("%v/N%d_K%d", dt, s.N, s.K), func(b *testing.B) {
				benchMatMul(b, dt, 1, s.N, s.K, 160<<20)
			})
		}
	}
}

// Prefill-shaped GEMM, M = 128 activation rows; weights stay in cache, so
// GFLOP/s (2·M·N·K per call) is the metric.
func BenchmarkGEMM(b *testing.B) {
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q8_0, tensor.Q6_K} {
		for _, s := range []struct{ N, K int }{{3072, 1024}, {1024, 3072}} {
			b.Run(fmt.Sprintf("%v/M128_N%d_K%d", dt, s.N, s.K), func(b *testing.B) {
				benchMatMul(b, dt, 128, s.N, s.K, 0)
			})
		}
	}
}

// benchMatrices caches the weight copies across the benchmark's rounds.
var benchMatrices = map[string][]*Matrix{}

// randBlocks returns n elements of random blocks of dt with small, finite
// scales (values do not change the speed of integer kernels).
func randBlocks(dt tensor.DType, n int, seed uint64) []byte {
	rng := newRand(seed)
	bb := dt.BlockBytes()
	q := make([]byte, n/dt.BlockSize()*bb)
	for i := range q {
		q[i] = byte(rng.Uint32())
	}
	for b := 0; b < len(q); b += bb {
		switch dt {
		case tensor.Q6_K:
			putF16(q[b+208:], 0.001)
		default: // d (and dmin) lead the block
			putF16(q[b:], 0.001)
			if dt == tensor.Q4_K || dt == tensor.Q5_K {
				putF16(q[b+2:], 0.0005)
			}
		}
	}
	return q
}

func benchMatMul(b *testing.B, dt tensor.DType, M, N, K, total int) {
	bytesPer := N * K / dt.BlockSize() * dt.BlockBytes()
	key := fmt.Sprintf("%v/%d/%d/%d", dt, N, K, total)
	ms := benchMatrices[key]
	if ms == nil {
		q := randBlocks(dt, N*K, 1)
		copies := max(1, total/bytesPer)
		for i := 0; i < copies; i++ {
			m, err := NewMatrix(dt, N, K, q)
			if err != nil {
				b.Fatal(err)
			}
			ms = append(ms, m)
		}
		benchMatrices = map[string][]*Matrix{key: ms} // keep one shape's copies alive
	}
	x := randActs(M, K, 2)
	y := make([]float32, M*N)
	p := parallel.New(benchThreads)
	defer p.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ms[i%len(ms)].MatMul(p, y, x); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(bytesPer)/sec/1e9, "GB/s")
	b.ReportMetric(2*float64(M)*float64(N)*float64(K)/sec/1e9, "GFLOP/s")
}

// benchThreads is the pool size of the matmul benchmarks (RLX_BENCH_THREADS,
// default 2: this project's machines have two cores).
var benchThreads = func() int {
	if n, err := strconv.Atoi(os.Getenv("RLX_BENCH_THREADS")); err == nil && n > 0 {
		return n
	}
	return 2
}()

// BenchmarkGEMVOps mirrors llama.cpp's `test-backend-ops perf -o MUL_MAT`
// decode case (m = 4096 rows, k = 14336, n = 1), reusing one weight buffer
// (33 MB at Q4_K, about the L3 size) as that tool does.
func BenchmarkGEMVOps(b *testing.B) {
	for _, dt := range kernelTypes {
		b.Run(dt.String(), func(b *testing.B) { benchMatMul(b, dt, 1, 4096, 14336, 0) })
	}
}

// BenchmarkGEMMOps mirrors test-backend-ops' prefill case for the same
// matrix (n = 512 activation rows).
func BenchmarkGEMMOps(b *testing.B) {
	for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q8_0, tensor.Q6_K, tensor.Q4_0} {
		b.Run(dt.String(), func(b *testing.B) { benchMatMul(b, dt, 512, 4096, 14336, 0) })
	}
}
