// Rotary position embeddings over x [B, T, H, D] (f32). Dims from `rot`
// on pass through. Pairs are (i, i+rot/2) (split-half) or (2i, 2i+1)
// (interleaved). Positions are int32 or int64, [T] (posRows = 0) or
// [posRows, T] with posRows 1 or B. The angle is computed in double: a
// position of a few thousand times a frequency near 1 would lose most of
// its fraction in float, and the sine with it.
// One thread per rotated pair (both outputs from one sincos, and in-place
// safe: a pair is read and written by the same thread), then one per
// pass-through dim.
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
        dst[i0] = x0 * c - x1 * s;
        dst[i1] = x1 * c + x0 * s;
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
        const float x0 = buf[i0], x1 = buf[i1];
        dst[i0] = x0 * c - x1 * sv;
        dst[i1] = x1 * c + x0 * sv;
    }
}
