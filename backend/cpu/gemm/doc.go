// Package gemm multiplies float32 matrices on the CPU: C[M,N] = A[M,K]·B
// or C += A·B, with B stored either as [K,N] or as [N,K] (the nn.Linear
// weight layout), in float32, float16 or bfloat16, single or batched.
//
// The algorithm is the classic packed, cache-blocked GEMM. B is copied,
// kc rows deep and nc columns wide, into strips of nr columns laid out
// k-major (converting 16-bit weights to float32 on the way); A is copied
// into micro-panels of mr rows, also k-major. A register-tiled micro-kernel
// then keeps an mr×nr tile of C in vector registers and, for each k, loads
// one row of the B strip, broadcasts the mr values of A and issues mr·nr/w
// fused multiply-adds (w = vector width). Packing makes every load in the
// inner loop sequential and cache-line aligned in practice, and the
// blocking keeps the B strip in L1/L2 while the mc×kc block of A it meets
// is in L2.
//
// Tiles, per instruction-set tier (chosen at run time by cpuinfo.Active):
//
//   - AVX-512: 8×48 (24 zmm accumulators, 3 zmm of B, broadcasts in the
//     rest). Zen 5 and recent Intel cores retire two 512-bit FMAs per cycle
//     with a 4-cycle latency, so at least 8 independent accumulators are
//     needed; 24 hide the latency with room to spare while needing only 11
//     loads per 24 FMAs, within the two load ports.
//   - AVX2+FMA: 6×16 (12 ymm accumulators), the usual Haswell-era shape.
//   - Generic: the pure-Go twin (4×16), the fallback and the tests' oracle.
//
// Rows that do not fill a tile use a kernel compiled for that many rows;
// columns that do not fill one are computed into scratch and copied.
//
// Work is split across a parallel.Pool: one pass packs the A panels and B
// strips of a block (shared by all workers), a second computes tiles, with
// row blocks × strip chunks as tasks so that even M=128 keeps every worker
// busy. A weight that is used many times can be packed once with Pack.
//
// For M ≤ 4 with NK weights (decode), there is no packing at all: a GEMV
// kernel streams each weight row as stored — 16-bit weights stay 16-bit —
// and dots it with every row of A, the workers splitting the weight rows.
package gemm
