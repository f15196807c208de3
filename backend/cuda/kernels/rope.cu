// Rotary position embeddings over x [B, T, H, D] (f32). Dims from `rot`
// on pass through. Pairs are (i, i+rot/2) (split-half) or (2i, 2i+1)
// (interleaved). Positions are int32 or int64, [T] (posRows = 0) or
// [posRows, T] with posRows 1 or B. The angle is computed in double: a
// position of a few thousand times a frequency near 1 would lose most of
// its fraction in float, and the sine with it.
// One thread per rotated pair (both outputs from one sincos, and in-place
// safe: a pair is read and written by the same thread), then one per
// pass-through dim.

// The rotation of one pair by (c, s), in explicitly rounded steps: every
// RoPE kernel (rope_f32 and the fused ones of fuse.go) rotates through this
// one function, so the compiler cannot contract the products into FMAs
// differently in one of them and the fused kernels keep rope_f32's bits.
__device__ __forceinline__ void rlx_rope_rotate(float x0, float x1, float c, float s, float* y0, float* y1) {
    *y0 = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
    *y1 = __fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s));
}

extern "C" __global__ void rope_f32(const float* x, const void* pos, int pos64, long long posRows, const float* inv,
                                    float* out, long long B, long long T, long long H, int D, int rot,
                                    int interleaved, float scale) {
    const int half = rot / 2;
    const int per = half + (D - rot);  // work items per row of D
    const long long n = B * T * H * per;
    RLX_GRID_WAIT();  // fuse.go may launch it with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const long long ri = i / per;
        const int e = (int)(i - ri * per);
        const float* base = x + ri * D;
        float* dst = out + ri * D;
        if (e >= half) {
            const int d = rot + (e - half);
            dst[d] = base[d];
            continue;
        }
        const int j = e;
        const int i0 = interleaved ? 2 * j : j, i1 = interleaved ? 2 * j + 1 : j + half;
        const long long rest = ri / H;
        const long long t = rest % T, b = rest / T;
        const long long pi = posRows == 0 ? t : (b < posRows - 1 ? b : posRows - 1) * T + t;
        const double p = pos64 ? (double)((const long long*)pos)[pi] : (double)((const int*)pos)[pi];
        double sn, cs;
        sincos(p * (double)inv[j], &sn, &cs);
        const float c = (float)(cs * (double)scale), s = (float)(sn * (double)scale);
        const float x0 = base[i0], x1 = base[i1];
        rlx_rope_rotate(x0, x1, c, s, &dst[i0], &dst[i1]);
    }
}

// One tensor of rmsnorm_rope_f32: x [B, T, H, D] normalized per row of D
// with weight w (the normalized rows also to xn when not null), then
// rotated into out.
struct NormRopeSide {
    const float* x;
    const float* w;
    float* xn;
    float* out;
    long long rows;  // B·T·H
    long long H;
};

// The RMSNorm of the q and k heads (Qwen3's q_norm/k_norm; a side with a
// null w has no norm, as Llama's q and k) followed by their RoPE in one
// launch (fuse.go): one block per row of D (the rows of
// q, then those of k), blockDim.x = rmsnorm_f32's threads for D, so the
// norm is computed in the same order; the row is kept in shared memory
// and each rotated pair is computed as rope_f32 does. A row is read
// entirely before any of it is written, so out may be x or xn. D ≤ 1024.
extern "C" __global__ void rmsnorm_rope_f32(NormRopeSide q, NormRopeSide k, const void* pos, int pos64,
                                            long long posRows, const float* inv, long long T, int D, int rot,
                                            int interleaved, float scale, float epsq, float epsk) {
    __shared__ float buf[1024];
    const bool isq = (long long)blockIdx.x < q.rows;
    const NormRopeSide s = isq ? q : k;
    const long long ri = isq ? (long long)blockIdx.x : (long long)blockIdx.x - q.rows;
    const float eps = isq ? epsq : epsk;
    const float* row = s.x + ri * D;
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    if (s.w != 0) {
        float ss = 0.0f;
        for (int i = threadIdx.x; i < D; i += blockDim.x) ss += row[i] * row[i];
        const float sc = rsqrtf(rlx_block_sum(ss) / D + eps);
        for (int i = threadIdx.x; i < D; i += blockDim.x) {
            const float y = row[i] * sc * s.w[i];
            buf[i] = y;
        }
    } else {  // RoPE alone
        for (int i = threadIdx.x; i < D; i += blockDim.x) buf[i] = row[i];
    }
    __syncthreads();
    if (s.xn != 0) {
        for (int i = threadIdx.x; i < D; i += blockDim.x) s.xn[ri * D + i] = buf[i];
    }
    float* dst = s.out + ri * D;
    const int half = rot / 2;
    const int per = half + (D - rot);
    const long long rest = ri / s.H;
    const long long t = rest % T, b = rest / T;
    const long long pi = posRows == 0 ? t : (b < posRows - 1 ? b : posRows - 1) * T + t;
    const double p = pos64 ? (double)((const long long*)pos)[pi] : (double)((const int*)pos)[pi];
    for (int e = threadIdx.x; e < per; e += blockDim.x) {
        if (e >= half) {
            const int d = rot + (e - half);
            dst[d] = buf[d];
            continue;
        }
        const int j = e;
        const int i0 = interleaved ? 2 * j : j, i1 = interleaved ? 2 * j + 1 : j + half;
        double sn, cs;
        sincos(p * (double)inv[j], &sn, &cs);
        const float c = (float)(cs * (double)scale), sv = (float)(sn * (double)scale);
        rlx_rope_rotate(buf[i0], buf[i1], c, sv, &dst[i0], &dst[i1]);
    }
}

// rmsnorm_rope_rows_f32 is rmsnorm_rope_f32 for prefill (fuse.go, more
// rows than a decode step, D ≤ NR_MAXD): a warp per row instead of a
// block, and a block per `tpb` tokens, whose rows of q and of k (all heads)
// share one table of (cos, sin) per rotated pair, computed once per token
// instead of once per head.
//
// Bits: rmsnorm_f32 runs D ≤ 256 columns on ⌈D/32⌉ warps, thread i holding
// x[i]² (0 past D); rlx_block_sum adds each warp's 32 values with an xor
// butterfly, then the warp sums, placed in lanes 0…W−1 of one warp (zeros
// above), with the same butterfly. Here lane l of the row's warp holds
// x[l + 32w] for w < W and repeats both steps in that order: the same
// additions of the same values, so the same scale. The normalized row goes
// to a per-warp row of shared memory and each pair is rotated as rope_f32
// does (rlx_rope_rotate, with c and s rounded from the same doubles).
#define NR_WARPS 8
#define NR_MAXD 256
#define NR_MAXTPB 8
extern "C" __global__ void __launch_bounds__(NR_WARPS * 32)
    rmsnorm_rope_rows_f32(NormRopeSide q, NormRopeSide k, const void* pos, int pos64, long long posRows,
                          const float* inv, long long T, long long tokens, int tpb, int D, int rot, int interleaved,
                          float scale, float epsq, float epsk) {
    __shared__ float2 cs[NR_MAXTPB * NR_MAXD / 2];
    __shared__ float rows[NR_WARPS][NR_MAXD];
    const int half = rot / 2;
    const long long tok0 = (long long)blockIdx.x * tpb;
    const int ntok = (int)(tokens - tok0 < tpb ? tokens - tok0 : tpb);
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    for (int i = threadIdx.x; i < ntok * half; i += blockDim.x) {
        const int tt = i / half, j = i - tt * half;
        const long long tok = tok0 + tt;
        const long long t = tok % T, b = tok / T;
        const long long pi = posRows == 0 ? t : (b < posRows - 1 ? b : posRows - 1) * T + t;
        const double p = pos64 ? (double)((const long long*)pos)[pi] : (double)((const int*)pos)[pi];
        double sn, cn;
        sincos(p * (double)inv[j], &sn, &cn);
        cs[i] = make_float2((float)(cn * (double)scale), (float)(sn * (double)scale));
    }
    __syncthreads();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const long long hq = q.rows != 0 ? q.H : 0, hk = k.rows != 0 ? k.H : 0;
    const long long perTok = hq + hk;
    const int W = (D + 31) >> 5;
    const int per = half + (D - rot);
    float* buf = rows[warp];
    for (long long r = warp; r < ntok * perTok; r += NR_WARPS) {
        const int tt = (int)(r / perTok);
        const long long h = r - tt * perTok;
        const bool isq = h < hq;
        const float* x = isq ? q.x : k.x;
        const float* w = isq ? q.w : k.w;
        float* xn = isq ? q.xn : k.xn;
        float* out = isq ? q.out : k.out;
        const long long ri = (tok0 + tt) * (isq ? hq : hk) + (isq ? h : h - hq);
        const float* row = x + ri * D;
        float v[NR_MAXD / 32];
#pragma unroll
        for (int c = 0; c < NR_MAXD / 32; c++) {
            const int i = lane + 32 * c;
            v[c] = c < W && i < D ? row[i] : 0.0f;
        }
        if (w != 0) {
            float tot = 0.0f;
#pragma unroll
            for (int c = 0; c < NR_MAXD / 32; c++) {
                if (c >= W) break;
                float a = v[c] * v[c];
                for (int o = 16; o > 0; o >>= 1) a += __shfl_xor_sync(0xffffffffu, a, o);
                if (lane == c) tot = a;
            }
            for (int o = 16; o > 0; o >>= 1) tot += __shfl_xor_sync(0xffffffffu, tot, o);
            const float sc = rsqrtf(tot / D + (isq ? epsq : epsk));
#pragma unroll
            for (int c = 0; c < NR_MAXD / 32; c++) {
                const int i = lane + 32 * c;
                if (c < W && i < D) v[c] = v[c] * sc * w[i];
            }
        }
#pragma unroll
        for (int c = 0; c < NR_MAXD / 32; c++) {
            const int i = lane + 32 * c;
            if (c < W && i < D) {
                buf[i] = v[c];
                if (xn != 0) xn[ri * D + i] = v[c];
            }
        }
        __syncwarp();
        float* dst = out + ri * D;
        const float2* ct = cs + tt * half;
        for (int e = lane; e < per; e += 32) {
            if (e >= half) {
                const int d = rot + (e - half);
                dst[d] = buf[d];
                continue;
            }
            const int i0 = interleaved ? 2 * e : e, i1 = interleaved ? 2 * e + 1 : e + half;
            const float2 c = ct[e];
            rlx_rope_rotate(buf[i0], buf[i1], c.x, c.y, &dst[i0], &dst[i1]);
        }
        __syncwarp();  // the row buffer is reused by the warp's next row
    }
}
