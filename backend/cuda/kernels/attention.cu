// Fused scaled-dot-product attention over f32 queries and f32 or f16 keys
// and values, with the KV cache held in device memory. The host side is
// backend/cuda/attention.go; AttnArgs must match its encoder field by field.
//
// A block handles one (batch row, kv head, block of query rows) and one
// split of the key axis: the G query heads that share the kv head run in
// its warps (one warp per query head and row), so each tile of keys and
// values is loaded into shared memory once for all of them. Each warp keeps
// an online softmax (running max m, sum l, accumulator over Dv): lanes
// score keys lane and lane+32 of the tile, then accumulate dims lane,
// lane+32, … of the output. With one split the block writes the output;
// with several, each writes (m, l, acc) and attn_combine merges them.

#define RLX_NEG_INF __int_as_float(0xff800000)
#define ATT_MAX_D 256          // largest head size (keys and values)
#define ATT_REGS (ATT_MAX_D / 32)

__device__ __forceinline__ float att_half(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ float att_half_bits(unsigned int h) { return att_half((unsigned short)h); }

struct AttnArgs {
    const float* q;          // [B, T, Hq, D]
    const void* k;           // [B, Sk, Hkv, D] (a cache or this step's keys)
    const void* v;           // [B, Sk, Hkv, Dv]
    const float* mask;       // additive, addressed by the strides below; or null
    const int* past_rows;    // per batch row pasts [B]; or null (use past)
    float* out;              // [B, T, Hq, Dv]
    float* part;             // split partials [B, T, Hq, splits, Dv + 2]; or null
    long long k_batch, v_batch;                    // element strides between batch rows of k and v
    long long mask_b, mask_h, mask_r, mask_k;      // element strides of the mask
    int B, T, Hq, Hkv, D, Dv;
    int past;       // absolute position of query row 0 (when past_rows is null)
    int tk_fixed;   // number of keys of uncached attention, or -1: past + T (cached)
    int causal, window;
    int kv_f16;     // k and v hold IEEE half bit patterns
    int rows;       // query rows per block
    int tile;       // keys per shared-memory tile (≤ 64)
    int split_len;  // keys per split (gridDim.y splits)
    int vec;        // k and v rows are 16-byte aligned and D, Dv multiples of 8 (f16) or 4 (f32)
    float scale, softcap;
};

// Eight halves of a 16-byte word to floats.
__device__ __forceinline__ void att_unpack8(uint4 w, float* dst) {
    unsigned int u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        dst[2 * i] = att_half_bits(u[i] & 0xffffu);
        dst[2 * i + 1] = att_half_bits(u[i] >> 16);
    }
}


__device__ __forceinline__ unsigned short att_to_half(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float att_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float att_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

extern "C" __global__ void attn_f32(AttnArgs a) {
    extern __shared__ float sh[];
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    const int G = a.Hq / a.Hkv;
    const int slots = G * a.rows;
    const int warps = blockDim.x >> 5;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int qblocks = (a.T + a.rows - 1) / a.rows;
    int unit = blockIdx.x;
    const int qb = unit % qblocks;
    unit /= qblocks;
    const int kh = unit % a.Hkv;
    const int b = unit / a.Hkv;
    const int sp = blockIdx.y, splits = gridDim.y;
    const int t0 = qb * a.rows, t1 = min(t0 + a.rows, a.T);

    const int past = a.past_rows ? a.past_rows[b] : a.past;
    const int tk = a.tk_fixed >= 0 ? a.tk_fixed : past + a.T;
    // Keys any row of this block can see, within this split.
    int lo = sp * a.split_len, hi = min(tk, lo + a.split_len);
    if (a.causal) {
        hi = min(hi, past + t1);
        if (a.window > 0) lo = max(lo, past + t0 - a.window + 1);
    }
    lo = max(lo, 0);

    const int D = a.D, Dv = a.Dv, ks = D + 1;  // K rows padded: lanes read distinct banks
    float* Ks = sh;                       // [tile][D + 1]
    float* Vs = Ks + a.tile * ks;         // [tile][Dv]
    float* Qs = Vs + a.tile * Dv;         // [warps][D]
    float* Ps = Qs + warps * D;           // [warps][64]
    const long long krow = (long long)a.Hkv * D, vrow = (long long)a.Hkv * Dv;
    const unsigned short* k16 = (const unsigned short*)a.k;
    const unsigned short* v16 = (const unsigned short*)a.v;
    const float* k32 = (const float*)a.k;
    const float* v32 = (const float*)a.v;
    const long long kbase = b * a.k_batch + (long long)kh * D;
    const long long vbase = b * a.v_batch + (long long)kh * Dv;

    for (int s0 = 0; s0 < slots; s0 += warps) {
        const int s = s0 + warp;
        const int gh = s % G, t = t0 + s / G;
        const bool mine = s < slots && t < t1;
        const int h = kh * G + gh;
        float* qs = Qs + warp * D;
        float* ps = Ps + warp * 64;
        if (mine) {
            const float* qrow = a.q + (((long long)b * a.T + t) * a.Hq + h) * D;
            for (int d = lane; d < D; d += 32) qs[d] = qrow[d];
        }
        __syncwarp();
        float m = RLX_NEG_INF, l = 0.0f;
        float acc[ATT_REGS];
#pragma unroll
        for (int r = 0; r < ATT_REGS; r++) acc[r] = 0.0f;
        const int pos = past + t;  // this row's absolute position
        const float* mrow = 0;
        if (mine && a.mask) mrow = a.mask + b * a.mask_b + (long long)h * a.mask_h + (long long)t * a.mask_r;

        for (int j0 = lo; j0 < hi; j0 += a.tile) {
            const int n = min(a.tile, hi - j0);
            __syncthreads();  // the previous tile is consumed
            if (a.vec && a.kv_f16) {  // 16-byte loads of 8 halves
                const int k8 = D >> 3, v8 = Dv >> 3;
                for (int i = threadIdx.x; i < n * k8; i += blockDim.x) {
                    int jj = i / k8, d = (i - jj * k8) << 3;
                    uint4 w = *(const uint4*)(k16 + kbase + (long long)(j0 + jj) * krow + d);
                    att_unpack8(w, Ks + jj * ks + d);
                }
                for (int i = threadIdx.x; i < n * v8; i += blockDim.x) {
                    int jj = i / v8, d = (i - jj * v8) << 3;
                    uint4 w = *(const uint4*)(v16 + vbase + (long long)(j0 + jj) * vrow + d);
                    att_unpack8(w, Vs + jj * Dv + d);
                }
            } else if (a.vec) {  // 16-byte loads of 4 floats
                const int k4 = D >> 2, v4 = Dv >> 2;
                for (int i = threadIdx.x; i < n * k4; i += blockDim.x) {
                    int jj = i / k4, d = (i - jj * k4) << 2;
                    float4 w = *(const float4*)(k32 + kbase + (long long)(j0 + jj) * krow + d);
                    float* dst = Ks + jj * ks + d;  // padded rows: not 16-byte aligned
                    dst[0] = w.x;
                    dst[1] = w.y;
                    dst[2] = w.z;
                    dst[3] = w.w;
                }
                for (int i = threadIdx.x; i < n * v4; i += blockDim.x) {
                    int jj = i / v4, d = (i - jj * v4) << 2;
                    *(float4*)(Vs + jj * Dv + d) = *(const float4*)(v32 + vbase + (long long)(j0 + jj) * vrow + d);
                }
            } else {
                for (int i = threadIdx.x; i < n * D; i += blockDim.x) {
                    int jj = i / D, d = i - jj * D;
                    long long at = kbase + (long long)(j0 + jj) * krow + d;
                    Ks[jj * ks + d] = a.kv_f16 ? att_half(k16[at]) : k32[at];
                }
                for (int i = threadIdx.x; i < n * Dv; i += blockDim.x) {
                    int jj = i / Dv, d = i - jj * Dv;
                    long long at = vbase + (long long)(j0 + jj) * vrow + d;
                    Vs[jj * Dv + d] = a.kv_f16 ? att_half(v16[at]) : v32[at];
                }
            }
            __syncthreads();
            if (!mine) continue;  // whole warps: the shuffles below stay uniform
            float sc[2];
#pragma unroll
            for (int u = 0; u < 2; u++) {
                const int jj = lane + 32 * u, j = j0 + jj;
                float x = RLX_NEG_INF;
                bool vis = jj < n;
                if (a.causal) vis = vis && j <= pos && (a.window <= 0 || j > pos - a.window);
                if (vis) {
                    const float* kr = Ks + jj * ks;
                    float dot = 0.0f;
                    for (int d = 0; d < D; d++) dot = fmaf(qs[d], kr[d], dot);
                    x = dot * a.scale;
                    if (a.softcap > 0.0f) x = a.softcap * tanhf(x / a.softcap);
                    if (mrow) x += mrow[(long long)j * a.mask_k];
                }
                sc[u] = x;
            }
            const float mt = att_warp_max(fmaxf(sc[0], sc[1]));
            const float mn = fmaxf(m, mt);
            if (mn == RLX_NEG_INF) continue;  // nothing visible yet
            const float alpha = expf(m - mn);
            const float p0 = sc[0] == RLX_NEG_INF ? 0.0f : expf(sc[0] - mn);
            const float p1 = sc[1] == RLX_NEG_INF ? 0.0f : expf(sc[1] - mn);
            l = l * alpha + att_warp_sum(p0 + p1);
            ps[lane] = p0;
            ps[lane + 32] = p1;
            __syncwarp();
#pragma unroll
            for (int r = 0; r < ATT_REGS; r++) {
                const int d = lane + 32 * r;
                if (d < Dv) {
                    float x = acc[r] * alpha;
                    for (int jj = 0; jj < n; jj++) x = fmaf(ps[jj], Vs[jj * Dv + d], x);
                    acc[r] = x;
                }
            }
            __syncwarp();
            m = mn;
        }
        if (mine) {
            const long long row = ((long long)b * a.T + t) * a.Hq + h;
            if (splits == 1) {
                float* o = a.out + row * Dv;
                const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
                for (int r = 0; r < ATT_REGS; r++) {
                    const int d = lane + 32 * r;
                    if (d < Dv) o[d] = acc[r] * inv;
                }
            } else {
                float* p = a.part + (row * splits + sp) * (long long)(Dv + 2);
                if (lane == 0) {
                    p[0] = m;
                    p[1] = l;
                }
#pragma unroll
                for (int r = 0; r < ATT_REGS; r++) {
                    const int d = lane + 32 * r;
                    if (d < Dv) p[2 + d] = acc[r];
                }
            }
        }
        __syncwarp();
    }
}

// Merges the splits of attn_f32: one block per output row (b, t, h).
extern "C" __global__ void attn_combine(const float* part, float* out, long long rows, int splits, int Dv) {
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* p = part + row * splits * (long long)(Dv + 2);
        float M = RLX_NEG_INF;
        for (int s = 0; s < splits; s++) M = fmaxf(M, p[s * (Dv + 2)]);
        float L = 0.0f;
        if (M != RLX_NEG_INF) {
            for (int s = 0; s < splits; s++) {
                const float* q = p + s * (Dv + 2);
                if (q[1] > 0.0f) L += q[1] * expf(q[0] - M);
            }
        }
        float* o = out + row * Dv;
        for (int d = threadIdx.x; d < Dv; d += blockDim.x) {
            float x = 0.0f;
            if (L > 0.0f) {
                for (int s = 0; s < splits; s++) {
                    const float* q = p + s * (Dv + 2);
                    if (q[1] > 0.0f) x += q[2 + d] * expf(q[0] - M);
                }
                x /= L;
            }
            o[d] = x;
        }
    }
}

// Writes this step's keys ks [B, T, krow] and values vs [B, T, vrow] (f32)
// into the caches kc [B, Sk, krow] and vc [B, Sk, vrow] (f16 or f32) at
// rows [past_b, past_b + T), in one launch. Rows that would fall outside
// the cache are not written and set *err.
extern "C" __global__ void kv_store2(const float* ks, const float* vs, void* kc, void* vc, int f16, int B, int T,
                                     long long krow, long long vrow, long long Sk, int past, const int* past_rows,
                                     int* err, int vec) {
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    // A thread takes `vec` consecutive values of one row (vec = 4: krow and
    // vrow multiples of 4, ks/vs 16-byte aligned, the caches 8- (f16) or
    // 16-byte (f32) aligned; the host checks), so one float4 load, one
    // store and one row/position computation serve four values.
    const long long nk = (long long)B * T * krow / vec, n = nk + (long long)B * T * vrow / vec;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const bool isv = i >= nk;
        const long long j = (isv ? i - nk : i) * vec, row = isv ? vrow : krow;
        const float* src = isv ? vs : ks;
        void* cache = isv ? vc : kc;
        const long long r = j / row, c = j - r * row;
        const int b = (int)(r / T), t = (int)(r - (long long)b * T);
        const long long p = (long long)(past_rows ? past_rows[b] : past) + t;
        if (p < 0 || p >= Sk) {
            atomicExch(err, 1);
            continue;
        }
        const long long at = ((long long)b * Sk + p) * row + c;
        if (vec == 4) {
            const float4 v = *(const float4*)(src + j);
            if (f16) {
                const unsigned lo = att_to_half(v.x) | ((unsigned)att_to_half(v.y) << 16);
                const unsigned hi = att_to_half(v.z) | ((unsigned)att_to_half(v.w) << 16);
                *(uint2*)((unsigned short*)cache + at) = make_uint2(lo, hi);
            } else {
                *(float4*)((float*)cache + at) = v;
            }
            continue;
        }
        if (f16) ((unsigned short*)cache)[at] = att_to_half(src[j]);
        else ((float*)cache)[at] = src[j];
    }
}
