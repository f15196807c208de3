// Decode GEMVs for F16/BF16 weights with f32 activations (gemvh.go).
//
// One kernel serves the lone GEMV (o, down, the output projection: one
// segment) and the fused groups of fuse.go: up to HM_SEGS matrices that
// read the same activations (q/k/v) in one launch, optionally with the
// RMSNorm that produced the activations folded into the prologue, or the
// gate/up pair writing silu(gate)·up. Every matrix gets the launch shape
// gemvHalfShape gives its [N, K] alone and every row is summed in the same
// order in all of these modes, so a fused launch reproduces the bits of
// the launches it replaces.
//
// A weight row is read as 16-byte chunks (8 values); the lanes of a row's
// warps take consecutive chunks, HM_U of them (per matrix) loaded before
// any is used, so that each thread has several loads in flight.
//
// With the norm prologue and no pair (q/k/v) the grid may be smaller than
// the row groups (HMArgs.blocks): each block then takes groups blockIdx.x,
// blockIdx.x + gridDim.x, …, so that the grid is one wave and the
// prologue runs once per block instead of once per group.

typedef unsigned char rlx_u8;
typedef unsigned short rlx_u16;
typedef unsigned int rlx_u32;

#define HM_SEGS 3
#define HM_MAX_M 2
#ifndef HM_U
#define HM_U 2  // RLX_CUDA_DEFINES=HM_U=n: chunks in flight per matrix and lane (2 measured best)
#endif
#ifndef HM_PF_MB
#define HM_PF_MB 32  // RLX_CUDA_DEFINES=HM_PF_MB=n
#endif
#define HM_F16 0
#define HM_BF16 1

struct HMSeg {
    const rlx_u8* w;  // [n][K] halves
    float* y;         // [M][n]; may be null in pair mode
    int n;
    int type;  // HM_F16 or HM_BF16
    int warps_per_row;
    int rows_per_block;
    int block0;  // first block of this matrix
    int pad;
};

struct HMArgs {
    HMSeg seg[HM_SEGS];
    const float* x;    // [M][K], 16-byte aligned
    const float* nw;   // RMSNorm weight [K] (16-byte aligned), or null
    float* xn;         // the normalized rows (block 0 stores them), or null
    float* act;        // pair mode: silu(seg 0)·(seg 1), [M][n]; null otherwise
    const float* add;  // an addend of y's shape (one segment), or null
    int nseg;
    int M;
    int K;
    float eps;
    int accumulate;  // y += the product (one segment)
    int blocks;      // row groups over all segments (≥ gridDim.x for q/k/v with the norm, else =)
};

__device__ __forceinline__ float hm_h2f(rlx_u32 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
    return f;
}

// The 8 weights of one 16-byte chunk as f32.
template <int T>
__device__ __forceinline__ void hm_decode(uint4 a, float* v) {
    const rlx_u32 ws[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (T == HM_F16) {
            v[2 * i] = hm_h2f(ws[i] & 0xffffu);
            v[2 * i + 1] = hm_h2f(ws[i] >> 16);
        } else {
            v[2 * i] = __uint_as_float(ws[i] << 16);
            v[2 * i + 1] = __uint_as_float(ws[i] & 0xffff0000u);
        }
    }
}

// The 8 activations of chunk c of row m; normalized as rmsnorm_f32 does
// ((x·scale)·w) with NORM.
template <int NORM>
__device__ __forceinline__ void hm_x(const float* __restrict__ x, const float* __restrict__ nw, float s, int K, int m,
                                     int c, float* xv) {
    const float4* p = (const float4*)(x + (long long)m * K + 8 * c);
    const float4 a = p[0], b = p[1];
    xv[0] = a.x, xv[1] = a.y, xv[2] = a.z, xv[3] = a.w;
    xv[4] = b.x, xv[5] = b.y, xv[6] = b.z, xv[7] = b.w;
    if (NORM) {
        const float4* q = (const float4*)(nw + 8 * c);
        const float4 g = q[0], h = q[1];
        const float gs[8] = {g.x, g.y, g.z, g.w, h.x, h.y, h.z, h.w};
#pragma unroll
        for (int i = 0; i < 8; i++) xv[i] = xv[i] * s * gs[i];
    }
}

// Accumulates, for S matrices (1, or 2: gate and up), lane's share of row
// `row`: chunks lane0, lane0 + stride, … of the K/8.
template <int T, int MM, int S, int NORM>
__device__ __forceinline__ void hm_row(const rlx_u8* const* ws, long long row, const float* __restrict__ x,
                                       const float* __restrict__ nw, const float* scl, int M, int K, int lane0,
                                       int stride, float (*acc)[MM]) {
    const int nch = K >> 3;
    const uint4* wr[S];
#pragma unroll
    for (int s = 0; s < S; s++) wr[s] = (const uint4*)(ws[s] + row * K * 2);
    for (int c = lane0; c < nch; c += HM_U * stride) {
        uint4 a[S][HM_U];
#pragma unroll
        for (int u = 0; u < HM_U; u++) {
            const int cc = c + u * stride;
#pragma unroll
            for (int s = 0; s < S; s++) a[s][u] = cc < nch ? __ldg(wr[s] + cc) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < HM_U; u++) {
            const int cc = c + u * stride;
            if (cc >= nch) break;
            float v[S][8];
#pragma unroll
            for (int s = 0; s < S; s++) hm_decode<T>(a[s][u], v[s]);
#pragma unroll
            for (int m = 0; m < MM; m++) {
                if (m < M) {
                    float xv[8];
                    hm_x<NORM>(x, nw, NORM ? scl[m] : 0.0f, K, m, cc, xv);
#pragma unroll
                    for (int s = 0; s < S; s++) {
                        float d = 0.0f;
#pragma unroll
                        for (int i = 0; i < 8; i++) d = fmaf(v[s][i], xv[i], d);
                        acc[s][m] += d;
                    }
                }
            }
        }
    }
}

// Stores one output of segment g (or, in pair mode, gate/up/act).
__device__ __forceinline__ void hm_put(const HMArgs& a, const HMSeg& g, const HMSeg& u, int S, int m, long long row,
                                       float gv, float uv) {
    const long long o = (long long)m * g.n + row;
    if (S == 1) {
        g.y[o] = a.add != 0 ? a.add[o] + gv : (a.accumulate ? g.y[o] + gv : gv);
        return;
    }
    if (g.y != 0) g.y[o] = gv;
    if (u.y != 0) u.y[o] = uv;
    const float sg = gv / (1.0f + expf(-gv));
    a.act[o] = sg * uv;
}

template <int T, int MM, int S, int NORM>
__device__ void hm_rows(const HMArgs& a, const HMSeg& g, const HMSeg& u, const float* scl, long long row0) {
    __shared__ float red[8][2][MM];
    const int wpr = g.warps_per_row, N = g.n;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int slots = (blockDim.x >> 5) / wpr;
    const int slot = warp / wpr, sub = warp - slot * wpr;
    const rlx_u8* ws[S];
    ws[0] = g.w;
    if (S == 2) ws[S - 1] = u.w;
    for (int r = 0; r < g.rows_per_block; r += slots) {
        const long long row = row0 + r + slot;
        const bool valid = r + slot < g.rows_per_block && row < N;
        float acc[S][MM];
#pragma unroll
        for (int s = 0; s < S; s++)
#pragma unroll
            for (int m = 0; m < MM; m++) acc[s][m] = 0.0f;
        if (valid) hm_row<T, MM, S, NORM>(ws, row, a.x, a.nw, scl, a.M, a.K, 32 * sub + lane, 32 * wpr, acc);
#pragma unroll
        for (int s = 0; s < S; s++)
#pragma unroll
            for (int m = 0; m < MM; m++)
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) acc[s][m] += __shfl_xor_sync(0xffffffffu, acc[s][m], o);
        if (wpr == 1) {
            if (valid && lane == 0) {
#pragma unroll
                for (int m = 0; m < MM; m++)
                    if (m < a.M) hm_put(a, g, u, S, m, row, acc[0][m], acc[S - 1][m]);
            }
            continue;
        }
        if (lane == 0) {
#pragma unroll
            for (int s = 0; s < S; s++)
#pragma unroll
                for (int m = 0; m < MM; m++) red[warp][s][m] = acc[s][m];
        }
        __syncthreads();
        if (valid && sub == 0 && lane < a.M) {
            float sv[2] = {0.0f, 0.0f};
#pragma unroll
            for (int s = 0; s < S; s++)
                for (int i = 0; i < wpr; i++) sv[s] += red[warp + i][s][lane];
            hm_put(a, g, u, S, lane, row, sv[0], sv[S - 1]);
        }
        __syncthreads();
    }
}

// The segment of row group b and its first row.
__device__ __forceinline__ int hm_seg_of(const HMArgs& a, int b) {
    return (a.nseg > 2 && b >= a.seg[2].block0) ? 2 : ((a.nseg > 1 && b >= a.seg[1].block0) ? 1 : 0);
}

// Asks the L2 for the weight rows of row group b (at most lim bytes a
// matrix).
template <int PAIR>
__device__ __forceinline__ void hm_prefetch(const HMArgs& a, int b, long long lim) {
    const int s = PAIR ? 0 : hm_seg_of(a, b);
    const HMSeg& sg = s == 0 ? a.seg[0] : (s == 1 ? a.seg[1] : a.seg[2]);
    const long long rb = 2ll * a.K, row0 = (long long)(b - sg.block0) * sg.rows_per_block;
    const long long rows = min((long long)sg.rows_per_block, (long long)sg.n - row0);
    if (rows > 0) {
        rlx_prefetch_l2(sg.w + row0 * rb, min(rows * rb, lim));
        if (PAIR) rlx_prefetch_l2(a.seg[1].w + row0 * rb, min(rows * rb, lim));
    }
}

// The rows of group b (a block's share of a launch of one block a group).
template <int MM, int PAIR, int NORM>
__device__ __forceinline__ void hm_group(const HMArgs& a, const float* scl, int b) {
    const int s = PAIR ? 0 : hm_seg_of(a, b);
    const HMSeg sg = s == 0 ? a.seg[0] : (s == 1 ? a.seg[1] : a.seg[2]);
    const long long row0 = (long long)(b - sg.block0) * sg.rows_per_block;
    if (PAIR) {
        if (sg.type == HM_F16) hm_rows<HM_F16, MM, 2, NORM>(a, a.seg[0], a.seg[1], scl, row0);
        else hm_rows<HM_BF16, MM, 2, NORM>(a, a.seg[0], a.seg[1], scl, row0);
    } else {
        if (sg.type == HM_F16) hm_rows<HM_F16, MM, 1, NORM>(a, sg, sg, scl, row0);
        else hm_rows<HM_BF16, MM, 1, NORM>(a, sg, sg, scl, row0);
    }
}

// The norm prologue: scl[m] = 1/sqrt(mean(x[m, :]²) + eps), summed as
// rmsnorm_f32 does (256 threads, rlx_block_sum), so the bits are the
// same; block 0 stores the normalized rows where they are still read.
__device__ __forceinline__ void hm_scale(const HMArgs& a, float* scl) {
    for (int m = 0; m < a.M; m++) {
        const float* row = a.x + (long long)m * a.K;
        const float t = rlx_block_sum(rlx_sq_sum(row, a.K));
        if (threadIdx.x == 0) scl[m] = rsqrtf(t / a.K + a.eps);
    }
    __syncthreads();
    if (blockIdx.x == 0 && a.xn != 0) {
        for (int m = 0; m < a.M; m++) {
            const float* row = a.x + (long long)m * a.K;
            for (int i = threadIdx.x; i < a.K; i += blockDim.x)
                a.xn[(long long)m * a.K + i] = row[i] * scl[m] * a.nw[i];
        }
    }
}

template <int MM, int PAIR, int NORM>
__device__ void hm_multi(const HMArgs& a) {
    __shared__ float scl[HM_MAX_M];
    // The weights do not depend on the kernel ahead: ask the L2 for this
    // block's first rows while it still runs (at most HM_PF_MB MiB a
    // matrix over the row groups).
    hm_prefetch<PAIR>(a, blockIdx.x, ((long long)HM_PF_MB << 20) / a.blocks);
    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    if (!NORM || PAIR) {
        // A block a group: without the prologue there is nothing to share
        // between groups, and the gate/up pair measured slower on one
        // wave; the loop's registers would cost either a block an SM.
        if (NORM) hm_scale(a, scl);
        hm_group<MM, PAIR, NORM>(a, scl, blockIdx.x);
        return;
    }
    hm_scale(a, scl);
    for (int b = blockIdx.x; b < a.blocks; b += gridDim.x) {
        // As a block of a full grid does on its start: the whole group's
        // rows asked for at once keep more of the DRAM's requests in flight
        // than the lanes' own loads.
        if (b != blockIdx.x) hm_prefetch<PAIR>(a, b, ((long long)HM_PF_MB << 20) / a.blocks);
        hm_group<MM, PAIR, NORM>(a, scl, b);
    }
}

// One entry point per (activation rows, pair mode, norm prologue):
// gemvh_<M>[p][n]. A kernel that has every mode in it takes the registers
// of the widest (the gate/up pair: 80 a thread), which leaves room for
// three 256-thread blocks an SM and splits the grid of a 2048-row matrix
// into two waves; each mode alone needs fewer.
#ifndef HM_MINB
#define HM_MINB 1  // RLX_CUDA_DEFINES=HM_MINB=n: __launch_bounds__' blocks an SM
#endif
#define HM_ENTRY(name, MM, PAIR, NORM) \
    extern "C" __global__ void __launch_bounds__(256, HM_MINB) name(HMArgs a) { hm_multi<MM, PAIR, NORM>(a); }
HM_ENTRY(gemvh_1, 1, 0, 0)
HM_ENTRY(gemvh_1n, 1, 0, 1)
HM_ENTRY(gemvh_1p, 1, 1, 0)
HM_ENTRY(gemvh_1pn, 1, 1, 1)
HM_ENTRY(gemvh_2, HM_MAX_M, 0, 0)
HM_ENTRY(gemvh_2n, HM_MAX_M, 0, 1)
HM_ENTRY(gemvh_2p, HM_MAX_M, 1, 0)
HM_ENTRY(gemvh_2pn, HM_MAX_M, 1, 1)
