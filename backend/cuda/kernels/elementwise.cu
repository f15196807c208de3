// Elementwise kernels over contiguous f32 arrays of n elements. Every
// kernel uses a grid-stride loop so any grid size covers any n.

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = a[i] + b[i];
    }
}

extern "C" __global__ void mul_f32(const float* a, const float* b, float* out, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = a[i] * b[i];
    }
}

// silu(x) = x * sigmoid(x), written so that large |x| neither overflows
// nor loses the sign: expf(-x) is inf for very negative x and x/inf = -0.
extern "C" __global__ void silu_f32(const float* x, float* out, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        out[i] = v / (1.0f + expf(-v));
    }
}
