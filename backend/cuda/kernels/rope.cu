// Rotary position embeddings over x [B, T, H, D] (f32). Dims from `rot`
// on pass through. Pairs are (i, i+rot/2) (split-half) or (2i, 2i+1)
// (interleaved). Positions are int32 or int64, [T] (posRows = 0) or
// [posRows, T] with posRows 1 or B. The angle is computed in double: a
// position of a few thousand times a frequency near 1 would lose most of
// its fraction in float, and the sine with it.
extern "C" __global__ void rope_f32(const float* x, const void* pos, int pos64, long long posRows, const float* inv,
                                    float* out, long long B, long long T, long long H, int D, int rot,
                                    int interleaved, float scale) {
    long long n = B * T * H * D;
    int half = rot / 2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int d = (int)(i % D);
        if (d >= rot) {
            out[i] = x[i];
            continue;
        }
        long long rest = i / D / H;
        long long t = rest % T, b = rest / T;
        int j, i0, i1;
        if (interleaved) {
            j = d / 2; i0 = 2 * j; i1 = i0 + 1;
        } else {
            j = d < half ? d : d - half; i0 = j; i1 = j + half;
        }
        long long pi = posRows == 0 ? t : (b < posRows - 1 ? b : posRows - 1) * T + t;
        double p = pos64 ? (double)((const long long*)pos)[pi] : (double)((const int*)pos)[pi];
        double th = p * (double)inv[j];
        float c = (float)(cos(th) * (double)scale), s = (float)(sin(th) * (double)scale);
        const float* base = x + (i - d);
        float x0 = base[i0], x1 = base[i1];
        out[i] = d == i0 ? x0 * c - x1 * s : x1 * c + x0 * s;
    }
}
