// Data movement kernels.

// f16 bits to float, exactly (subnormals, infinities and NaNs included),
// without cuda_fp16.h so the file compiles with no include path.
__device__ __forceinline__ float half_to_float(unsigned short h) {
    unsigned int sign = (unsigned int)(h & 0x8000u) << 16;
    unsigned int exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        float f = (float)man * 5.9604644775390625e-8f;  // man · 2^-24
        return sign ? -f : f;
    }
    if (exp == 31) return __int_as_float(sign | 0x7f800000u | (man << 13));
    return __int_as_float(sign | ((exp + 112u) << 23) | (man << 13));
}

__device__ __forceinline__ float bf16_to_float(unsigned short h) {
    return __int_as_float((unsigned int)h << 16);
}

// out[i, :] = table[ids[i], :] as f32, for a table of nrows rows of `row`
// elements stored as f32 (dtype 0), f16 (1) or bf16 (2), and ids of int32
// (ids64 = 0) or int64. An id outside [0, nrows) gives a row of NaNs and
// sets *err, which the host checks when it next synchronizes.
extern "C" __global__ void gather_rows(const void* table, int dtype, const void* ids, int ids64, float* out,
                                       long long nids, long long row, long long nrows, int* err) {
    long long n = nids * row;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / row, c = i - r * row;
        long long id = ids64 ? ((const long long*)ids)[r] : (long long)((const int*)ids)[r];
        if (id < 0 || id >= nrows) {
            out[i] = __int_as_float(0x7fc00000);
            atomicExch(err, 1);
            continue;
        }
        long long at = id * row + c;
        float v;
        if (dtype == 0) v = ((const float*)table)[at];
        else if (dtype == 1) v = half_to_float(((const unsigned short*)table)[at]);
        else v = bf16_to_float(((const unsigned short*)table)[at]);
        out[i] = v;
    }
}
