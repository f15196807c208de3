// Gather of rows from tables kept in their stored form: GGUF block-quantized
// rows dequantized to f32 (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K), and int32/int64
// rows copied. The formulas and their rounding order follow the host's
// dequantizers (package quant): every product and difference is rounded
// separately (no fused multiply-add), so the rows are bit for bit the host's.

#define GQ_Q4_0 10
#define GQ_Q8_0 11
#define GQ_Q4_K 12
#define GQ_Q5_K 13
#define GQ_Q6_K 14
#define GQ_I32 3
#define GQ_I64 4

__device__ __forceinline__ float gq_h2f(const unsigned char* p) {
    unsigned short h = (unsigned short)(p[0] | (p[1] << 8));
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// The j-th 6-bit scale and min of a Q4_K/Q5_K 12-byte field.
__device__ __forceinline__ void gq_scale_min(int j, const unsigned char* q, int* sc, int* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Element j of one block.
__device__ float gq_elem(const unsigned char* b, int type, int j) {
    switch (type) {
    case GQ_Q4_0: {
        float d = gq_h2f(b);
        int q = j < 16 ? (b[2 + j] & 0xf) : (b[2 + j - 16] >> 4);
        return __fmul_rn((float)(q - 8), d);
    }
    case GQ_Q8_0:
        return __fmul_rn((float)(signed char)b[2 + j], gq_h2f(b));
    case GQ_Q4_K:
    case GQ_Q5_K: {
        float d = gq_h2f(b), dmin = gq_h2f(b + 2);
        int c = j / 64, w = j % 64, hi = w >= 32, l = w & 31;
        int sc, m;
        gq_scale_min(2 * c + hi, b + 4, &sc, &m);
        float d1 = __fmul_rn(d, (float)sc), m1 = __fmul_rn(dmin, (float)m);
        int q;
        if (type == GQ_Q4_K) {
            unsigned char x = b[16 + 32 * c + l];
            q = hi ? x >> 4 : x & 0xf;
        } else {
            unsigned char x = b[48 + 32 * c + l], h = b[16 + l];
            int bit = hi ? (2 << (2 * c)) : (1 << (2 * c));
            q = (hi ? x >> 4 : x & 0xf) + ((h & bit) ? 16 : 0);
        }
        return __fsub_rn(__fmul_rn(d1, (float)q), m1);
    }
    default: {  // Q6_K
        int half = j / 128, r = j % 128, quarter = r / 32, l = r % 32, is = l / 16;
        const unsigned char* ql = b + 64 * half;
        unsigned char h = b[128 + 32 * half + l];
        const signed char* sc = (const signed char*)(b + 192 + 8 * half);
        int q;
        switch (quarter) {
        case 0: q = (ql[l] & 0xf) | ((h & 3) << 4); break;
        case 1: q = (ql[l + 32] & 0xf) | (((h >> 2) & 3) << 4); break;
        case 2: q = (ql[l] >> 4) | (((h >> 4) & 3) << 4); break;
        default: q = (ql[l + 32] >> 4) | (((h >> 6) & 3) << 4); break;
        }
        float d = gq_h2f(b + 208);
        return __fmul_rn(__fmul_rn(d, (float)sc[is + 2 * quarter]), (float)(q - 32));
    }
    }
}

// out[i, :] = table[ids[i], :] for nids ids (int32 or int64) of a table of
// nrows rows of `row` elements: blocks of qk elements and bsize bytes
// dequantized to f32, or (type 3/4) int32/int64 elements copied. An id
// outside [0, nrows) gives NaNs (zeros for integers) and sets *err.
extern "C" __global__ void gather_stored(const unsigned char* table, int type, int qk, int bsize, const void* ids,
                                         int ids64, void* out, long long nids, long long row, long long nrows, int* err) {
    long long n = nids * row;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / row, c = i - r * row;
        long long id = ids64 ? ((const long long*)ids)[r] : (long long)((const int*)ids)[r];
        bool bad = id < 0 || id >= nrows;
        if (bad) atomicExch(err, 1);
        if (type == GQ_I32) {
            ((int*)out)[i] = bad ? 0 : ((const int*)table)[id * row + c];
        } else if (type == GQ_I64) {
            ((long long*)out)[i] = bad ? 0 : ((const long long*)table)[id * row + c];
        } else if (bad) {
            ((float*)out)[i] = __int_as_float(0x7fc00000);
        } else {
            const unsigned char* rb = table + id * (row / qk) * bsize;
            ((float*)out)[i] = gq_elem(rb + (c / qk) * bsize, type, (int)(c % qk));
        }
    }
}

// ---- mixture of experts over weights kept as stored ----

#define SW_F32 0
#define SW_F16 1
#define SW_BF16 2

// Element j of row `row` of a weight matrix whose rows are rowBytes apart:
// f32, f16, bf16, or a GGUF block type (qk elements in bsize bytes).
__device__ __forceinline__ float sw_elem(const unsigned char* w, int type, int qk, int bsize, long long rowBytes,
                                         long long row, int j) {
    const unsigned char* r = w + row * rowBytes;
    switch (type) {
    case SW_F32: return ((const float*)r)[j];
    case SW_F16: return gq_h2f(r + 2 * j);
    case SW_BF16: return __int_as_float((int)((unsigned int)(r[2 * j] | (r[2 * j + 1] << 8)) << 16));
    }
    return gq_elem(r + (j / qk) * bsize, type, j % qk);
}

__device__ __forceinline__ float moe_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Weight layout shared by the three matrices of the experts.
struct MoEWeights {
    const unsigned char* base;        // stacked experts: expert e at base + e·expert_bytes
    const unsigned char* const* ptr;  // or per expert pointers (when not null)
    long long expert_bytes;
    long long row_bytes;
    int type, qk, bsize, pad;
};

__device__ __forceinline__ const unsigned char* moe_expert(const MoEWeights& w, int e) {
    return w.ptr ? w.ptr[e] : w.base + e * w.expert_bytes;
}

// h[t, e, f] = act(gate_e[f, :]·x_t) · (up_e[f, :]·x_t) for the experts a
// token routes to (routing weight ≠ 0); one warp per f. Grid: (⌈F/warps⌉,
// E, T). act: 0 silu, 1 gelu (tanh), 2 gelu (erf).
extern "C" __global__ void moe_gate_up(const float* x, const float* r, MoEWeights g, MoEWeights u, int E, int F, int D,
                                       int act, float* h) {
    const int e = blockIdx.y, t = blockIdx.z;
    if (r[(long long)t * E + e] == 0.0f) return;
    const int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    const int f = blockIdx.x * warps + (threadIdx.x >> 5);
    if (f >= F) return;
    const float* xt = x + (long long)t * D;
    const unsigned char *ge = moe_expert(g, e), *ue = moe_expert(u, e);
    float sg = 0.0f, su = 0.0f;
    for (int j = lane; j < D; j += 32) {
        float v = xt[j];
        sg += sw_elem(ge, g.type, g.qk, g.bsize, g.row_bytes, f, j) * v;
        su += sw_elem(ue, u.type, u.qk, u.bsize, u.row_bytes, f, j) * v;
    }
    sg = moe_warp_sum(sg);
    su = moe_warp_sum(su);
    if (lane == 0) {
        float a;
        if (act == 0) a = sg / (1.0f + expf(-sg));
        else if (act == 1) a = 0.5f * sg * (1.0f + tanhf(0.79788456080286536f * (sg + 0.044715f * sg * sg * sg)));
        else a = 0.5f * sg * (1.0f + erff(sg * 0.70710678118654752f));
        h[((long long)t * E + e) * F + f] = a * su;
    }
}

// y[t, o] = Σ_e r[t, e] · (down_e[o, :]·h[t, e, :]) over the experts in
// order (as the host adds them); one warp per o. Grid: (⌈D/warps⌉, T).
extern "C" __global__ void moe_down(const float* r, MoEWeights d, const float* h, float* y, int E, int F, int D) {
    const int t = blockIdx.y;
    const int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    const int o = blockIdx.x * warps + (threadIdx.x >> 5);
    if (o >= D) return;
    float acc = 0.0f;
    for (int e = 0; e < E; e++) {
        const float w = r[(long long)t * E + e];
        if (w == 0.0f) continue;
        const float* he = h + ((long long)t * E + e) * F;
        float s = 0.0f;
        const unsigned char* de = moe_expert(d, e);
        for (int j = lane; j < F; j += 32) s += sw_elem(de, d.type, d.qk, d.bsize, d.row_bytes, o, j) * he[j];
        acc += w * moe_warp_sum(s);
    }
    if (lane == 0) y[(long long)t * D + o] = acc;
}

// Prefill MoE (moe_gate_up_tiled, moe_down_tiled): a block takes a tile of
// MOE_TILE tokens, lists those that route to an expert, and reads each
// weight row once for MOE_BATCH of them instead of once per token. Each
// token's sums run over the same lanes in the same order as in moe_gate_up
// and moe_down, and the experts are still added in order, so the results
// do not depend on which path ran.
#define MOE_TILE 128
#define MOE_BATCH 8

__device__ __forceinline__ float moe_act(float sg, int act) {
    if (act == 0) return sg / (1.0f + expf(-sg));
    if (act == 1) return 0.5f * sg * (1.0f + tanhf(0.79788456080286536f * (sg + 0.044715f * sg * sg * sg)));
    return 0.5f * sg * (1.0f + erff(sg * 0.70710678118654752f));
}

// Grid: (⌈F/warps⌉, E, ⌈T/MOE_TILE⌉), at least MOE_TILE threads.
extern "C" __global__ void moe_gate_up_tiled(const float* x, const float* r, MoEWeights g, MoEWeights u, int E, int F,
                                             int D, int T, int act, float* h) {
    __shared__ int list[MOE_TILE];
    __shared__ int cnt;
    const int e = blockIdx.y, t0 = blockIdx.z * MOE_TILE, tid = threadIdx.x;
    if (tid == 0) cnt = 0;
    __syncthreads();
    // Token order in the list does not matter: each token's sums are its own.
    if (tid < MOE_TILE && t0 + tid < T && r[(long long)(t0 + tid) * E + e] != 0.0f) list[atomicAdd(&cnt, 1)] = t0 + tid;
    __syncthreads();
    const int n = cnt;
    const int warps = blockDim.x >> 5, lane = tid & 31;
    const int f = blockIdx.x * warps + (tid >> 5);
    if (n == 0 || f >= F) return;
    const unsigned char *ge = moe_expert(g, e), *ue = moe_expert(u, e);
    for (int b0 = 0; b0 < n; b0 += MOE_BATCH) {
        const int nb = min(MOE_BATCH, n - b0);
        const float* xt[MOE_BATCH];
        float sg[MOE_BATCH], su[MOE_BATCH];
#pragma unroll
        for (int i = 0; i < MOE_BATCH; i++) {
            xt[i] = x + (long long)list[b0 + min(i, nb - 1)] * D;
            sg[i] = 0.0f;
            su[i] = 0.0f;
        }
        for (int j = lane; j < D; j += 32) {
            const float wg = sw_elem(ge, g.type, g.qk, g.bsize, g.row_bytes, f, j);
            const float wu = sw_elem(ue, u.type, u.qk, u.bsize, u.row_bytes, f, j);
#pragma unroll
            for (int i = 0; i < MOE_BATCH; i++) {
                const float v = xt[i][j];
                sg[i] += wg * v;
                su[i] += wu * v;
            }
        }
#pragma unroll
        for (int i = 0; i < MOE_BATCH; i++) {
            if (i >= nb) break;  // uniform over the warp
            const float a = moe_warp_sum(sg[i]), b = moe_warp_sum(su[i]);
            if (lane == 0) h[((long long)list[b0 + i] * E + e) * F + f] = moe_act(a, act) * b;
        }
    }
}

// Grid: (⌈D/warps⌉, ⌈T/MOE_TILE⌉), at most 8 warps and at least MOE_TILE
// threads; y[t, o] = Σ_e r[t, e] · (down_e[o, :]·h[t, e, :]) in expert order.
extern "C" __global__ void moe_down_tiled(const float* r, MoEWeights d, const float* h, float* y, int E, int F, int D,
                                          int T) {
    __shared__ int list[MOE_TILE];
    __shared__ int cnt;
    __shared__ float acc[8][MOE_TILE];  // [warp][token of the tile]
    const int t0 = blockIdx.y * MOE_TILE, tid = threadIdx.x;
    const int warps = blockDim.x >> 5, lane = tid & 31, wi = tid >> 5;
    const int o = blockIdx.x * warps + wi;
    for (int i = tid; i < 8 * MOE_TILE; i += blockDim.x) acc[i / MOE_TILE][i % MOE_TILE] = 0.0f;
    for (int e = 0; e < E; e++) {
        __syncthreads();  // the previous list is consumed
        if (tid == 0) cnt = 0;
        __syncthreads();
        if (tid < MOE_TILE && t0 + tid < T && r[(long long)(t0 + tid) * E + e] != 0.0f) list[atomicAdd(&cnt, 1)] = tid;
        __syncthreads();
        const int n = cnt;
        if (n == 0 || o >= D) continue;
        const unsigned char* de = moe_expert(d, e);
        for (int b0 = 0; b0 < n; b0 += MOE_BATCH) {
            const int nb = min(MOE_BATCH, n - b0);
            const float* ht[MOE_BATCH];
            float s[MOE_BATCH];
#pragma unroll
            for (int i = 0; i < MOE_BATCH; i++) {
                ht[i] = h + ((long long)(t0 + list[b0 + min(i, nb - 1)]) * E + e) * F;
                s[i] = 0.0f;
            }
            for (int j = lane; j < F; j += 32) {
                const float w = sw_elem(de, d.type, d.qk, d.bsize, d.row_bytes, o, j);
#pragma unroll
                for (int i = 0; i < MOE_BATCH; i++) s[i] += w * ht[i][j];
            }
#pragma unroll
            for (int i = 0; i < MOE_BATCH; i++) {
                if (i >= nb) break;
                const int tt = list[b0 + i];
                const float v = moe_warp_sum(s[i]);
                if (lane == 0) acc[wi][tt] += r[(long long)(t0 + tt) * E + e] * v;
            }
        }
    }
    __syncthreads();
    if (o >= D) return;
    for (int tt = lane; tt < MOE_TILE && t0 + tt < T; tt += 32) y[(long long)(t0 + tt) * D + o] = acc[wi][tt];
}
