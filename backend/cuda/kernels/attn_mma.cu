// Prefill attention over an f16 KV cache on the tensor cores (mma.sync
// m16n8k16, f16 inputs, f32 accumulation) with an online softmax. The host
// side is attnMMA in backend/cuda/attention_mma.go; MmaArgs must match its
// encoder field by field.
//
// A block takes 16·WARPS query rows of one (batch row, kv head): the rows
// are the (position, head) pairs of the G query heads sharing the kv head,
// so each 64-key tile of K and V loaded into shared memory serves all of
// them. Each warp owns 16 rows. (2 warps when 4 would leave SMs idle.)
//
// Causal rows near the end of a prompt see many more keys than those near
// its start; one block per row block left the longest ones (8 tiles for a
// 512-token prompt) running alone on their SMs while most SMs idled. With
// splits > 1 each row block's key range is cut into up to `splits` pieces
// of at least min_split keys, derived on the device from the past (so the
// launch shape depends only on T), each piece a block of its own; a
// row block with one piece writes its output directly, otherwise each
// piece writes (max, sum, accumulator) rows to a scratch and the last one
// to finish (an atomic counter, reset by that block) merges them.
//
// Keys and values are f16 already (the cache
// holds them rounded); the f32 queries and softmax weights are split into
// a high and a low f16 part (x = hi + lo, |lo| ≤ 2^-11 |x|) and both parts
// go through the tensor cores, so the products keep about 22 bits of the
// f32 operands instead of f16's 11: the results stay within f32-path
// tolerances of the float64 reference at twice the tensor-core work, which
// is not what limits this kernel.

#define MMA_NEG_INF __int_as_float(0xff800000)

struct MmaArgs {
    const float* q;               // [B, T, Hq, D]
    const unsigned short* k;      // f16 cache [B, Sk, Hkv, D]
    const unsigned short* v;      // f16 cache [B, Sk, Hkv, D]
    const float* mask;            // additive, addressed by the strides below; or null
    const int* past_rows;         // per batch row pasts [B]; or null (use past)
    float* out;                   // [B, T, Hq, D]
    float* part;                  // split partials: (max, sum) [P][ROWS][2], then accumulators [P][ROWS][D]
    int* counters;                // [row blocks] (shared with attn_dec), zero between launches
    long long kv_batch;           // element stride between batch rows of the caches
    long long mask_b, mask_h, mask_r, mask_k;
    int B, T, Hq, Hkv, past, causal, window;
    int min_split;                // fewest keys per split (a multiple of 64) when splits > 1
    int splits;                   // key splits per row block (the grid's factor); 1: no partials
    int pad;
    float scale, softcap;
};

__device__ __forceinline__ unsigned mma_pack(float lo, float hi) {  // lo in the low half
    unsigned d;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(d) : "f"(hi), "f"(lo));
    return d;
}

__device__ __forceinline__ float mma_lo(unsigned w) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)(w & 0xffffu)));
    return f;
}

__device__ __forceinline__ float mma_hi(unsigned w) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)(w >> 16)));
    return f;
}

// Two f32 values as packed f16 high parts and packed f16 remainders.
__device__ __forceinline__ void mma_split(float x0, float x1, unsigned& hi, unsigned& lo) {
    hi = mma_pack(x0, x1);
    lo = mma_pack(x0 - mma_lo(hi), x1 - mma_hi(hi));
}

__device__ __forceinline__ void mma_16816(float* c, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned mma_smem(const void* p) {  // a shared-window address
    unsigned a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

// The key pieces of one row block: each block writes its rows' (max, sum)
// and unnormalized accumulators, and the last of the unit's nact blocks to
// finish merges them into the output (as attn_dec merges its splits).
template <int D, int WARPS>
__device__ __forceinline__ void mma_merge(const MmaArgs& a, const float (*o)[4], const float* m, const float* l, int urb,
                                       int sp, int nact, int r0, int R, int G, int b, int kh) {
    constexpr int NTH = 32 * WARPS, ROWS = 16 * WARPS, NT = D / 8, SMAX = 8;
    __shared__ float s_w[SMAX][ROWS], s_L[ROWS];
    __shared__ int s_last;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, c = lane & 3;
    const long long nparts = (long long)gridDim.x;  // every (row block, piece) has a slot
    float* pml = a.part;
    float* pacc = a.part + nparts * ROWS * 2;
    const long long slot = (long long)urb * a.splits;
    const long long prow = (slot + sp) * ROWS;
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        const int lr = warp * 16 + g + 8 * ri;
        if (c == 0) {
            pml[(prow + lr) * 2] = m[ri];
            pml[(prow + lr) * 2 + 1] = l[ri];
        }
        float* dst = pacc + (prow + lr) * D + 2 * c;
#pragma unroll
        for (int n = 0; n < NT; n++) *(float2*)(dst + n * 8) = make_float2(o[n][2 * ri], o[n][2 * ri + 1]);
    }
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) s_last = atomicAdd(a.counters + urb, 1) == nact - 1;
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    for (int r = threadIdx.x; r < ROWS; r += NTH) {
        float M = MMA_NEG_INF;
        for (int s = 0; s < nact; s++) M = fmaxf(M, __ldcg(pml + ((slot + s) * ROWS + r) * 2));
        float L = 0.0f;
        for (int s = 0; s < nact; s++) {
            const float* p = pml + ((slot + s) * ROWS + r) * 2;
            const float ls = __ldcg(p + 1);
            const float w = ls > 0.0f ? expf(__ldcg(p) - M) : 0.0f;
            s_w[s][r] = w;
            L += ls * w;
        }
        s_L[r] = L;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < ROWS * (D / 4); i += NTH) {
        const int r = i / (D / 4), d4 = i - r * (D / 4), row = r0 + r;
        if (row >= R) continue;
        float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        for (int s = 0; s < nact; s++) {
            const float w = s_w[s][r];
            const float4 v = __ldcg((const float4*)(pacc + ((slot + s) * ROWS + r) * D) + d4);
            x.x = fmaf(v.x, w, x.x);
            x.y = fmaf(v.y, w, x.y);
            x.z = fmaf(v.z, w, x.z);
            x.w = fmaf(v.w, w, x.w);
        }
        const float L = s_L[r], inv = L > 0.0f ? 1.0f / L : 0.0f;
        x.x *= inv;
        x.y *= inv;
        x.z *= inv;
        x.w *= inv;
        const int t = row / G, h = kh * G + row % G;
        *((float4*)(a.out + (((long long)b * a.T + t) * a.Hq + h) * D) + d4) = x;
    }
    if (threadIdx.x == 0) a.counters[urb] = 0;  // ready for the next launch
}

// SPLIT: queries and softmax weights go through the tensor cores as f16
// high and low parts (about f32 precision); otherwise rounded once to f16
// (the backend's HalfActivations: half the MMAs, ~2^-11 relative error per
// operand, as the cache's own rounding of K and V).
template <int D, int WARPS, bool SPLIT>
__device__ __forceinline__ void mma_body(const MmaArgs& a) {
    constexpr int NTH = 32 * WARPS, ROWS = 16 * WARPS;  // threads and query rows of a block
    constexpr int KT = 64;      // keys per tile
    constexpr int KS = D + 8;   // shared row stride in halves: lanes g = 0…7 hit distinct banks
    constexpr int KK = D / 16;  // k-steps over the head dims
    constexpr int NT = D / 8;   // output dim tiles
    constexpr int PER = KT * (D / 8) / NTH;  // 16-byte words of K (and of V) per thread per tile
    static_assert(KT * (D / 8) % NTH == 0, "whole words per thread");
    __shared__ __align__(16) unsigned short Ks[KT * KS];
    __shared__ __align__(16) unsigned short Vs[KT * KS];

    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    const int G = a.Hq / a.Hkv, R = a.T * G;
    const int nrb = (R + ROWS - 1) / ROWS;
    int u = blockIdx.x;
    const int sp = u % a.splits;
    u /= a.splits;
    const int rb = nrb - 1 - u % nrb;  // the longest (last) rows first
    u /= nrb;
    const int kh = u % a.Hkv, b = u / a.Hkv;
    const int urb = (b * a.Hkv + kh) * nrb + rb;  // this row block's counter
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, c = lane & 3;

    const int past = a.past_rows ? a.past_rows[b] : a.past;
    const int tk = past + a.T;
    const int r0 = rb * ROWS, rl = min(R, r0 + ROWS) - 1;
    int lo = 0, hi = tk;
    if (a.causal) {
        hi = min(hi, past + rl / G + 1);
        if (a.window > 0) lo = max(0, past + r0 / G - a.window + 1);
    }
    // This block's piece of [lo, hi): whole tiles, pieces of equal length.
    int nact = 1;
    if (a.splits > 1 && hi > lo) {
        int len = max((hi - lo + a.splits - 1) / a.splits, a.min_split);
        len = (len + KT - 1) / KT * KT;
        nact = (hi - lo + len - 1) / len;
        if (sp >= nact) return;
        lo += sp * len;
        hi = min(hi, lo + len);
    } else if (sp > 0) {
        return;
    }

    // This lane's two rows (g and g + 8 of the warp's 16).
    const int wr0 = r0 + warp * 16;
    const bool wact = wr0 < R;
    const int wposf = past + wr0 / G, wposl = past + (min(R, wr0 + 16) - 1) / G;
    int rowr[2], pos[2], head[2], trow[2];
    bool valid[2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        rowr[i] = wr0 + g + 8 * i;
        valid[i] = rowr[i] < R;
        trow[i] = valid[i] ? rowr[i] / G : 0;
        head[i] = kh * G + (valid[i] ? rowr[i] % G : 0);
        pos[i] = past + trow[i];
    }

    // Query fragments (A, row-major 16×16 per k-step), high and low parts.
    unsigned qh[KK][4], ql[SPLIT ? KK : 1][4];
#pragma unroll
    for (int kk = 0; kk < KK; kk++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int ri = i & 1, col = 16 * kk + 2 * c + (i >= 2 ? 8 : 0);
            float2 x = make_float2(0.0f, 0.0f);
            if (valid[ri]) x = *(const float2*)(a.q + (((long long)b * a.T + trow[ri]) * a.Hq + head[ri]) * D + col);
            if constexpr (SPLIT) mma_split(x.x, x.y, qh[kk][i], ql[kk][i]);
            else qh[kk][i] = mma_pack(x.x, x.y);
        }
    }

    float o[NT][4];
#pragma unroll
    for (int n = 0; n < NT; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m[2] = {MMA_NEG_INF, MMA_NEG_INF}, l[2] = {0.0f, 0.0f};

    const long long krow = (long long)a.Hkv * D;
    const unsigned short* kb = a.k + b * a.kv_batch + (long long)kh * D;
    const unsigned short* vb = a.v + b * a.kv_batch + (long long)kh * D;
    const float* mrow[2] = {0, 0};
    if (a.mask) {
#pragma unroll
        for (int i = 0; i < 2; i++)
            mrow[i] = a.mask + b * a.mask_b + (long long)head[i] * a.mask_h + (long long)trow[i] * a.mask_r;
    }

    for (int j0 = lo; j0 < hi; j0 += KT) {
        // Every load of the tile is issued before the first store (one
        // round trip to memory per tile, not one per word).
        uint4 kw[PER], vw[PER];
#pragma unroll
        for (int p = 0; p < PER; p++) {
            const int i = threadIdx.x + p * NTH, key = i / (D / 8), ch = i - key * (D / 8), j = j0 + key;
            kw[p] = make_uint4(0, 0, 0, 0);  // zeros past the keys: 0·v, never NaN
            vw[p] = make_uint4(0, 0, 0, 0);
            if (j < hi) {
                kw[p] = *(const uint4*)(kb + (long long)j * krow + ch * 8);
                vw[p] = *(const uint4*)(vb + (long long)j * krow + ch * 8);
            }
        }
        __syncthreads();  // the previous tile is consumed
#pragma unroll
        for (int p = 0; p < PER; p++) {
            const int i = threadIdx.x + p * NTH, key = i / (D / 8), ch = i - key * (D / 8);
            *(uint4*)(Ks + key * KS + ch * 8) = kw[p];
            *(uint4*)(Vs + key * KS + ch * 8) = vw[p];
        }
        __syncthreads();
        if (!wact) continue;
        if (a.causal && (j0 > wposl || (a.window > 0 && j0 + KT - 1 <= wposf - a.window))) continue;

        // S = Q·Kᵀ: 8 tiles of 8 keys.
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            const unsigned short* kr = Ks + (n * 8 + g) * KS + 2 * c;
#pragma unroll
            for (int kk = 0; kk < KK; kk++) {
                const unsigned b0 = *(const unsigned*)(kr + 16 * kk);
                const unsigned b1 = *(const unsigned*)(kr + 16 * kk + 8);
                mma_16816(s[n], qh[kk], b0, b1);
                if constexpr (SPLIT) mma_16816(s[n], ql[kk], b0, b1);
            }
        }
        float mx[2] = {MMA_NEG_INF, MMA_NEG_INF};
#pragma unroll
        for (int n = 0; n < 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int ri = e >> 1, j = j0 + n * 8 + 2 * c + (e & 1);
                bool vis = valid[ri] && j < hi;
                if (a.causal) vis = vis && j <= pos[ri] && (a.window <= 0 || j > pos[ri] - a.window);
                float x = MMA_NEG_INF;
                if (vis) {
                    x = s[n][e] * a.scale;
                    if (a.softcap > 0.0f) x = a.softcap * tanhf(x / a.softcap);
                    if (mrow[ri]) x += mrow[ri][(long long)j * a.mask_k];
                }
                s[n][e] = x;
                mx[ri] = fmaxf(mx[ri], x);
            }
        }
        float alpha[2];
#pragma unroll
        for (int ri = 0; ri < 2; ri++) {
            mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 1));
            mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 2));
            const float mn = fmaxf(m[ri], mx[ri]);
            alpha[ri] = mn == MMA_NEG_INF ? 1.0f : expf(m[ri] - mn);
            m[ri] = mn;
        }
        float ps[2] = {0.0f, 0.0f};
#pragma unroll
        for (int n = 0; n < 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int ri = e >> 1;
                const float p = s[n][e] == MMA_NEG_INF ? 0.0f : expf(s[n][e] - m[ri]);
                s[n][e] = p;
                ps[ri] += p;
            }
        }
#pragma unroll
        for (int ri = 0; ri < 2; ri++) l[ri] = l[ri] * alpha[ri] + ps[ri];  // this lane's share of the row
#pragma unroll
        for (int n = 0; n < NT; n++) {
            o[n][0] *= alpha[0];
            o[n][1] *= alpha[0];
            o[n][2] *= alpha[1];
            o[n][3] *= alpha[1];
        }

        // O += P·V: the score tiles 2k, 2k+1 are the A fragment of k-step k.
#pragma unroll
        for (int kk = 0; kk < KT / 16; kk++) {
            unsigned ph[4], pl[SPLIT ? 4 : 1];
            if constexpr (SPLIT) {
                mma_split(s[2 * kk][0], s[2 * kk][1], ph[0], pl[0]);
                mma_split(s[2 * kk][2], s[2 * kk][3], ph[1], pl[1]);
                mma_split(s[2 * kk + 1][0], s[2 * kk + 1][1], ph[2], pl[2]);
                mma_split(s[2 * kk + 1][2], s[2 * kk + 1][3], ph[3], pl[3]);
            } else {
                ph[0] = mma_pack(s[2 * kk][0], s[2 * kk][1]);
                ph[1] = mma_pack(s[2 * kk][2], s[2 * kk][3]);
                ph[2] = mma_pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                ph[3] = mma_pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
            }
            // V (keys × dims, row-major) read transposed: the B fragments
            // of dim tiles n and n + 1.
            const unsigned short* vr = Vs + (16 * kk + (lane & 15)) * KS + (lane >> 4) * 8;
#pragma unroll
            for (int n = 0; n < NT; n += 2) {
                unsigned b0, b1, b2, b3;
                const unsigned addr = mma_smem(vr + n * 8);
                asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                             : "=r"(b0), "=r"(b1), "=r"(b2), "=r"(b3)
                             : "r"(addr));
                mma_16816(o[n], ph, b0, b1);
                if constexpr (SPLIT) mma_16816(o[n], pl, b0, b1);
                mma_16816(o[n + 1], ph, b2, b3);
                if constexpr (SPLIT) mma_16816(o[n + 1], pl, b2, b3);
            }
        }
    }
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        l[ri] += __shfl_xor_sync(0xffffffffu, l[ri], 1);
        l[ri] += __shfl_xor_sync(0xffffffffu, l[ri], 2);
    }
    if (nact > 1) {
        mma_merge<D, WARPS>(a, o, m, l, urb, sp, nact, r0, R, G, b, kh);
        return;
    }
    if (!wact) return;
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        if (!valid[ri]) continue;
        const float inv = l[ri] > 0.0f ? 1.0f / l[ri] : 0.0f;
        float* dst = a.out + (((long long)b * a.T + trow[ri]) * a.Hq + head[ri]) * D + 2 * c;
#pragma unroll
        for (int n = 0; n < NT; n++) *(float2*)(dst + n * 8) = make_float2(o[n][2 * ri] * inv, o[n][2 * ri + 1] * inv);
    }
}

#define MMA_KERNEL(D, W)                                                                                            \
    extern "C" __global__ void __launch_bounds__(32 * W) attn_mma_##D##_##W(MmaArgs a) { mma_body<D, W, true>(a); } \
    extern "C" __global__ void __launch_bounds__(32 * W) attn_mmah_##D##_##W(MmaArgs a) { mma_body<D, W, false>(a); }

MMA_KERNEL(64, 4)
MMA_KERNEL(80, 4)
MMA_KERNEL(96, 4)
MMA_KERNEL(128, 4)
MMA_KERNEL(64, 2)
MMA_KERNEL(80, 2)
MMA_KERNEL(96, 2)
MMA_KERNEL(128, 2)
