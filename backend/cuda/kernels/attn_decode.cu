// Decode attention over an f16 KV cache (flash-decoding): few query rows
// (T·G ≤ 8 per kv head), long key axes. The host side is attnDecode in
// backend/cuda/attention.go; DecArgs must match its encoder field by field.
//
// Grid (B·Hkv units, S splits). The pasts are read on the device, so the
// launch shape does not depend on them (a captured graph replays any step):
// each block derives its keys from past + T, splitting them evenly over the
// S splits with at least min_split keys each; blocks beyond the keys return
// at once.
//
// Inside a block, groups of LK lanes each take one key at a time: every lane
// loads one 16-byte word (8 halves) of the key row and of the value row, so
// a group reads whole rows with coalesced loads, and each group keeps its
// own online softmax (max, sum, 8 output dims per lane) for all R query rows
// of the kv head (the G heads of a GQA group share each load). The groups
// merge through shared memory; with several splits each block writes its
// (max, sum, accumulator) rows to a scratch and the last block of the unit
// to finish (an atomic counter, reset by that block) merges them, so one
// launch does the whole step.
//
// This step's keys and values (positions past … past+T-1) are read from the
// f32 inputs, rounded to f16 as the cache holds them, and the block that
// reads one writes it into the cache: no separate store launch.
//
// Before RLX_GRID_WAIT() (while the kernel ahead, RoPE, still runs) a block
// reads its past as a hint and asks the L2 cache for the cached K and V
// rows of its split (rows before the past were written by earlier steps;
// a stale hint only prefetches the wrong lines), so that the loads after
// the wait hit L2 instead of device memory.

#define DEC_NEG_INF __int_as_float(0xff800000)

struct DecArgs {
    const float* q;          // [B, T, Hq, D]
    const float* kin;        // this step's keys [B, T, Hkv, D]
    const float* vin;        // this step's values [B, T, Hkv, D]
    unsigned short* k;       // f16 cache [B, Sk, Hkv, D]
    unsigned short* v;       // f16 cache [B, Sk, Hkv, D]
    const float* mask;       // additive, addressed by the strides below; or null
    const int* past_rows;    // per batch row pasts [B]; or null (use past)
    float* out;              // [B, T, Hq, D]
    float* part;             // split partials: (max, sum) [units][S][RM][2], then accumulators [units][S][RM][D]
    int* counters;           // [units], zero between launches
    int* err;                // set when a position falls outside the cache
    long long kv_batch;      // element stride between batch rows of the caches
    long long mask_b, mask_h, mask_r, mask_k;
    int B, T, Hq, Hkv, D;
    int past;       // position of query row 0 when past_rows is null
    int sk;         // cache length
    int causal, window;
    int min_split;  // fewest keys per split
    float scale, softcap;
    int prefetch;   // ask L2 for this block's cached rows before RLX_GRID_WAIT
    int whole;      // ranges of at most this many keys take one block (no merge)
};

__device__ __forceinline__ float dec_half(unsigned int h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
    return f;
}

__device__ __forceinline__ unsigned int dec_to_half(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ void dec_unpack(uint4 w, float* f) {
    f[0] = dec_half(w.x & 0xffffu);
    f[1] = dec_half(w.x >> 16);
    f[2] = dec_half(w.y & 0xffffu);
    f[3] = dec_half(w.y >> 16);
    f[4] = dec_half(w.z & 0xffffu);
    f[5] = dec_half(w.z >> 16);
    f[6] = dec_half(w.w & 0xffffu);
    f[7] = dec_half(w.w >> 16);
}

// Eight f32 values rounded to halves and packed as the cache holds them.
__device__ __forceinline__ uint4 dec_pack(const float* src) {
    float4 a = *(const float4*)src, b = *(const float4*)(src + 4);
    uint4 w;
    w.x = dec_to_half(a.x) | (dec_to_half(a.y) << 16);
    w.y = dec_to_half(a.z) | (dec_to_half(a.w) << 16);
    w.z = dec_to_half(b.x) | (dec_to_half(b.y) << 16);
    w.w = dec_to_half(b.z) | (dec_to_half(b.w) << 16);
    return w;
}

// The keys [j0, j1) of split sp of S for a query row 0 at past; returns
// the number of splits that have keys (blocks beyond them have none).
__device__ __forceinline__ int dec_split(const DecArgs& a, int past, int sp, int S, int& j0, int& j1) {
    const int tk = past + a.T;
    const int lo = (a.causal && a.window > 0) ? max(0, past - a.window + 1) : 0;
    const int range = tk - lo;
    if (range <= a.whole) {  // one block, no partials
        j0 = sp == 0 ? lo : tk;
        j1 = tk;
        return 1;
    }
    int len = max((range + S - 1) / S, a.min_split);
    len = (len + 3) & ~3;
    j0 = lo + sp * len;
    j1 = min(tk, j0 + len);
    return (range + len - 1) / len;
}

template <int LK, int RM>
__device__ __forceinline__ void dec_body(const DecArgs& a) {
    constexpr int NT = 128;      // threads per block
    constexpr int NG = NT / LK;  // key groups
    constexpr int KU = RM <= 4 ? 8 : 4;  // keys per group per step (loads in flight)
    constexpr int W = LK * 8;    // dims covered by a group
    constexpr int SMAX = 64;     // most splits (the host's limit)
    __shared__ float s_m[NG][RM], s_l[NG][RM], s_w[NG][RM];
    __shared__ __align__(16) float s_acc[NG * RM * W];
    __shared__ float s_sw[SMAX][RM], s_L[RM];
    __shared__ int s_last;

    const int G = a.Hq / a.Hkv, R = G * a.T, D = a.D;
    const int unit = blockIdx.x, kh = unit % a.Hkv, b = unit / a.Hkv;
    const int sp = blockIdx.y, S = gridDim.y;
    const int tid = threadIdx.x, gi = tid / LK, li = tid % LK;
    const bool lact = li < (D >> 3);  // this lane holds a 16-byte word of the row
    const int d0 = li * 8;
    const long long row = (long long)a.Hkv * D;

    if (a.prefetch) {
        const int hint = a.past_rows ? *(volatile const int*)(a.past_rows + b) : a.past;
        if (hint >= 0 && hint <= a.sk - a.T) {
            int pj0, pj1;
            dec_split(a, hint, sp, S, pj0, pj1);
            pj1 = min(pj1, hint);
            const int lines = (D * 2 + 127) / 128;  // 128-byte lines of a row (rows start on one)
            const unsigned short* kb = a.k + b * a.kv_batch + (long long)kh * D;
            const unsigned short* vb = a.v + b * a.kv_batch + (long long)kh * D;
            for (int i = tid; i < (pj1 - pj0) * lines * 2; i += NT) {
                const int j = pj0 + i / (lines * 2), w = i % (lines * 2);
                const unsigned short* p = (w & 1 ? vb : kb) + (long long)j * row + (w >> 1) * 64;
                asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
            }
        }
    }
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();

    const int past = a.past_rows ? a.past_rows[b] : a.past;
    if (past < 0 || past > a.sk - a.T) {
        if (tid == 0 && sp == 0) atomicExch(a.err, 1);
        return;
    }
    int j0, j1;
    const int nact = dec_split(a, past, sp, S, j0, j1);
    if (sp >= nact) return;

    const long long cbase = b * a.kv_batch + (long long)kh * D + d0;
    const long long ibase = ((long long)b * a.T * a.Hkv + kh) * D + d0;

    float qr[RM][8];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int t = r / G, h = kh * G + r % G;
        if (r < R && lact) {
            const float* src = a.q + (((long long)b * a.T + t) * a.Hq + h) * D + d0;
            float4 x = *(const float4*)src, y = *(const float4*)(src + 4);
            qr[r][0] = x.x; qr[r][1] = x.y; qr[r][2] = x.z; qr[r][3] = x.w;
            qr[r][4] = y.x; qr[r][5] = y.y; qr[r][6] = y.z; qr[r][7] = y.w;
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++) qr[r][e] = 0.0f;
        }
    }
    float m[RM], l[RM], acc[RM][8];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        m[r] = DEC_NEG_INF;
        l[r] = 0.0f;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[r][e] = 0.0f;
    }

    for (int base = j0; base < j1; base += NG * KU) {  // uniform trip count: shuffles below
        uint4 kw[KU], vw[KU];
#pragma unroll
        for (int u = 0; u < KU; u++) {
            const int j = base + gi * KU + u;
            kw[u] = make_uint4(0, 0, 0, 0);
            vw[u] = make_uint4(0, 0, 0, 0);
            if (j < j1 && lact) {
                if (j >= past) {  // this step's row: from the inputs, stored here
                    const long long in = ibase + (long long)(j - past) * row;
                    kw[u] = dec_pack(a.kin + in);
                    vw[u] = dec_pack(a.vin + in);
                    *(uint4*)(a.k + cbase + (long long)j * row) = kw[u];
                    *(uint4*)(a.v + cbase + (long long)j * row) = vw[u];
                } else {
                    kw[u] = *(const uint4*)(a.k + cbase + (long long)j * row);
                    vw[u] = *(const uint4*)(a.v + cbase + (long long)j * row);
                }
            }
        }
        float s[KU][RM];
#pragma unroll
        for (int u = 0; u < KU; u++) {
            float kf[8];
            dec_unpack(kw[u], kf);
            const int j = base + gi * KU + u;
#pragma unroll
            for (int r = 0; r < RM; r++) {
                float dot = 0.0f;
#pragma unroll
                for (int e = 0; e < 8; e++) dot = fmaf(qr[r][e], kf[e], dot);
#pragma unroll
                for (int o = LK / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
                float x = DEC_NEG_INF;
                const int t = r / G, pos = past + t;
                bool vis = r < R && j < j1;
                if (a.causal) vis = vis && j <= pos && (a.window <= 0 || j > pos - a.window);
                if (vis) {
                    x = dot * a.scale;
                    if (a.softcap > 0.0f) x = a.softcap * tanhf(x / a.softcap);
                    if (a.mask)
                        x += a.mask[b * a.mask_b + (long long)(kh * G + r % G) * a.mask_h + (long long)t * a.mask_r +
                                    (long long)j * a.mask_k];
                }
                s[u][r] = x;
            }
        }
#pragma unroll
        for (int r = 0; r < RM; r++) {
            float mt = s[0][r];
#pragma unroll
            for (int u = 1; u < KU; u++) mt = fmaxf(mt, s[u][r]);
            const float mn = fmaxf(m[r], mt);
            float alpha = 1.0f, ps = 0.0f;
            if (mn != DEC_NEG_INF) {
                alpha = expf(m[r] - mn);
#pragma unroll
                for (int u = 0; u < KU; u++) {
                    s[u][r] = s[u][r] == DEC_NEG_INF ? 0.0f : expf(s[u][r] - mn);
                    ps += s[u][r];
                }
            } else {
#pragma unroll
                for (int u = 0; u < KU; u++) s[u][r] = 0.0f;  // nothing visible yet
            }
            m[r] = mn;
            l[r] = l[r] * alpha + ps;
#pragma unroll
            for (int e = 0; e < 8; e++) acc[r][e] *= alpha;
        }
#pragma unroll
        for (int u = 0; u < KU; u++) {
            float vf[8];
            dec_unpack(vw[u], vf);
#pragma unroll
            for (int r = 0; r < RM; r++)
#pragma unroll
                for (int e = 0; e < 8; e++) acc[r][e] = fmaf(s[u][r], vf[e], acc[r][e]);
        }
    }

    // Merge the groups.
#pragma unroll
    for (int r = 0; r < RM; r++) {
        if (li == 0) {
            s_m[gi][r] = m[r];
            s_l[gi][r] = l[r];
        }
#pragma unroll
        for (int e = 0; e < 8; e++) s_acc[(gi * RM + r) * W + d0 + e] = acc[r][e];
    }
    __syncthreads();
    __shared__ float s_M[RM];
    if (tid < RM) {
        float M = DEC_NEG_INF;
        for (int g = 0; g < NG; g++) M = fmaxf(M, s_m[g][tid]);
        float L = 0.0f;
        for (int g = 0; g < NG; g++) {
            const float w = s_l[g][tid] > 0.0f ? expf(s_m[g][tid] - M) : 0.0f;
            s_w[g][tid] = w;
            L += s_l[g][tid] * w;
        }
        s_M[tid] = M;
        s_L[tid] = L;
    }
    __syncthreads();
    // Partials: (max, sum) pairs, then the accumulators (16-byte aligned rows).
    float* pml = a.part;
    float* pacc = a.part + (long long)gridDim.x * S * RM * 2;
    const long long prow = ((long long)unit * S + sp) * RM;
    for (int i = tid; i < R * D; i += NT) {
        const int r = i / D, d = i - r * D;
        float x = 0.0f;
#pragma unroll
        for (int g = 0; g < NG; g++) x = fmaf(s_acc[(g * RM + r) * W + d], s_w[g][r], x);
        if (nact == 1) {
            const int t = r / G, h = kh * G + r % G;
            const float L = s_L[r];
            a.out[(((long long)b * a.T + t) * a.Hq + h) * D + d] = L > 0.0f ? x / L : 0.0f;
        } else {
            pacc[(prow + r) * D + d] = x;
        }
    }
    if (nact == 1) return;
    if (tid < R) {
        pml[(prow + tid) * 2] = s_M[tid];
        pml[(prow + tid) * 2 + 1] = s_L[tid];
    }

    // The last block of the unit to finish merges the splits.
    __threadfence();
    __syncthreads();
    if (tid == 0) s_last = atomicAdd(a.counters + unit, 1) == nact - 1;
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    const long long ubase = (long long)unit * S * RM;
    const int warp = tid >> 5, lane = tid & 31;
    for (int r = warp; r < R; r += NT / 32) {  // a warp per row: weights of the splits
        float M = DEC_NEG_INF;
        for (int s = lane; s < nact; s += 32) M = fmaxf(M, __ldcg(pml + (ubase + (long long)s * RM + r) * 2));
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) M = fmaxf(M, __shfl_xor_sync(0xffffffffu, M, o));
        float L = 0.0f;
        for (int s = lane; s < nact; s += 32) {
            const float* p = pml + (ubase + (long long)s * RM + r) * 2;
            const float ls = __ldcg(p + 1);
            const float w = ls > 0.0f ? expf(__ldcg(p) - M) : 0.0f;
            s_sw[s][r] = w;
            L += ls * w;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) L += __shfl_xor_sync(0xffffffffu, L, o);
        if (lane == 0) s_L[r] = L;
    }
    __syncthreads();
    // Threads take (split part, 4 output dims): every load is independent.
    const int nq = R * D / 4;
    const int sparts = max(1, NT / nq);
    float4* red = (float4*)s_acc;  // [sparts][nq], fits: R·D ≤ RM·NG·W
    for (int i = tid; i < nq * sparts; i += NT) {
        const int qi = i % nq, sp0 = i / nq;
        const int r = qi / (D / 4), d4 = qi - r * (D / 4);
        float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
        for (int s = sp0; s < nact; s += sparts) {
            const float w = s_sw[s][r];
            const float4 v = __ldcg((const float4*)(pacc + (ubase + (long long)s * RM + r) * D) + d4);
            x.x = fmaf(v.x, w, x.x);
            x.y = fmaf(v.y, w, x.y);
            x.z = fmaf(v.z, w, x.z);
            x.w = fmaf(v.w, w, x.w);
        }
        red[sp0 * nq + qi] = x;
    }
    __syncthreads();
    for (int qi = tid; qi < nq; qi += NT) {
        const int r = qi / (D / 4), d4 = qi - r * (D / 4);
        float4 x = red[qi];
        for (int p = 1; p < sparts; p++) {
            const float4 y = red[p * nq + qi];
            x.x += y.x;
            x.y += y.y;
            x.z += y.z;
            x.w += y.w;
        }
        const float L = s_L[r], inv = L > 0.0f ? 1.0f / L : 0.0f;
        x.x *= inv;
        x.y *= inv;
        x.z *= inv;
        x.w *= inv;
        const int t = r / G, h = kh * G + r % G;
        *((float4*)(a.out + (((long long)b * a.T + t) * a.Hq + h) * D) + d4) = x;
    }
    if (tid == 0) a.counters[unit] = 0;  // ready for the next launch
}

#define DEC_KERNEL(LK, RM) \
    extern "C" __global__ void __launch_bounds__(128) attn_dec_##LK##_##RM(DecArgs a) { dec_body<LK, RM>(a); }

DEC_KERNEL(4, 2)
DEC_KERNEL(4, 4)
DEC_KERNEL(4, 8)
DEC_KERNEL(8, 2)
DEC_KERNEL(8, 4)
DEC_KERNEL(8, 8)
DEC_KERNEL(16, 2)
DEC_KERNEL(16, 4)
DEC_KERNEL(16, 8)
DEC_KERNEL(32, 2)
DEC_KERNEL(32, 4)
DEC_KERNEL(32, 8)

// ---------------------------------------------------------------------------
// attn_dec2_<lanes>_<rows>: the same launch contract and DecArgs as
// attn_dec, rebuilt for fewer instructions a warp (the host picks it unless
// RLX_CUDA_DEC_V2=0). A decode step reads little and runs few warps an SM
// (attn_dec: 254 registers, 8 warps), so a block's time is its chain of
// dependent steps and what each warp issues more than bandwidth. attn_dec
// gave each key group KU consecutive keys and ran all KU of them whatever
// the range (at past 1 a thread still scored 8 keys × 4 rows of zeros).
// Here:
//  - keys are dealt round-robin over the groups (key base + u·NG + g), and a
//    step u that holds no key of the range is skipped by the whole block, so
//    a thread's work follows the number of keys, not KU;
//  - blockDim.x is the host's (128 by default, as attn_dec; up to 256);
//  - the queries are loaded before the past (both right after the grid
//    wait) and folded with the scale and log2(e), so that scores are in
//    base 2 (exp2f takes fewer instructions than expf);
//  - the key groups merge through warp shuffles to one partial per warp,
//    then through shared memory (two block barriers), instead of a
//    shared-memory slot per group and serial loops over the groups.
// Split partials keep base-2 maxima; only attn_dec2 blocks read them.

#define DEC_LOG2E 1.4426950408889634f

#ifndef DEC2_KU
#define DEC2_KU 8
#endif

template <int LK, int RM, int NTMAX>
__device__ __forceinline__ void dec2_body(const DecArgs& a) {
    constexpr int NWMAX = NTMAX / 32;
    constexpr int W = LK * 8;  // dims covered by a group
    constexpr int KU = RM <= 4 ? DEC2_KU : (DEC2_KU > 4 ? 4 : DEC2_KU);
    constexpr int SMAX = 64;
    constexpr int ACC = NWMAX * RM * W > 4 * NTMAX ? NWMAX * RM * W : 4 * NTMAX;
    __shared__ float s_wm[NWMAX][RM], s_wl[NWMAX][RM];
    __shared__ __align__(16) float s_acc[ACC];
    __shared__ float s_sw[SMAX][RM], s_L[RM];
    __shared__ int s_last;

    const int NT = blockDim.x, NG = NT / LK, NW = NT >> 5;
    const int G = a.Hq / a.Hkv, R = G * a.T, D = a.D;
    const int unit = blockIdx.x, kh = unit % a.Hkv, b = unit / a.Hkv;
    const int sp = blockIdx.y, S = gridDim.y;
    const int tid = threadIdx.x, gi = tid / LK, li = tid % LK, warp = tid >> 5, lane = tid & 31;
    const bool lact = li < (D >> 3);  // this lane holds a 16-byte word of the row
    const int d0 = li * 8;
    const long long row = (long long)a.Hkv * D;

    if (a.prefetch) {
        const int hint = a.past_rows ? *(volatile const int*)(a.past_rows + b) : a.past;
        if (hint >= 0 && hint <= a.sk - a.T) {
            int pj0, pj1;
            dec_split(a, hint, sp, S, pj0, pj1);
            pj1 = min(pj1, hint);
            const int lines = (D * 2 + 127) / 128;
            const unsigned short* kb = a.k + b * a.kv_batch + (long long)kh * D;
            const unsigned short* vb = a.v + b * a.kv_batch + (long long)kh * D;
            for (int i = tid; i < (pj1 - pj0) * lines * 2; i += NT) {
                const int j = pj0 + i / (lines * 2), w = i % (lines * 2);
                const unsigned short* p = (w & 1 ? vb : kb) + (long long)j * row + (w >> 1) * 64;
                asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
            }
        }
    }
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();

    // The queries do not depend on the past: their loads go out with its.
    const bool capped = a.softcap > 0.0f;
    const float qmul = capped ? a.scale : a.scale * DEC_LOG2E;
    float qr[RM][8];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int t = r / G, h = kh * G + r % G;
        if (r < R && lact) {
            const float* src = a.q + (((long long)b * a.T + t) * a.Hq + h) * D + d0;
            const float4 x = *(const float4*)src, y = *(const float4*)(src + 4);
            qr[r][0] = x.x; qr[r][1] = x.y; qr[r][2] = x.z; qr[r][3] = x.w;
            qr[r][4] = y.x; qr[r][5] = y.y; qr[r][6] = y.z; qr[r][7] = y.w;
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++) qr[r][e] = 0.0f;
        }
    }
    const int past = a.past_rows ? a.past_rows[b] : a.past;
    if (past < 0 || past > a.sk - a.T) {
        if (tid == 0 && sp == 0) atomicExch(a.err, 1);
        return;
    }
    int j0, j1;
    const int nact = dec_split(a, past, sp, S, j0, j1);
    if (sp >= nact) return;
#pragma unroll
    for (int r = 0; r < RM; r++)
#pragma unroll
        for (int e = 0; e < 8; e++) qr[r][e] *= qmul;
    const float cap2 = a.softcap * DEC_LOG2E, icap = capped ? 1.0f / a.softcap : 0.0f;

    const long long cbase = b * a.kv_batch + (long long)kh * D + d0;
    const long long ibase = ((long long)b * a.T * a.Hkv + kh) * D + d0;

    float m[RM], l[RM], acc[RM][8];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        m[r] = DEC_NEG_INF;
        l[r] = 0.0f;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[r][e] = 0.0f;
    }

    for (int base = j0; base < j1; base += NG * KU) {
        const int nu = min(KU, (j1 - base + NG - 1) / NG);  // steps holding keys (block-uniform)
        uint4 kw[KU], vw[KU];
#pragma unroll
        for (int u = 0; u < KU; u++) {
            const int j = base + u * NG + gi;
            kw[u] = make_uint4(0, 0, 0, 0);
            vw[u] = make_uint4(0, 0, 0, 0);
            if (j < j1 && lact) {
                if (j >= past) {  // this step's row: from the inputs, stored here
                    const long long in = ibase + (long long)(j - past) * row;
                    kw[u] = dec_pack(a.kin + in);
                    vw[u] = dec_pack(a.vin + in);
                    *(uint4*)(a.k + cbase + (long long)j * row) = kw[u];
                    *(uint4*)(a.v + cbase + (long long)j * row) = vw[u];
                } else {
                    kw[u] = *(const uint4*)(a.k + cbase + (long long)j * row);
                    vw[u] = *(const uint4*)(a.v + cbase + (long long)j * row);
                }
            }
        }
        float s[KU][RM];
#pragma unroll
        for (int u = 0; u < KU; u++) {
#pragma unroll
            for (int r = 0; r < RM; r++) s[u][r] = DEC_NEG_INF;
            if (u < nu) {
                float kf[8];
                dec_unpack(kw[u], kf);
                const int j = base + u * NG + gi;
#pragma unroll
                for (int r = 0; r < RM; r++) {
                    float dot = 0.0f;
#pragma unroll
                    for (int e = 0; e < 8; e++) dot = fmaf(qr[r][e], kf[e], dot);
#pragma unroll
                    for (int o = LK / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
                    const int t = r / G, pos = past + t;
                    bool vis = r < R && j < j1;
                    if (a.causal) vis = vis && j <= pos && (a.window <= 0 || j > pos - a.window);
                    if (vis) {
                        float x = dot;  // scale (and log2 e without a softcap) folded into q
                        if (capped) x = cap2 * tanhf(x * icap);
                        if (a.mask)
                            x = fmaf(a.mask[b * a.mask_b + (long long)(kh * G + r % G) * a.mask_h +
                                            (long long)t * a.mask_r + (long long)j * a.mask_k],
                                     DEC_LOG2E, x);
                        s[u][r] = x;
                    }
                }
            }
        }
#pragma unroll
        for (int r = 0; r < RM; r++) {
            float mt = s[0][r];
#pragma unroll
            for (int u = 1; u < KU; u++) mt = fmaxf(mt, s[u][r]);
            const float mn = fmaxf(m[r], mt);
            float alpha = 1.0f, ps = 0.0f;
            if (mn != DEC_NEG_INF) {
                alpha = exp2f(m[r] - mn);  // 0 while nothing was visible
#pragma unroll
                for (int u = 0; u < KU; u++) {
                    if (u < nu) {
                        s[u][r] = exp2f(s[u][r] - mn);  // exp2f(-inf) = 0
                        ps += s[u][r];
                    }
                }
            } else {
#pragma unroll
                for (int u = 0; u < KU; u++) s[u][r] = 0.0f;
            }
            m[r] = mn;
            l[r] = l[r] * alpha + ps;
#pragma unroll
            for (int e = 0; e < 8; e++) acc[r][e] *= alpha;
        }
#pragma unroll
        for (int u = 0; u < KU; u++) {
            if (u < nu) {
                float vf[8];
                dec_unpack(vw[u], vf);
#pragma unroll
                for (int r = 0; r < RM; r++)
#pragma unroll
                    for (int e = 0; e < 8; e++) acc[r][e] = fmaf(s[u][r], vf[e], acc[r][e]);
            }
        }
    }

    // The block's maximum per row: over the groups of a warp by shuffles,
    // then over the warps.
    float M[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        float x = m[r];
#pragma unroll
        for (int o = LK; o < 32; o <<= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
        M[r] = x;
    }
    if (NW > 1) {
        if (lane == 0)
#pragma unroll
            for (int r = 0; r < RM; r++) s_wm[warp][r] = M[r];
        __syncthreads();
#pragma unroll
        for (int r = 0; r < RM; r++) {
            float x = s_wm[0][r];
            for (int w = 1; w < NW; w++) x = fmaxf(x, s_wm[w][r]);
            M[r] = x;
        }
    }
    // Every group rescaled to that maximum, then summed over the warp.
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const float c = m[r] == DEC_NEG_INF ? 0.0f : exp2f(m[r] - M[r]);
        l[r] *= c;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[r][e] *= c;
#pragma unroll
        for (int o = LK; o < 32; o <<= 1) {
            l[r] += __shfl_xor_sync(0xffffffffu, l[r], o);
#pragma unroll
            for (int e = 0; e < 8; e++) acc[r][e] += __shfl_xor_sync(0xffffffffu, acc[r][e], o);
        }
    }
    if (lane < LK) {  // the warp's first group holds its sums
#pragma unroll
        for (int r = 0; r < RM; r++) {
            if (lact) {
                float4* dst = (float4*)(s_acc + (warp * RM + r) * W + d0);
                dst[0] = make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
                dst[1] = make_float4(acc[r][4], acc[r][5], acc[r][6], acc[r][7]);
            }
            if (lane == 0) s_wl[warp][r] = l[r];
        }
    }
    __syncthreads();

    float* pml = a.part;
    float* pacc = a.part + (long long)gridDim.x * S * RM * 2;
    const long long prow = ((long long)unit * S + sp) * RM;
    const int D4 = D >> 2;
    for (int i = tid; i < R * D4; i += NT) {
        const int r = i / D4, d4 = i - r * D4;
        float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        float L = 0.0f;
        for (int w = 0; w < NW; w++) {
            const float4 y = *((const float4*)(s_acc + (w * RM + r) * W) + d4);
            x.x += y.x;
            x.y += y.y;
            x.z += y.z;
            x.w += y.w;
            L += s_wl[w][r];
        }
        if (nact == 1) {
            const int t = r / G, h = kh * G + r % G;
            const float inv = L > 0.0f ? 1.0f / L : 0.0f;
            x.x *= inv;
            x.y *= inv;
            x.z *= inv;
            x.w *= inv;
            *((float4*)(a.out + (((long long)b * a.T + t) * a.Hq + h) * D) + d4) = x;
        } else {
            *((float4*)(pacc + (prow + r) * D) + d4) = x;
        }
    }
    if (nact == 1) return;
    if (tid == 0) {
#pragma unroll
        for (int r = 0; r < RM; r++) {
            if (r < R) {
                float L = 0.0f;
                for (int w = 0; w < NW; w++) L += s_wl[w][r];
                pml[(prow + r) * 2] = M[r];
                pml[(prow + r) * 2 + 1] = L;
            }
        }
    }

    // The last block of the unit to finish merges the splits.
    __threadfence();
    __syncthreads();
    if (tid == 0) s_last = atomicAdd(a.counters + unit, 1) == nact - 1;
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    const long long ubase = (long long)unit * S * RM;
    for (int r = warp; r < R; r += NW) {  // a warp per row: weights of the splits
        float Mx = DEC_NEG_INF;
        for (int s = lane; s < nact; s += 32) Mx = fmaxf(Mx, __ldcg(pml + (ubase + (long long)s * RM + r) * 2));
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) Mx = fmaxf(Mx, __shfl_xor_sync(0xffffffffu, Mx, o));
        float L = 0.0f;
        for (int s = lane; s < nact; s += 32) {
            const float* p = pml + (ubase + (long long)s * RM + r) * 2;
            const float ls = __ldcg(p + 1);
            const float w = ls > 0.0f ? exp2f(__ldcg(p) - Mx) : 0.0f;
            s_sw[s][r] = w;
            L += ls * w;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) L += __shfl_xor_sync(0xffffffffu, L, o);
        if (lane == 0) s_L[r] = L;
    }
    __syncthreads();
    // Threads take (split part, 4 output dims): every load is independent.
    const int nq = R * D4;
    const int sparts = max(1, NT / nq);
    float4* red = (float4*)s_acc;  // [sparts][nq] ≤ max(R·D, 4·NT) floats
    for (int i = tid; i < nq * sparts; i += NT) {
        const int qi = i % nq, sp0 = i / nq;
        const int r = qi / D4, d4 = qi - r * D4;
        float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
        for (int s = sp0; s < nact; s += sparts) {
            const float w = s_sw[s][r];
            const float4 v = __ldcg((const float4*)(pacc + (ubase + (long long)s * RM + r) * D) + d4);
            x.x = fmaf(v.x, w, x.x);
            x.y = fmaf(v.y, w, x.y);
            x.z = fmaf(v.z, w, x.z);
            x.w = fmaf(v.w, w, x.w);
        }
        red[sp0 * nq + qi] = x;
    }
    __syncthreads();
    for (int qi = tid; qi < nq; qi += NT) {
        const int r = qi / D4, d4 = qi - r * D4;
        float4 x = red[qi];
        for (int p = 1; p < sparts; p++) {
            const float4 y = red[p * nq + qi];
            x.x += y.x;
            x.y += y.y;
            x.z += y.z;
            x.w += y.w;
        }
        const float L = s_L[r], inv = L > 0.0f ? 1.0f / L : 0.0f;
        x.x *= inv;
        x.y *= inv;
        x.z *= inv;
        x.w *= inv;
        const int t = r / G, h = kh * G + r % G;
        *((float4*)(a.out + (((long long)b * a.T + t) * a.Hq + h) * D) + d4) = x;
    }
    if (tid == 0) a.counters[unit] = 0;  // ready for the next launch
}

// Blocks of up to 256 threads (128 where the shared partials would pass 32 KiB).
#define DEC2_KERNEL(LK, RM)                                                         \
    extern "C" __global__ void __launch_bounds__(RM * LK > 128 ? 128 : 256)         \
        attn_dec2_##LK##_##RM(DecArgs a) {                                          \
        dec2_body<LK, RM, (RM * LK > 128 ? 128 : 256)>(a);                          \
    }

DEC2_KERNEL(4, 2)
DEC2_KERNEL(4, 4)
DEC2_KERNEL(4, 8)
DEC2_KERNEL(8, 2)
DEC2_KERNEL(8, 4)
DEC2_KERNEL(8, 8)
DEC2_KERNEL(16, 2)
DEC2_KERNEL(16, 4)
DEC2_KERNEL(16, 8)
DEC2_KERNEL(32, 2)
DEC2_KERNEL(32, 4)
DEC2_KERNEL(32, 8)

