// Row norms and softmax: one block per row of `cols` f32 values.

// NVRTC has no <math.h>, so no INFINITY macro.
#define RLX_NEG_INF __int_as_float(0xff800000)

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w
extern "C" __global__ void rmsnorm_f32(const float* x, const float* w, float* out, int cols, float eps) {
    const float* row = x + (long long)blockIdx.x * cols;
    float* dst = out + (long long)blockIdx.x * cols;
    RLX_GRID_WAIT();  // fuse.go may launch it with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    // rlx_sq_sum: the same sum as one square at a time, eight loads in flight.
    float scale = rsqrtf(rlx_block_sum(rlx_sq_sum(row, cols)) / cols + eps);
    for (int i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = row[i] * scale * w[i];
}

// Maximum over the block; every thread gets it. Same shape rules as rlx_block_sum.
__device__ float block_max(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? partial[lane] : RLX_NEG_INF;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    return v;
}

// Row broadcast of a softmax mask: the same layout as generic.cu's
// Broadcast, over rows (every dim but the last); sb maps a row of x to a
// row of the mask.
struct RowBroadcast {
    long long dims[6];
    long long sa[6];
    long long sb[6];
    int rank;
};

// out[r, :] = softmax(scale·x[r, :] + mask[row(r), :]); a fully masked row
// (every logit -inf) gives zeros. Blocks stride over the rows.
extern "C" __global__ void softmax_f32(const float* x, const float* mask, float* out, long long rows, int cols,
                                       float scale, int masked, RowBroadcast s) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* orow = out + r * cols;
        const float* mr = 0;
        if (masked) {
            long long rest = r, ib = 0;
            for (int d = s.rank - 1; d >= 0; d--) {
                long long c = rest % s.dims[d];
                rest /= s.dims[d];
                ib += c * s.sb[d];
            }
            mr = mask + ib * cols;
        }
        float m = RLX_NEG_INF;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float v = xr[i] * scale + (mr ? mr[i] : 0.0f);
            m = fmaxf(m, v);
        }
        m = block_max(m);
        if (m == RLX_NEG_INF) {
            for (int i = threadIdx.x; i < cols; i += blockDim.x) orow[i] = 0.0f;
            continue;
        }
        float sum = 0.0f;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float e = expf(xr[i] * scale + (mr ? mr[i] : 0.0f) - m);
            orow[i] = e;
            sum += e;
        }
        float inv = 1.0f / rlx_block_sum(sum);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) orow[i] *= inv;
    }
}
