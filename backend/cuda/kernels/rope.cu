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
