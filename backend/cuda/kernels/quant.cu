// Matmuls with packed weights: GGUF block-quantized types (Q4_0, Q8_0,
// Q4_K, Q5_K, Q6_K) and F16/BF16 as stored.
//
// Every weight type is read through one abstraction: a "run" is 8
// consecutive weights of a row (columns e0 .. e0+7, e0 a multiple of 8),
// decoded into f32 from one aligned 8- or 16-byte load plus its group's
// scales. Consecutive threads take consecutive runs, so a warp reads a
// contiguous stretch of both the weight row and the activations.
//
//   type   device layout (see backend/cuda/quant.go)
//   F16    as stored, [N][K] halves
//   BF16   as stored
//   Q8_0   int8 quants [N][K/32][32], f16 d [N][K/32] (aux)
//   Q4_0   nibbles [N][K/32][16], f16 d [N][K/32] (aux)
//   Q4_K   as stored: 144-byte super-blocks
//   Q5_K   as stored: 176-byte super-blocks
//   Q6_K   208-byte blocks (ql, qh, scales), f16 d [N][K/256] (aux)
//
// Values are decoded with the reference dequantizers' arithmetic in f32
// (d·sc·q − dmin·m, (d·sc)·q, d·(q−8)); products and sums are f32.

typedef unsigned char rlx_u8;
typedef unsigned short rlx_u16;
typedef unsigned int rlx_u32;

#define QT_F16 0
#define QT_BF16 1
#define QT_Q8_0 2
#define QT_Q4_0 3
#define QT_Q4_K 4
#define QT_Q5_K 5
#define QT_Q6_K 6

// The most activation rows one GEMV call multiplies (accumulators per thread).
#define QT_MAX_M 8

__device__ __forceinline__ float qt_h2f(rlx_u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ rlx_u16 qt_f2h(float f) {
    rlx_u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float qt_bf2f(rlx_u16 h) { return __uint_as_float((rlx_u32)h << 16); }

// f32 → bf16, rounding to nearest even; NaNs stay NaNs.
__device__ __forceinline__ rlx_u16 qt_f2bf(float f) {
    rlx_u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (rlx_u16)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (rlx_u16)(u >> 16);
}

// q − bias as f32 for a small unsigned q, exactly: 2²³ + q has q in the
// low mantissa bits, so one OR and one subtraction replace the int→float
// conversion, which runs at a quarter of the FMA rate.
__device__ __forceinline__ float qt_i2f(rlx_u32 q, float bias) {
    return __uint_as_float(0x4B000000u | q) - (8388608.0f + bias);
}

// Byte i (0..11) of three little-endian words; selects rather than an
// indexed array, which would live in local memory for a variable i.
__device__ __forceinline__ rlx_u32 qt_byte(const rlx_u32* w, int i) {
    rlx_u32 word = i < 4 ? w[0] : (i < 8 ? w[1] : w[2]);
    return (word >> (8 * (i & 3))) & 0xffu;
}

// The 6-bit scale and min of group j (0..7) of Q4_K/Q5_K's 12-byte field,
// given as three words.
__device__ __forceinline__ void qt_scale_min_k4(int j, const rlx_u32* s, float* sc, float* m) {
    if (j < 4) {
        *sc = (float)(qt_byte(s, j) & 63u);
        *m = (float)(qt_byte(s, j + 4) & 63u);
    } else {
        *sc = (float)((qt_byte(s, j + 4) & 0xfu) | ((qt_byte(s, j - 4) >> 6) << 4));
        *m = (float)((qt_byte(s, j + 4) >> 4) | ((qt_byte(s, j) >> 6) << 4));
    }
}

// Decodes the R weights of row `row` at columns e0 .. e0+R−1 into v (R a
// multiple of 8 that divides the type's scale group: 32, or 16 for Q6_K;
// e0 a multiple of R). The group's scales are decoded once; each 8 columns
// come from one aligned 8- or 16-byte load.
template <int T, int R>
__device__ __forceinline__ void qt_run(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux, long long row,
                                       int e0, int K, float* v) {
    if (T == QT_F16 || T == QT_BF16) {
#pragma unroll
        for (int s = 0; s < R / 8; s++) {
            uint4 a = *(const uint4*)(w + (row * K + e0 + 8 * s) * 2);
            rlx_u32 ws[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
                if (T == QT_F16) {
                    v[8 * s + 2 * i] = qt_h2f((rlx_u16)(ws[i] & 0xffffu));
                    v[8 * s + 2 * i + 1] = qt_h2f((rlx_u16)(ws[i] >> 16));
                } else {
                    v[8 * s + 2 * i] = __uint_as_float(ws[i] << 16);
                    v[8 * s + 2 * i + 1] = __uint_as_float(ws[i] & 0xffff0000u);
                }
            }
        }
    } else if (T == QT_Q8_0 || T == QT_Q4_0) {
        long long blk = row * (K >> 5) + (e0 >> 5);
        float d = qt_h2f(((const rlx_u16*)aux)[blk]);
#pragma unroll
        for (int s = 0; s < R / 8; s++) {
            int c = (e0 & 31) + 8 * s;
            uint2 a;
            if (T == QT_Q8_0) a = *(const uint2*)(w + blk * 32 + c);
            else a = *(const uint2*)(w + blk * 16 + (c & 15));
            rlx_u32 ws[2] = {a.x, a.y};
#pragma unroll
            for (int i = 0; i < 8; i++) {
                rlx_u32 byte = (ws[i >> 2] >> (8 * (i & 3))) & 0xffu;
                if (T == QT_Q8_0) {
                    v[8 * s + i] = qt_i2f(byte ^ 0x80u, 128.0f) * d;  // int8 q = (byte ^ 0x80) − 128
                } else {
                    rlx_u32 q = c < 16 ? (byte & 0xfu) : (byte >> 4);
                    v[8 * s + i] = qt_i2f(q, 8.0f) * d;
                }
            }
        }
    } else if (T == QT_Q4_K || T == QT_Q5_K) {
        const int bytes = T == QT_Q4_K ? 144 : 176;
        const int qoff = T == QT_Q4_K ? 16 : 48;
        int c = e0 & 255, j = c >> 6, g = c >> 5;
        const rlx_u8* blk = w + (row * (K >> 8) + (e0 >> 8)) * bytes;
        const rlx_u32* hdr = (const rlx_u32*)blk;
        rlx_u32 dd = hdr[0];
        float d = qt_h2f((rlx_u16)(dd & 0xffffu)), dmin = qt_h2f((rlx_u16)(dd >> 16));
        rlx_u32 scales[3] = {hdr[1], hdr[2], hdr[3]};
        float sc, m;
        qt_scale_min_k4(g, scales, &sc, &m);
        float d1 = d * sc, m1 = dmin * m;
        const int shift = (g & 1) * 4;
#pragma unroll
        for (int s = 0; s < R / 8; s++) {
            int l = (c & 31) + 8 * s;
            uint2 a = *(const uint2*)(blk + qoff + 32 * j + l);
            rlx_u32 ws[2] = {a.x, a.y};
            rlx_u32 hs[2] = {0, 0};
            if (T == QT_Q5_K) {
                uint2 h = *(const uint2*)(blk + 16 + l);
                hs[0] = h.x;
                hs[1] = h.y;
            }
#pragma unroll
            for (int i = 0; i < 8; i++) {
                rlx_u32 byte = (ws[i >> 2] >> (8 * (i & 3))) & 0xffu;
                rlx_u32 q = (byte >> shift) & 0xfu;
                if (T == QT_Q5_K) q |= ((hs[i >> 2] >> (8 * (i & 3) + g)) & 1u) << 4;
                v[8 * s + i] = d1 * qt_i2f(q, 0.0f) - m1;
            }
        }
    } else {  // QT_Q6_K, R ≤ 16
        int c = e0 & 255, h = c >> 7, g = (c >> 5) & 3, l0 = c & 31;
        long long bi = row * (K >> 8) + (e0 >> 8);
        const rlx_u8* blk = w + bi * 208;
        float d = qt_h2f(((const rlx_u16*)aux)[bi]);
        float ds = d * (float)((const signed char*)blk)[192 + 8 * h + (l0 >> 4) + 2 * g];
        const int shift = (g >> 1) * 4;
#pragma unroll
        for (int s = 0; s < R / 8; s++) {
            int l = l0 + 8 * s;
            uint2 a = *(const uint2*)(blk + 64 * h + 32 * (g & 1) + l);
            uint2 qh = *(const uint2*)(blk + 128 + 32 * h + l);
            rlx_u32 ws[2] = {a.x, a.y}, hb[2] = {qh.x, qh.y};
#pragma unroll
            for (int i = 0; i < 8; i++) {
                rlx_u32 lo = (ws[i >> 2] >> (8 * (i & 3) + shift)) & 0xfu;
                rlx_u32 hi = (hb[i >> 2] >> (8 * (i & 3) + 2 * g)) & 3u;
                v[8 * s + i] = ds * qt_i2f(lo | (hi << 4), 32.0f);
            }
        }
    }
}

// Bytes of one row of an [N, K] weight of type t in the device layout,
// and of its separate f16 scales (quant.go).
__device__ __forceinline__ long long qi_row_bytes(int t, int K) {
    switch (t) {
        case QT_Q8_0: return K;
        case QT_Q4_0: return K >> 1;
        case QT_Q4_K: return (K >> 8) * 144;
        case QT_Q5_K: return (K >> 8) * 176;
        case QT_Q6_K: return (K >> 8) * 208;
        default: return 2ll * K;  // F16, BF16
    }
}

__device__ __forceinline__ long long qi_aux_bytes(int t, int K) {
    switch (t) {
        case QT_Q8_0:
        case QT_Q4_0: return K >> 4;
        case QT_Q6_K: return (K >> 8) * 2;
        default: return 0;
    }
}

// Prefetches rows [row0, row0 + rows) of an [N, K] weight of type t into
// the L2 (before RLX_GRID_WAIT(): the weights are not written by the
// kernel ahead). Each block asks for at most 32 MiB / gridDim.x bytes of
// quants, so that what all blocks ask for fits the H100's 50 MB L2 beside
// the activations and caches (a large matrix's later rows are read while
// its first ones stream).
__device__ __forceinline__ void qi_prefetch(int t, const rlx_u8* w, const rlx_u8* aux, long long row0, int rows,
                                            int N, int K) {
    const long long r1 = min((long long)N, row0 + rows);
    if (r1 <= row0) return;
    const long long rb = qi_row_bytes(t, K), ab = qi_aux_bytes(t, K);
    rlx_prefetch_l2(w + row0 * rb, min((r1 - row0) * rb, (32ll << 20) / gridDim.x));
    if (ab != 0) rlx_prefetch_l2(aux + row0 * ab, (r1 - row0) * ab);
}

// y[m, n] (+)= Σ_k x[m, k]·W[n, k] for m < M ≤ QT_MAX_M: the decode-sized
// product; with add (an addend of y's shape, e.g. the residual) y = add +
// the product, as a copy of add accumulated into would give. A block of blockDim.x threads (a multiple of 32) handles
// rows_per_block weight rows; each row's threads (whole warps) take
// consecutive runs of R columns, so every weight byte is read once and the
// activation reads of a warp are contiguous (R = 8) or nearly so. x must be
// 16-byte aligned and K a multiple of 32.
template <int T, int R, int MM>
__device__ void qt_gemv(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux, const float* __restrict__ x,
                        float* __restrict__ y, int M, int N, int K, int rows_per_block, int accumulate,
                        const float* __restrict__ add) {
    __shared__ float red[MM][32];
    qi_prefetch(T, w, aux, (long long)blockIdx.x * rows_per_block, rows_per_block, N, K);
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    const int tpr = blockDim.x / rows_per_block;
    const int r = threadIdx.x / tpr, t = threadIdx.x - r * tpr;
    const long long row = (long long)blockIdx.x * rows_per_block + r;
    float acc[MM];
#pragma unroll
    for (int m = 0; m < MM; m++) acc[m] = 0.0f;
    if (row < N) {
#pragma unroll 2
        for (int e0 = R * t; e0 < K; e0 += R * tpr) {
            float v[R];
            qt_run<T, R>(w, aux, row, e0, K, v);
#pragma unroll
            for (int m = 0; m < MM; m++) {
                if (m < M) {
                    const float4* xm = (const float4*)(x + (long long)m * K + e0);
                    float s = 0.0f;
#pragma unroll
                    for (int q = 0; q < R / 4; q++) {
                        float4 a = xm[q];
                        s += v[4 * q] * a.x;
                        s += v[4 * q + 1] * a.y;
                        s += v[4 * q + 2] * a.z;
                        s += v[4 * q + 3] * a.w;
                    }
                    acc[m] += s;
                }
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MM; m++) {
        if (m < M) {
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (tpr == 32) {
        if (row < N && lane == 0) {
#pragma unroll
            for (int m = 0; m < MM; m++) {
                if (m < M) {
                    const long long o = (long long)m * N + row;
                    y[o] = add != 0 ? add[o] + acc[m] : (accumulate ? y[o] + acc[m] : acc[m]);
                }
            }
        }
        return;
    }
    if (lane == 0) {
#pragma unroll
        for (int m = 0; m < MM; m++) red[m][warp] = acc[m];
    }
    __syncthreads();
    const int wpr = tpr >> 5;  // warps per row
    if (row < N && t < M) {
        float s = 0.0f;
        for (int i = 0; i < wpr; i++) s += red[t][r * wpr + i];
        const long long o = (long long)t * N + row;
        y[o] = add != 0 ? add[o] + s : (accumulate ? y[o] + s : s);
    }
}

// out[n, k] = W[n, k] as f16 (or bf16 when bf16 != 0), for the tensor-core
// GEMM of prefill-sized products. One thread per run, grid-stride.
template <int T>
__device__ void qt_dequant(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux, rlx_u16* __restrict__ out,
                           int N, int K, int bf16) {
    const int runs = K >> 3;
    const long long total = (long long)N * runs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long row = i / runs;
        int e0 = (int)(i - row * runs) * 8;
        float v[8];
        qt_run<T, 8>(w, aux, row, e0, K, v);
        rlx_u32 p[4];
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float a = v[2 * e], b = v[2 * e + 1];
            rlx_u32 ha = bf16 ? qt_f2bf(a) : qt_f2h(a), hb = bf16 ? qt_f2bf(b) : qt_f2h(b);
            p[e] = ha | (hb << 16);
        }
        *(uint4*)(out + row * K + e0) = make_uint4(p[0], p[1], p[2], p[3]);
    }
}

#define QT_GEMV(name, T, R)                                                                                     \
    extern "C" __global__ void gemv_##name##_r##R(const rlx_u8* w, const rlx_u8* aux, const float* x, float* y,   \
                                                  int M, int N, int K, int rows_per_block, int accumulate,         \
                                                  const float* add) {                                              \
        qt_gemv<T, R, QT_MAX_M>(w, aux, x, y, M, N, K, rows_per_block, accumulate, add);                           \
    }

// One activation row with runs of 16: one accumulator, fewer registers.
#define QT_GEMV1(name, T)                                                                                        \
    extern "C" __global__ void gemv1_##name##_r16(const rlx_u8* w, const rlx_u8* aux, const float* x, float* y,   \
                                                  int M, int N, int K, int rows_per_block, int accumulate,         \
                                                  const float* add) {                                              \
        qt_gemv<T, 16, 1>(w, aux, x, y, M, N, K, rows_per_block, accumulate, add);                                 \
    }

#define QT_DEQUANT(name, T)                                                                                        \
    extern "C" __global__ void dequant_##name(const rlx_u8* w, const rlx_u8* aux, rlx_u16* out, int N, int K,     \
                                              int bf16) {                                                         \
        qt_dequant<T>(w, aux, out, N, K, bf16);                                                                   \
    }

// Every type with runs of 8, 16 and 32 columns (Q6_K: 8 and 16), and the
// one-row kernel with runs of 16; quant.go picks one per type (gemvRun).
#define QT_KERNELS(name, T) QT_GEMV(name, T, 8) QT_GEMV(name, T, 16) QT_GEMV1(name, T) QT_DEQUANT(name, T)

QT_KERNELS(f16, QT_F16)
QT_KERNELS(bf16, QT_BF16)
QT_KERNELS(q8_0, QT_Q8_0)
QT_KERNELS(q4_0, QT_Q4_0)
QT_KERNELS(q4_k, QT_Q4_K)
QT_KERNELS(q5_k, QT_Q5_K)
QT_KERNELS(q6_k, QT_Q6_K)
QT_GEMV(f16, QT_F16, 32)
QT_GEMV(bf16, QT_BF16, 32)
QT_GEMV(q8_0, QT_Q8_0, 32)
QT_GEMV(q4_0, QT_Q4_0, 32)
QT_GEMV(q4_k, QT_Q4_K, 32)
QT_GEMV(q5_k, QT_Q5_K, 32)

// ---- Decode GEMV with int8 activations (quantized weights, M ≤ QI_MAX_M) ----
//
// The activation rows are quantized to int8 groups of 32: q =
// rint(x·127/amax), with (d = amax/127, d·Σq) per group — once, by
// gemvq_prepare(_norm) into device memory (gemvqp_*), or by every block in
// its prologue into shared memory (gemvq_*). A weight row is then the work
// of 1–8 warps: each lane takes 32-weight pieces (Q8_0: a block; Q6_K as
// 4 × 8) with one to three vector loads, forms the integer
// weights as signed bytes and multiplies 4 at a time with dp4a; scales are
// applied per scale group in f32. Offsets (Q4_0's −8, Q6_K's −32) are
// subtracted in the bytes; Q4_K/Q5_K's minimum term uses the group's d·Σq.
// Each weight byte is read once; the result differs from the f32 path by
// the activation rounding, at most amax/254 per activation (quant_test.go).

#define QI_MAX_M 4

// Pieces of a row that a lane has in flight at once (qi_streams): their
// loads are issued before the first piece's arithmetic.
#ifndef QI_UNROLL
#define QI_UNROLL 2
#endif

// Rows a warp takes at once (qi_rows; gate/up pairs: of each matrix).
#ifndef QI_ROWS
#define QI_ROWS 1
#endif

__device__ __forceinline__ int qi_dp4a(int a, int b, int c) {
    int r;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}

// Bytes b − bias, each byte b ≤ 0x7f and bias ≤ 0x80, as two's complement
// int8s: b + 0x80 − bias never borrows from the next byte.
__device__ __forceinline__ int qi_sub_bias(rlx_u32 q, rlx_u32 bias4) {
    return (int)(((q | 0x80808080u) - bias4) ^ 0x80808080u);
}

// x [M][K] f32 (16-byte aligned) → xq [M][K] int8 and xd [M][K/32] (d, d·Σq).
// Eight consecutive lanes hold one group, four values each. With a norm
// weight nw (16-byte aligned, [K]), each value is first normalized as
// rmsnorm_f32 does, x·scl[m]·nw[k] (scl: the rows' 1/rms, qm_norm_scales),
// and the normalized rows are stored to xn when xn is not null.
__device__ __forceinline__ void qi_quantize_norm(const float* __restrict__ x, const float* __restrict__ nw,
                                                 const float* scl, float* __restrict__ xn, int M, int K,
                                                 signed char* xq, float2* xd, int start = 0, int stride = 0) {
    const int quads = (M * K) >> 2;  // a multiple of 8 (K is a multiple of 32)
    if (stride == 0) stride = blockDim.x;
#pragma unroll 4
    for (int base = start; base < quads; base += stride) {
        const int i = base + threadIdx.x;
        const bool ok = i < quads;
        float4 v = ok ? ((const float4*)x)[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (nw != 0 && ok) {
            const int m = (4 * i) / K, c = 4 * i - m * K;
            const float s = scl[m];
            const float4 g = *(const float4*)(nw + c);
            v.x = v.x * s * g.x;
            v.y = v.y * s * g.y;
            v.z = v.z * s * g.z;
            v.w = v.w * s * g.w;
            if (xn != 0) ((float4*)xn)[i] = v;
        }
        float a = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
#pragma unroll
        for (int o = 4; o > 0; o >>= 1) a = fmaxf(a, __shfl_xor_sync(0xffffffffu, a, o));
        const float id = a >= 1e-30f ? 127.0f / a : 0.0f;
        const int q0 = __float2int_rn(v.x * id), q1 = __float2int_rn(v.y * id);
        const int q2 = __float2int_rn(v.z * id), q3 = __float2int_rn(v.w * id);
        int s = q0 + q1 + q2 + q3;
#pragma unroll
        for (int o = 4; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (ok) {
            ((rlx_u32*)xq)[i] = ((rlx_u32)q0 & 0xffu) | (((rlx_u32)q1 & 0xffu) << 8) | (((rlx_u32)q2 & 0xffu) << 16) |
                                ((rlx_u32)q3 << 24);
            if ((i & 7) == 0) {
                const float d = id > 0.0f ? a / 127.0f : 0.0f;
                xd[i >> 3] = make_float2(d, d * (float)s);
            }
        }
    }
}

__device__ __forceinline__ void qi_quantize(const float* __restrict__ x, int M, int K, signed char* xq, float2* xd) {
    qi_quantize_norm(x, 0, 0, 0, M, K, xq, xd);
}

// The activations of the next int8 GEMVs quantized once, into device memory
// (xq [M][K], xd [M][K/32]) rather than by every block of the GEMV: the
// gemvqp_* kernels read them from there. Any grid; threads take quads.
extern "C" __global__ void gemvq_prepare(const float* __restrict__ x, signed char* xq, float2* xd, int M, int K) {
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    qi_quantize_norm(x, 0, 0, 0, M, K, xq, xd, blockIdx.x * blockDim.x, gridDim.x * blockDim.x);
}

// Σ of 16 products of int8 quads.
__device__ __forceinline__ int qi_dot16(int4 w, int4 a) {
    return qi_dp4a(w.w, a.w, qi_dp4a(w.z, a.z, qi_dp4a(w.y, a.y, qi_dp4a(w.x, a.x, 0))));
}

// acc[m] += Σ_k x[m, k]·W[row, k] over piece i (weights 32i .. 32i+31) of
// the row; Q8_0's piece is a whole block, which halved the scale loads and
// scaling FMAs against half blocks and ran faster on an H100.
// Lanes take pieces lane, lane + step, …, so a warp's loads are contiguous.
template <int T, int MM>
__device__ __forceinline__ void qi_piece(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux,
                                         const signed char* xq, const float2* xd, long long row, int M, int K, int i,
                                         float* acc) {
    const int groups = K >> 5;
    const rlx_u16* scl = (const rlx_u16*)aux;
    if (T == QT_Q8_0) {  // a block of 32 weights
        const int4 q0 = *(const int4*)(w + row * K + 32 * i);
        const int4 q1 = *(const int4*)(w + row * K + 32 * i + 16);
        const float dw = qt_h2f(scl[row * groups + i]);
#pragma unroll
        for (int m = 0; m < MM; m++) {
            if (m < M) {
                const signed char* xm = xq + m * K + 32 * i;
                const int s = qi_dot16(q0, *(const int4*)xm) + qi_dot16(q1, *(const int4*)(xm + 16));
                acc[m] += dw * xd[m * groups + i].x * (float)s;
            }
        }
    } else if (T == QT_Q4_0) {  // a block of 32 weights
        const int g = i;
        const int4 q = *(const int4*)(w + row * (K >> 1) + 16 * g);
        const float dw = qt_h2f(scl[row * groups + g]);
        const rlx_u32 b8 = 0x08080808u;
        const int4 lo = make_int4(qi_sub_bias((rlx_u32)q.x & 0x0f0f0f0fu, b8), qi_sub_bias((rlx_u32)q.y & 0x0f0f0f0fu, b8),
                                  qi_sub_bias((rlx_u32)q.z & 0x0f0f0f0fu, b8), qi_sub_bias((rlx_u32)q.w & 0x0f0f0f0fu, b8));
        const int4 hi = make_int4(qi_sub_bias(((rlx_u32)q.x >> 4) & 0x0f0f0f0fu, b8),
                                  qi_sub_bias(((rlx_u32)q.y >> 4) & 0x0f0f0f0fu, b8),
                                  qi_sub_bias(((rlx_u32)q.z >> 4) & 0x0f0f0f0fu, b8),
                                  qi_sub_bias(((rlx_u32)q.w >> 4) & 0x0f0f0f0fu, b8));
#pragma unroll
        for (int m = 0; m < MM; m++) {
            if (m < M) {
                const signed char* xm = xq + m * K + 32 * g;
                const int s = qi_dot16(lo, *(const int4*)xm) + qi_dot16(hi, *(const int4*)(xm + 16));
                acc[m] += dw * xd[m * groups + g].x * (float)s;
            }
        }
    } else if (T == QT_Q4_K || T == QT_Q5_K) {
        // Piece i of a super-block's 8: chunk j = i/2 of 64 weights, half h:
        // weights 64j+16h .. +15 (low nibbles, group 2j) and 64j+32+16h .. +15
        // (high nibbles, group 2j+1).
        const int bytes = T == QT_Q4_K ? 144 : 176;
        const int qoff = T == QT_Q4_K ? 16 : 48;
        const int sb = i >> 3, j = (i >> 1) & 3, h = i & 1;
        const rlx_u8* blk = w + (row * (K >> 8) + sb) * bytes;
        const uint4 hdr = *(const uint4*)blk;
        const uint4 q = *(const uint4*)(blk + qoff + 32 * j + 16 * h);
        const float d = qt_h2f((rlx_u16)(hdr.x & 0xffffu)), dmin = qt_h2f((rlx_u16)(hdr.x >> 16));
        const rlx_u32 sc3[3] = {hdr.y, hdr.z, hdr.w};
        float sc0, m0, sc1, m1;
        qt_scale_min_k4(2 * j, sc3, &sc0, &m0);
        qt_scale_min_k4(2 * j + 1, sc3, &sc1, &m1);
        int4 lo = make_int4(q.x & 0x0f0f0f0fu, q.y & 0x0f0f0f0fu, q.z & 0x0f0f0f0fu, q.w & 0x0f0f0f0fu);
        int4 hi = make_int4((q.x >> 4) & 0x0f0f0f0fu, (q.y >> 4) & 0x0f0f0f0fu, (q.z >> 4) & 0x0f0f0f0fu,
                            (q.w >> 4) & 0x0f0f0f0fu);
        if (T == QT_Q5_K) {
            const uint4 qh = *(const uint4*)(blk + 16 + 16 * h);
            const int s0 = 2 * j, s1 = 2 * j + 1;
            lo.x |= ((qh.x >> s0) & 0x01010101u) << 4;
            lo.y |= ((qh.y >> s0) & 0x01010101u) << 4;
            lo.z |= ((qh.z >> s0) & 0x01010101u) << 4;
            lo.w |= ((qh.w >> s0) & 0x01010101u) << 4;
            hi.x |= ((qh.x >> s1) & 0x01010101u) << 4;
            hi.y |= ((qh.y >> s1) & 0x01010101u) << 4;
            hi.z |= ((qh.z >> s1) & 0x01010101u) << 4;
            hi.w |= ((qh.w >> s1) & 0x01010101u) << 4;
        }
        const int k0 = sb * 256 + 64 * j + 16 * h, g0 = sb * 8 + 2 * j;
        const float d0 = d * sc0, d1 = d * sc1, dm0 = dmin * m0, dm1 = dmin * m1;
#pragma unroll
        for (int m = 0; m < MM; m++) {
            if (m < M) {
                const signed char* xm = xq + m * K + k0;
                const int s0 = qi_dot16(lo, *(const int4*)xm), s1 = qi_dot16(hi, *(const int4*)(xm + 32));
                const float2 x0 = xd[m * groups + g0], x1 = xd[m * groups + g0 + 1];
                float v = d0 * x0.x * (float)s0 + d1 * x1.x * (float)s1;
                if (h == 0) v -= dm0 * x0.y + dm1 * x1.y;  // the group minimum, once per group
                acc[m] += v;
            }
        }
    } else {  // QT_Q6_K: piece i of a super-block's 8: half h = i/4, l0 = 8·(i%4);
              // weights 128h + 32g + l0 .. +7 for g = 0..3
        const int nsb = K >> 8;
        const int sb = i >> 3, h = (i >> 2) & 1, l0 = 8 * (i & 3);
        const rlx_u8* blk = w + (row * nsb + sb) * 208;
        const uint2 la = *(const uint2*)(blk + 64 * h + l0);
        const uint2 lb = *(const uint2*)(blk + 64 * h + 32 + l0);
        const uint2 hb = *(const uint2*)(blk + 128 + 32 * h + l0);
        const float d = qt_h2f(scl[row * nsb + sb]);
        const signed char* sc = (const signed char*)blk + 192 + 8 * h + (l0 >> 4);
        const rlx_u32 b32 = 0x20202020u;
        int gw[4][2];
        const rlx_u32 law[2] = {la.x, la.y}, lbw[2] = {lb.x, lb.y}, hbw[2] = {hb.x, hb.y};
#pragma unroll
        for (int e = 0; e < 2; e++) {
            gw[0][e] = qi_sub_bias((law[e] & 0x0f0f0f0fu) | ((hbw[e] << 4) & 0x30303030u), b32);
            gw[1][e] = qi_sub_bias((lbw[e] & 0x0f0f0f0fu) | ((hbw[e] << 2) & 0x30303030u), b32);
            gw[2][e] = qi_sub_bias(((law[e] >> 4) & 0x0f0f0f0fu) | (hbw[e] & 0x30303030u), b32);
            gw[3][e] = qi_sub_bias(((lbw[e] >> 4) & 0x0f0f0f0fu) | ((hbw[e] >> 2) & 0x30303030u), b32);
        }
        float ds[4];
#pragma unroll
        for (int g = 0; g < 4; g++) ds[g] = d * (float)sc[2 * g];
        const int k0 = sb * 256 + 128 * h + l0, g0 = sb * 8 + 4 * h;
#pragma unroll
        for (int m = 0; m < MM; m++) {
            if (m < M) {
                float v = 0.0f;
#pragma unroll
                for (int g = 0; g < 4; g++) {
                    const int2 a = *(const int2*)(xq + m * K + k0 + 32 * g);
                    const int s = qi_dp4a(gw[g][1], a.y, qi_dp4a(gw[g][0], a.x, 0));
                    v += ds[g] * xd[m * groups + g0 + g].x * (float)s;
                }
                acc[m] += v;
            }
        }
    }
}

// acc[s][m] += Σ_k x[m, k]·W_s[row_s, k] over this lane's share of NS rows
// (of one matrix, or of several of one shape and type: gate and up) where
// valid[s]: the rows' pieces lane, lane + step, … (step = 32 × warps per
// row), QI_UNROLL pieces of every row at a time, so that all their loads
// are in flight at once; each accumulator sums its row's pieces in order.
template <int T, int MM, int NS>
__device__ __forceinline__ void qi_streams(const rlx_u8* const* w, const rlx_u8* const* aux, const long long* row,
                                           const bool* valid, const signed char* xq, const float2* xd, int M, int K,
                                           int lane, int step, float (*acc)[MM]) {
    const int n = K >> 5;  // pieces
    for (int i0 = lane; i0 < n; i0 += QI_UNROLL * step) {
#pragma unroll
        for (int u = 0; u < QI_UNROLL; u++) {
            const int i = i0 + u * step;
#pragma unroll
            for (int s = 0; s < NS; s++) {
                if (i < n && valid[s]) qi_piece<T, MM>(w[s], aux[s], xq, xd, row[s], M, K, i, acc[s]);
            }
        }
    }
}

// Σ over the warp of each accumulator of the first M rows, in every lane.
template <int MM>
__device__ __forceinline__ void qi_warp_sum(float* acc, int M) {
#pragma unroll
    for (int m = 0; m < MM; m++) {
        if (m < M) {
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
        }
    }
}

// Rows [row0, row0 + rows_per_block) of y[m, n] (+)= Σ_k x[m, k]·W[n, k]
// for m < M ≤ MM ≤ QI_MAX_M from quantized activations xq/xd (shared or
// device memory), warps_per_row warps to a row (1, 2, 4 or 8: more for
// short, wide matrices, whose rows would otherwise leave most of the GPU
// idle), rows blockDim.x/32/warps_per_row at a time; rows_per_block must be
// a multiple of that. A block has at most 8 warps.
template <int T, int MM>
__device__ void qi_rows(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux, const signed char* xq,
                        const float2* xd, float* __restrict__ y, int M, int N, int K, long long row0,
                        int rows_per_block, int warps_per_row, int accumulate, const float* __restrict__ add) {
    __shared__ float red[8][MM];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wpr = warps_per_row, slots = (blockDim.x >> 5) / wpr;
    const int slot = warp / wpr, sub = warp - slot * wpr;
    // QI_ROWS of the warp's rows at a time; the same trip count in every warp.
    for (int r = 0; r < rows_per_block; r += slots * QI_ROWS) {
        const rlx_u8* ws[QI_ROWS];
        const rlx_u8* as[QI_ROWS];
        long long rows[QI_ROWS];
        bool valid[QI_ROWS];
        float acc[QI_ROWS][MM];
#pragma unroll
        for (int j = 0; j < QI_ROWS; j++) {
            ws[j] = w;
            as[j] = aux;
            rows[j] = row0 + r + j * slots + slot;
            valid[j] = r + j * slots < rows_per_block && rows[j] < N;
#pragma unroll
            for (int m = 0; m < MM; m++) acc[j][m] = 0.0f;
        }
        qi_streams<T, MM, QI_ROWS>(ws, as, rows, valid, xq, xd, M, K, 32 * sub + lane, 32 * wpr, acc);
#pragma unroll
        for (int j = 0; j < QI_ROWS; j++) {
            const long long row = rows[j];
            qi_warp_sum<MM>(acc[j], M);
            if (wpr == 1) {
                if (valid[j] && lane == 0) {
#pragma unroll
                    for (int m = 0; m < MM; m++) {
                        if (m < M) {
                            const long long o = (long long)m * N + row;
                            y[o] = add != 0 ? add[o] + acc[j][m] : (accumulate ? y[o] + acc[j][m] : acc[j][m]);
                        }
                    }
                }
                continue;
            }
            if (lane == 0) {
#pragma unroll
                for (int m = 0; m < MM; m++) red[warp][m] = acc[j][m];
            }
            __syncthreads();
            if (valid[j] && sub == 0 && lane < M) {
                float s = 0.0f;
                for (int i = 0; i < wpr; i++) s += red[warp + i][lane];
                const long long o = (long long)lane * N + row;
                y[o] = add != 0 ? add[o] + s : (accumulate ? y[o] + s : s);
            }
            __syncthreads();  // red is rewritten by the next rows
        }
    }
}

// y[m, n] (+)= Σ_k x[m, k]·W[n, k] for m < M ≤ MM with int8 activations: a
// block (at most 8 warps) quantizes x into dynamic shared memory (M·K +
// M·K/32·8 bytes), then takes its rows_per_block rows (qi_rows). x must be
// 16-byte aligned and K a multiple of the weight's block (32 or 256).
template <int T, int MM>
__device__ void qi_gemv(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux, const float* __restrict__ x,
                        float* __restrict__ y, int M, int N, int K, int rows_per_block, int warps_per_row,
                        int accumulate, const float* __restrict__ add) {
    extern __shared__ int4 qi_smem[];
    signed char* xq = (signed char*)qi_smem;
    float2* xd = (float2*)(xq + M * K);
    const long long row0 = (long long)blockIdx.x * rows_per_block;
    qi_prefetch(T, w, aux, row0, rows_per_block, N, K);
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    qi_quantize(x, M, K, xq, xd);
    __syncthreads();
    qi_rows<T, MM>(w, aux, xq, xd, y, M, N, K, row0, rows_per_block, warps_per_row, accumulate, add);
}

// qi_gemv from activations that gemvq_prepare quantized into device memory.
template <int T, int MM>
__device__ void qi_gemv_prepared(const rlx_u8* __restrict__ w, const rlx_u8* __restrict__ aux,
                                 const signed char* xq, const float2* xd, float* __restrict__ y, int M, int N, int K,
                                 int rows_per_block, int warps_per_row, int accumulate, const float* __restrict__ add) {
    const long long row0 = (long long)blockIdx.x * rows_per_block;
    qi_prefetch(T, w, aux, row0, rows_per_block, N, K);
    RLX_GRID_WAIT();  // launched with LaunchDependent, after gemvq_prepare
    RLX_GRID_LAUNCH_DEPENDENTS();
    qi_rows<T, MM>(w, aux, xq, xd, y, M, N, K, row0, rows_per_block, warps_per_row, accumulate, add);
}

// Per type: gemvq_* (M ≤ QI_MAX_M) and gemvq1_* (one row: fewer registers,
// so more warps per multiprocessor), and gemvqp_*/gemvqp1_* reading
// prepared activations (gemvq_prepare).
#define QI_GEMV(name, T)                                                                                         \
    extern "C" __global__ void gemvq_##name(const rlx_u8* w, const rlx_u8* aux, const float* x, float* y, int M,    \
                                            int N, int K, int rows_per_block, int warps_per_row, int accumulate,   \
                                            const float* add) {                                                    \
        qi_gemv<T, QI_MAX_M>(w, aux, x, y, M, N, K, rows_per_block, warps_per_row, accumulate, add);              \
    }                                                                                                              \
    extern "C" __global__ void gemvq1_##name(const rlx_u8* w, const rlx_u8* aux, const float* x, float* y, int M,   \
                                             int N, int K, int rows_per_block, int warps_per_row, int accumulate,  \
                                             const float* add) {                                                   \
        qi_gemv<T, 1>(w, aux, x, y, M, N, K, rows_per_block, warps_per_row, accumulate, add);                     \
    }                                                                                                              \
    extern "C" __global__ void gemvqp_##name(const rlx_u8* w, const rlx_u8* aux, const signed char* xq,            \
                                             const float2* xd, float* y, int M, int N, int K, int rows_per_block,  \
                                             int warps_per_row, int accumulate, const float* add) {                \
        qi_gemv_prepared<T, QI_MAX_M>(w, aux, xq, xd, y, M, N, K, rows_per_block, warps_per_row, accumulate,     \
                                      add);                                                                        \
    }                                                                                                              \
    extern "C" __global__ void gemvqp1_##name(const rlx_u8* w, const rlx_u8* aux, const signed char* xq,           \
                                              const float2* xd, float* y, int M, int N, int K, int rows_per_block, \
                                              int warps_per_row, int accumulate, const float* add) {               \
        qi_gemv_prepared<T, 1>(w, aux, xq, xd, y, M, N, K, rows_per_block, warps_per_row, accumulate, add);       \
    }

QI_GEMV(q8_0, QT_Q8_0)
QI_GEMV(q4_0, QT_Q4_0)
QI_GEMV(q4_k, QT_Q4_K)
QI_GEMV(q5_k, QT_Q5_K)
QI_GEMV(q6_k, QT_Q6_K)

// Activations for the tensor-core GEMM: x ≈ t0 + t1 + … as `parts` (1 to 3)
// half-precision terms, t_i = round(x − t_0 − … − t_{i−1}) to f16 (bf16 when
// bf16 != 0), term i at out + i·stride: each term carries the rounding
// error of the previous ones, so two f16 terms or three bf16 terms are
// about as precise as f32 (one GEMM per term, f32 sums).
extern "C" __global__ void split_half(const float* __restrict__ x, rlx_u16* __restrict__ out, long long n,
                                      long long stride, int parts, int bf16) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float r = x[i];
        for (int p = 0; p < parts; p++) {
            rlx_u16 h = bf16 ? qt_f2bf(r) : qt_f2h(r);
            out[p * stride + i] = h;
            r -= bf16 ? qt_bf2f(h) : qt_h2f(h);
        }
    }
}

// rmsnorm_split_f32 is rmsnorm_f32 (a block per row, the same threads,
// sums and products, so the same y) whose rows also go out as `parts` half
// terms exactly as split_half would write them from y (fuse.go: the norm
// before a prefill's q/k/v or gate/up GEMMs; dst is null when nothing else
// reads y). out holds the rows' terms, term p at out + p·stride; launched
// with LaunchDependent.
extern "C" __global__ void rmsnorm_split_f32(const float* x, const float* w, float* dst, rlx_u16* out, int cols,
                                             float eps, long long stride, int parts, int bf16) {
    const long long r = blockIdx.x;
    const float* row = x + r * cols;
    RLX_GRID_WAIT();
    RLX_GRID_LAUNCH_DEPENDENTS();
    float scale = rsqrtf(rlx_block_sum(rlx_sq_sum(row, cols)) / cols + eps);  // rmsnorm_f32's sum
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        const float y = row[i] * scale * w[i];
        if (dst != 0) dst[r * cols + i] = y;
        float rest = y;
        for (int p = 0; p < parts; p++) {
            rlx_u16 h = bf16 ? qt_f2bf(rest) : qt_f2h(rest);
            out[p * stride + r * cols + i] = h;
            rest -= bf16 ? qt_bf2f(h) : qt_h2f(h);
        }
    }
}

// Busy-waits about `cycles` SM clocks: benchmarks queue it first, so that
// the launches queued behind it run back to back, timed by events, without
// the host's launch rate in the measurement.
extern "C" __global__ void qt_spin(long long cycles) {
    long long t0 = clock64();
    while (clock64() - t0 < cycles) {
    }
}

// ---- Fused decode GEMVs (one launch for a group of launches, fuse.go) ----
//
// gemvq_multi runs, in one launch, up to QM_SEGS int8-activation GEMVs that
// read the same activations (q/k/v, or gate/up): blocks [seg[s].block0,
// seg[s+1].block0) take matrix s, each with the launch shape its own
// gemvq_* launch would have, so every output is computed as there. With a
// norm weight nw, the RMSNorm that produced the activations is folded into
// the prologue (each block normalizes the few decode rows itself; block 0
// stores them to xn when that is not null). With act, the two segments are
// gate and up of the same shape and type: a warp takes row j of both and
// writes act = silu(gate)·up (and gate and up themselves where y is not null).

#define QM_SEGS 3

struct QMSeg {
    const rlx_u8* w;
    const rlx_u8* aux;
    float* y;  // [M][n]; may be null in pair mode
    int n;
    int type;  // QT_*
    int rows_per_block;
    int warps_per_row;
    int block0;
    int pad;
};

struct QMArgs {
    QMSeg seg[QM_SEGS];
    const float* x;  // [M][K], 16-byte aligned
    const float* nw;  // RMSNorm weight [K] (16-byte aligned), or null
    float* xn;        // normalized rows, or null
    float* act;       // pair mode: silu(seg 0)·(seg 1), [M][n]; null otherwise
    int nseg;
    int M;
    int K;
    float eps;
};

// scl[m] = 1/sqrt(mean(x[m, :]²) + eps) for the M rows, as rmsnorm_f32.
__device__ void qm_norm_scales(const float* __restrict__ x, int M, int K, float eps, float* scl) {
    for (int m = 0; m < M; m++) {
        const float* row = x + (long long)m * K;
        const float t = rlx_block_sum(rlx_sq_sum(row, K));
        if (threadIdx.x == 0) scl[m] = rsqrtf(t / K + eps);
    }
    __syncthreads();
}

// gemvq_prepare with the RMSNorm of a fused launch folded in (nw not
// null): block m normalizes row m as rmsnorm_f32 does (256 threads, so
// the sum has its bits), stores it to xn when that is not null, and
// quantizes it into xq/xd for gemvqp_multi*.
extern "C" __global__ void gemvq_prepare_norm(const float* __restrict__ x, const float* __restrict__ nw,
                                              float* __restrict__ xn, float eps, signed char* xq, float2* xd, int M,
                                              int K) {
    __shared__ float scl[1];
    const int m = blockIdx.x;
    if (nw != 0) rlx_prefetch_l2(nw, 4ll * K);  // a weight: not written by the kernel ahead
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    const float* xm = x + (long long)m * K;
    if (nw != 0) qm_norm_scales(xm, 1, K, eps, scl);
    qi_quantize_norm(xm, nw, scl, xn != 0 ? xn + (long long)m * K : 0, 1, K, xq + (long long)m * K,
                     xd + (long long)m * (K >> 5));
}

// Pair mode's output for row `row` of activation row m: gate, up and the
// SiLU·up product (as the fused elementwise kernel computes it).
__device__ __forceinline__ void qm_put(const QMSeg& g, const QMSeg& u, float* act, int m, long long row, float gv,
                                       float uv) {
    const long long o = (long long)m * g.n + row;
    if (g.y != 0) g.y[o] = gv;
    if (u.y != 0) u.y[o] = uv;
    const float sg = gv / (1.0f + expf(-gv));
    act[o] = sg * uv;
}

// qi_rows for gate and up at once: the same lanes and order per row as two
// qi_rows calls with seg 0's shape.
template <int T, int MM>
__device__ void qm_pair_rows(const QMSeg& g, const QMSeg& u, float* act, const signed char* xq, const float2* xd,
                             int M, int K, long long row0) {
    __shared__ float redg[8][MM], redu[8][MM];
    const int N = g.n, wpr = g.warps_per_row, rows_per_block = g.rows_per_block;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int slots = (blockDim.x >> 5) / wpr;
    const int slot = warp / wpr, sub = warp - slot * wpr;
    for (int r = 0; r < rows_per_block; r += slots * QI_ROWS) {
        // Streams 2j and 2j+1: gate and up of the warp's j-th row.
        const rlx_u8* ws[2 * QI_ROWS];
        const rlx_u8* as[2 * QI_ROWS];
        long long rows[2 * QI_ROWS];
        bool valid[2 * QI_ROWS];
        float acc[2 * QI_ROWS][MM];
#pragma unroll
        for (int s = 0; s < 2 * QI_ROWS; s++) {
            ws[s] = s % 2 == 0 ? g.w : u.w;
            as[s] = s % 2 == 0 ? g.aux : u.aux;
            rows[s] = row0 + r + (s / 2) * slots + slot;
            valid[s] = r + (s / 2) * slots < rows_per_block && rows[s] < N;
#pragma unroll
            for (int m = 0; m < MM; m++) acc[s][m] = 0.0f;
        }
        qi_streams<T, MM, 2 * QI_ROWS>(ws, as, rows, valid, xq, xd, M, K, 32 * sub + lane, 32 * wpr, acc);
#pragma unroll
        for (int j = 0; j < QI_ROWS; j++) {
            float* ag = acc[2 * j];
            float* au = acc[2 * j + 1];
            const long long row = rows[2 * j];
            qi_warp_sum<MM>(ag, M);
            qi_warp_sum<MM>(au, M);
            if (wpr == 1) {
                if (valid[2 * j] && lane == 0) {
#pragma unroll
                    for (int m = 0; m < MM; m++) {
                        if (m < M) qm_put(g, u, act, m, row, ag[m], au[m]);
                    }
                }
                continue;
            }
            if (lane == 0) {
#pragma unroll
                for (int m = 0; m < MM; m++) {
                    redg[warp][m] = ag[m];
                    redu[warp][m] = au[m];
                }
            }
            __syncthreads();
            if (valid[2 * j] && sub == 0 && lane < M) {
                float sgv = 0.0f, suv = 0.0f;
                for (int i = 0; i < wpr; i++) sgv += redg[warp + i][lane];
                for (int i = 0; i < wpr; i++) suv += redu[warp + i][lane];
                qm_put(g, u, act, lane, row, sgv, suv);
            }
            __syncthreads();
        }
    }
}

// F<T, MM>(args…) for the int8 GEMV's weight type t (a QT_* code).
#define QI_DISPATCH(t, MM, F, ...)                         \
    switch (t) {                                           \
        case QT_Q8_0: F<QT_Q8_0, MM>(__VA_ARGS__); break; \
        case QT_Q4_0: F<QT_Q4_0, MM>(__VA_ARGS__); break; \
        case QT_Q4_K: F<QT_Q4_K, MM>(__VA_ARGS__); break; \
        case QT_Q5_K: F<QT_Q5_K, MM>(__VA_ARGS__); break; \
        case QT_Q6_K: F<QT_Q6_K, MM>(__VA_ARGS__); break; \
    }

// The fused GEMVs. With PRE, a.x holds activations that
// gemvq_prepare_norm quantized (xq [M][K], then xd) and a.nw, a.xn are
// unused; otherwise every block normalizes and quantizes a.x itself.
template <int MM, bool PRE>
__device__ void qm_multi(const QMArgs& a) {
    extern __shared__ int4 qi_smem[];
    __shared__ float scl[QI_MAX_M];
    signed char* xq = PRE ? (signed char*)a.x : (signed char*)qi_smem;
    float2* xd = (float2*)(xq + a.M * a.K);
    // This block's matrix (pair mode: seg 0 and 1, one shape) and rows.
    const int b = (int)blockIdx.x;
    const int s = a.act != 0 ? 0 : ((a.nseg > 2 && b >= a.seg[2].block0) ? 2 : ((a.nseg > 1 && b >= a.seg[1].block0) ? 1 : 0));
    const QMSeg sg = s == 0 ? a.seg[0] : (s == 1 ? a.seg[1] : a.seg[2]);
    const long long row0 = (long long)(b - sg.block0) * sg.rows_per_block;
    qi_prefetch(sg.type, sg.w, sg.aux, row0, sg.rows_per_block, sg.n, a.K);
    if (a.act != 0) qi_prefetch(a.seg[1].type, a.seg[1].w, a.seg[1].aux, row0, sg.rows_per_block, sg.n, a.K);
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    if (!PRE) {
        if (a.nw != 0) qm_norm_scales(a.x, a.M, a.K, a.eps, scl);
        qi_quantize_norm(a.x, a.nw, scl, blockIdx.x == 0 ? a.xn : 0, a.M, a.K, xq, xd);
        __syncthreads();
    }
    if (a.act != 0) {
        QI_DISPATCH(sg.type, MM, qm_pair_rows, a.seg[0], a.seg[1], a.act, xq, xd, a.M, a.K, row0);
    } else {
        QI_DISPATCH(sg.type, MM, qi_rows, sg.w, sg.aux, xq, xd, sg.y, a.M, sg.n, a.K, row0, sg.rows_per_block,
                    sg.warps_per_row, 0, 0);
    }
}

// gemvq_multi1 is gemvq_multi for one activation row (fewer registers);
// gemvqp_multi* read prepared activations.
extern "C" __global__ void gemvq_multi(QMArgs a) { qm_multi<QI_MAX_M, false>(a); }
extern "C" __global__ void gemvq_multi1(QMArgs a) { qm_multi<1, false>(a); }
extern "C" __global__ void gemvqp_multi(QMArgs a) { qm_multi<QI_MAX_M, true>(a); }
extern "C" __global__ void gemvqp_multi1(QMArgs a) { qm_multi<1, true>(a); }
