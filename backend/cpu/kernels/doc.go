// Package kernels holds the CPU math kernels of rlx other than dense GEMM:
// elementwise functions, softmax, normalisations, rotary embeddings, fused
// attention, gathers, reductions, copies, casts and convolutions.
//
// Kernels are plain functions over float32 slices (f16/bf16 where a layout
// says so). Row-wise kernels take row ranges or whole rows so that callers
// (the CPU backend) split work across their worker pool; kernels that
// parallelise internally (attention) take a *parallel.Pool.
//
// # Instruction-set tiers
//
// The transcendental kernels (exp, sigmoid, silu, tanh, gelu, gelu-tanh and
// the fused GLU products) have AVX-512 and AVX2+FMA assembly; the tier is
// cpuinfo.Active (RLX_CPU=generic|avx2|avx512 lowers it). Every assembly
// routine has a pure-Go twin using the same reduction, polynomials and FMA
// order: the twin is the fallback on other architectures and the oracle in
// tests (tiers agree within 1 ulp).
//
// # Accuracy (float32 results against the exact function, in ulps)
//
//	exp        ≤ 1    (worst seen 0.98) over the whole float32 line
//	sigmoid    ≤ 2.5  (2.28); e/(1+e) for x < 0, so no overflow
//	silu       ≤ 3.5  (2.97)
//	tanh       ≤ 2    (1.50); odd polynomial for |x| < 0.55
//	gelu       ≤ 7    (6.35); x·Φ(x) through an erf series for |x| < 1 and
//	                  erfc with an exact x² split beyond, so negative x keep
//	                  relative accuracy (PyTorch's float32 1+erf form loses
//	                  it below x ≈ −4)
//	gelu-tanh  ≤ 3 + 6|u|, u = √(2/π)(x+0.044715x³): the float32 rounding
//	                  of u is amplified by exp; computed as x·sigmoid(2u)
//	erf        ≤ 3.5
//	sqrt, rsqrt, log ≤ 0.5 (float64 evaluation, rounded)
//	add, sub, mul, div exact
//
// Results below 2⁻¹⁰⁰ in magnitude (denormal intermediates) are accurate to
// 2⁻¹²⁶ absolute. NaN propagates; ±Inf gives the limit where one exists, and
// NaN where PyTorch's formula gives NaN (silu(−Inf), gelu(−Inf)). Row sums
// (softmax, norms) add eight float32 lanes per 512-value chunk and the chunks
// in float64. RoPE inverse frequencies repeat Hugging Face's float32 tensor
// arithmetic and match its tensors bit for bit on the test fixtures.
// Attention agrees with a float64 softmax(QKᵀ)V to 2e-6 of the largest output.
//
// Layouts and conventions (RoPE pairings, the sliding-window rule, mask and KV
// cache strides) are documented on each type and in docs/kernels.md.
package kernels
