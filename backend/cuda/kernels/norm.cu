// Row norms: one block per row of `cols` f32 values.

// Sum over the block; every thread gets the total. blockDim.x must be a
// multiple of 32 and at most 1024.
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();  // partial may be reused by the next call
    return v;
}

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w
extern "C" __global__ void rmsnorm_f32(const float* x, const float* w, float* out, int cols, float eps) {
    const float* row = x + (long long)blockIdx.x * cols;
    float* dst = out + (long long)blockIdx.x * cols;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) ss += row[i] * row[i];
    float scale = rsqrtf(block_sum(ss) / cols + eps);
    for (int i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = row[i] * scale * w[i];
}
