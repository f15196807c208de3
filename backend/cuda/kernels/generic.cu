// Generic F32 elementwise kernels selected by an op code, so that one
// compiled module covers the catalog's unary and binary ops. The codes are
// the constants of ops.go (package kernels); keep both in step.

#define RLX_MAX_RANK 6

// A broadcast binary op: the output's dims and, for each operand, the
// element stride along each output dim (0 where the operand is broadcast).
struct Broadcast {
    long long dims[RLX_MAX_RANK];
    long long sa[RLX_MAX_RANK];
    long long sb[RLX_MAX_RANK];
    int rank;
};

__device__ __forceinline__ float unary_op(int op, float x, float p) {
    switch (op) {
    case 0: return -x;
    case 1: return fabsf(x);
    case 2: return expf(x);
    case 3: return logf(x);
    case 4: return sqrtf(x);
    case 5: return 1.0f / sqrtf(x);
    case 6: return 1.0f / x;
    case 7: return x * x;
    case 8: return tanhf(x);
    case 9: return 1.0f / (1.0f + expf(-x));
    case 10: return x / (1.0f + expf(-x));
    case 11: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case 12: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case 13: return fmaxf(x, 0.0f);
    case 14: return p * tanhf(x / p);  // softcap
    case 15: return sinf(x);
    case 16: return cosf(x);
    case 17: return erff(x);
    }
    return __int_as_float(0x7fc00000);
}

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return powf(a, b);
    case 5: return fmaxf(a, b);
    case 6: return fminf(a, b);
    }
    return __int_as_float(0x7fc00000);
}

extern "C" __global__ void unary_f32(const float* x, float* out, long long n, int op, float p) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = unary_op(op, x[i], p);
    }
}

extern "C" __global__ void binary_f32(const float* a, const float* b, float* out, long long n, int op, Broadcast s) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long rest = i, ia = 0, ib = 0;
        for (int d = s.rank - 1; d >= 0; d--) {
            long long c = rest % s.dims[d];
            rest /= s.dims[d];
            ia += c * s.sa[d];
            ib += c * s.sb[d];
        }
        out[i] = binary_op(op, a[ia], b[ib]);
    }
}
