// Data movement, casts, comparisons, selection, reductions, norms and
// top-k: the ops a decoder or embedder graph needs besides matmuls and
// attention. The host side is backend/cuda/ops2.go; the struct layouts and
// the dtype and op codes must match it.

#define RLX_NEG_INF __int_as_float(0xff800000)
#define DATA_MAX_RANK 8

// An elementwise walk over up to 3 operands: the output's dims, and for
// each operand its element stride along each output dim (0 where it is
// broadcast) plus a base offset.
struct Walk {
    long long dims[DATA_MAX_RANK];
    long long st[3][DATA_MAX_RANK];
    long long base[3];
    int rank;
};

__device__ __forceinline__ void walk_offsets(const Walk& w, long long i, long long* o0, long long* o1, long long* o2) {
    long long a = w.base[0], b = w.base[1], c = w.base[2];
    for (int d = w.rank - 1; d >= 0; d--) {
        long long x = i % w.dims[d];
        i /= w.dims[d];
        a += x * w.st[0][d];
        b += x * w.st[1][d];
        c += x * w.st[2][d];
    }
    *o0 = a;
    *o1 = b;
    *o2 = c;
}

// dst[offset 0] = src[offset 1] for n elements of esize bytes: permute,
// expand, strided slices, concat parts (dst strides of the whole output).
extern "C" __global__ void copy_walk(const void* src, void* dst, long long n, int esize, Walk w) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long od, os, unused;
        walk_offsets(w, i, &od, &os, &unused);
        switch (esize) {
        case 1: ((unsigned char*)dst)[od] = ((const unsigned char*)src)[os]; break;
        case 2: ((unsigned short*)dst)[od] = ((const unsigned short*)src)[os]; break;
        case 4: ((unsigned int*)dst)[od] = ((const unsigned int*)src)[os]; break;
        default: ((unsigned long long*)dst)[od] = ((const unsigned long long*)src)[os]; break;
        }
    }
}

// Pad: out dims, in dims, before[d]; mode 0 constant (value bits), 1
// reflect (mirror without the edge), 2 edge.
struct PadArgs {
    long long odims[DATA_MAX_RANK];
    long long idims[DATA_MAX_RANK];
    long long before[DATA_MAX_RANK];
    unsigned long long value;  // the constant's bits in the element type
    int rank;
    int mode;
};

extern "C" __global__ void pad_any(const void* src, void* dst, long long n, int esize, PadArgs p) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long rest = i, off = 0, stride = 1;
        bool inside = true;
        for (int d = p.rank - 1; d >= 0; d--) {
            long long c = rest % p.odims[d] - p.before[d];
            rest /= p.odims[d];
            long long m = p.idims[d];
            if (c < 0 || c >= m) {
                if (p.mode == 0 || m == 0) {
                    inside = false;
                } else if (p.mode == 2) {
                    c = c < 0 ? 0 : m - 1;
                } else if (m == 1) {
                    c = 0;
                } else {
                    long long period = 2 * (m - 1);
                    c %= period;
                    if (c < 0) c += period;
                    if (c >= m) c = period - c;
                }
            }
            off += c * stride;
            stride *= m;
        }
        unsigned long long v = p.value;
        if (inside) {
            switch (esize) {
            case 1: v = ((const unsigned char*)src)[off]; break;
            case 2: v = ((const unsigned short*)src)[off]; break;
            case 4: v = ((const unsigned int*)src)[off]; break;
            default: v = ((const unsigned long long*)src)[off]; break;
            }
        }
        switch (esize) {
        case 1: ((unsigned char*)dst)[i] = (unsigned char)v; break;
        case 2: ((unsigned short*)dst)[i] = (unsigned short)v; break;
        case 4: ((unsigned int*)dst)[i] = (unsigned int)v; break;
        default: ((unsigned long long*)dst)[i] = v; break;
        }
    }
}

// Element types (ops2.go's dtypeCode).
#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3
#define DT_I64 4
#define DT_BOOL 5

__device__ __forceinline__ float h2f(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ unsigned short f2h(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// Round to nearest even; NaNs stay quiet NaNs.
__device__ __forceinline__ unsigned short f2bf(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ bool is_float(int dt) { return dt <= DT_BF16; }

__device__ __forceinline__ double load_f(const void* p, int dt, long long i) {
    switch (dt) {
    case DT_F32: return ((const float*)p)[i];
    case DT_F16: return h2f(((const unsigned short*)p)[i]);
    case DT_BF16: return __int_as_float((int)((unsigned int)((const unsigned short*)p)[i] << 16));
    case DT_I32: return ((const int*)p)[i];
    case DT_I64: return (double)((const long long*)p)[i];
    default: return ((const unsigned char*)p)[i] ? 1.0 : 0.0;
    }
}

__device__ __forceinline__ long long load_i(const void* p, int dt, long long i) {
    switch (dt) {
    case DT_I32: return ((const int*)p)[i];
    case DT_I64: return ((const long long*)p)[i];
    case DT_BOOL: return ((const unsigned char*)p)[i] ? 1 : 0;
    default: return (long long)load_f(p, dt, i);  // truncates toward zero
    }
}

// out = cast(x): floats round to nearest even, floats to ints truncate,
// anything nonzero is true.
extern "C" __global__ void cast_any(const void* x, int sdt, void* out, int ddt, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        switch (ddt) {
        case DT_F32:
            ((float*)out)[i] = is_float(sdt) ? (float)load_f(x, sdt, i) : (float)load_i(x, sdt, i);
            break;
        case DT_F16: {
            float f = is_float(sdt) ? (float)load_f(x, sdt, i) : (float)load_i(x, sdt, i);
            ((unsigned short*)out)[i] = f2h(f);
            break;
        }
        case DT_BF16: {
            float f = is_float(sdt) ? (float)load_f(x, sdt, i) : (float)load_i(x, sdt, i);
            ((unsigned short*)out)[i] = f2bf(f);
            break;
        }
        case DT_I32: ((int*)out)[i] = (int)load_i(x, sdt, i); break;
        case DT_I64: ((long long*)out)[i] = load_i(x, sdt, i); break;
        default: ((unsigned char*)out)[i] = is_float(sdt) ? load_f(x, sdt, i) != 0.0 : load_i(x, sdt, i) != 0; break;
        }
    }
}

// out (bool) = a op b with broadcasting (operands 1 and 2 of w); op codes
// 0 <, 1 ≤, 2 >, 3 ≥, 4 ==, 5 ≠. Integer operands compare as integers.
extern "C" __global__ void compare_any(const void* a, const void* b, int dt, unsigned char* out, long long n, int op, Walk w) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long unused, ia, ib;
        walk_offsets(w, i, &unused, &ia, &ib);
        bool r;
        if (is_float(dt)) {
            double x = load_f(a, dt, ia), y = load_f(b, dt, ib);
            switch (op) {
            case 0: r = x < y; break;
            case 1: r = x <= y; break;
            case 2: r = x > y; break;
            case 3: r = x >= y; break;
            case 4: r = x == y; break;
            default: r = x != y; break;
            }
        } else {
            long long x = load_i(a, dt, ia), y = load_i(b, dt, ib);
            switch (op) {
            case 0: r = x < y; break;
            case 1: r = x <= y; break;
            case 2: r = x > y; break;
            case 3: r = x >= y; break;
            case 4: r = x == y; break;
            default: r = x != y; break;
            }
        }
        out[i] = r ? 1 : 0;
    }
}

// out = cond ? x : y with broadcasting (operands 0, 1, 2 of w are cond, x,
// y); cond is bool, x and y elements of esize bytes.
extern "C" __global__ void where_any(const unsigned char* cond, const void* x, const void* y, void* out, long long n,
                                     int esize, Walk w) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long ic, ix, iy;
        walk_offsets(w, i, &ic, &ix, &iy);
        const void* src = cond[ic] ? x : y;
        long long at = cond[ic] ? ix : iy;
        switch (esize) {
        case 1: ((unsigned char*)out)[i] = ((const unsigned char*)src)[at]; break;
        case 2: ((unsigned short*)out)[i] = ((const unsigned short*)src)[at]; break;
        case 4: ((unsigned int*)out)[i] = ((const unsigned int*)src)[at]; break;
        default: ((unsigned long long*)out)[i] = ((const unsigned long long*)src)[at]; break;
        }
    }
}

// Reductions of x viewed as [outer, red, inner] over the middle axis: one
// warp per output element. op 0 sum, 1 mean, 2 max, 3 argmax (I32 out,
// the first index of the maximum; a NaN counts as the maximum).
extern "C" __global__ void reduce_f32(const float* x, void* out, long long outer, long long red, long long inner, int op) {
    const long long nout = outer * inner;
    const int lane = threadIdx.x & 31;
    const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
    for (long long o = blockIdx.x * (long long)(blockDim.x >> 5) + (threadIdx.x >> 5); o < nout; o += warps) {
        long long a = o / inner, c = o - a * inner;
        const float* base = x + a * red * inner + c;
        if (op <= 1) {
            double s = 0.0;
            for (long long r = lane; r < red; r += 32) s += base[r * inner];
            for (int k = 16; k > 0; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
            if (lane == 0) ((float*)out)[o] = op == 1 ? (float)(s / (double)red) : (float)s;
            continue;
        }
        float best = RLX_NEG_INF;
        long long bi = red;  // none yet
        for (long long r = lane; r < red; r += 32) {
            float v = base[r * inner];
            bool nan = v != v, bnan = best != best;
            if (bi == red || (!bnan && (nan || v > best))) {
                best = v;
                bi = r;
            }
        }
        for (int k = 16; k > 0; k >>= 1) {
            float v = __shfl_xor_sync(0xffffffffu, best, k);
            long long j = __shfl_xor_sync(0xffffffffu, bi, k);
            bool nan = v != v, bnan = best != best;
            bool better;
            if (j == red) better = false;
            else if (bi == red) better = true;
            else if (nan != bnan) better = nan;
            else if (!nan && v != best) better = v > best;
            else better = j < bi;
            if (better) {
                best = v;
                bi = j;
            }
        }
        if (lane == 0) {
            if (op == 2) ((float*)out)[o] = red == 0 ? RLX_NEG_INF : best;
            else ((int*)out)[o] = bi == red ? 0 : (int)bi;
        }
    }
}

// RMSNorm (layer = 0) or LayerNorm (layer = 1) of each row of cols
// values, then ·w (or ·(1+w) with plus_one) and +bias where given (null
// pointers: none). Blocks stride over the rows.
extern "C" __global__ void norm_f32(const float* x, const float* w, const float* bias, float* out, long long rows, int cols,
                                    float eps, int layer, int plus_one) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + r * cols;
        float* dst = out + r * cols;
        float mean = 0.0f;
        if (layer) {
            float s = 0.0f;
            for (int i = threadIdx.x; i < cols; i += blockDim.x) s += row[i];
            mean = rlx_block_sum(s) / cols;
        }
        float ss = 0.0f;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float d = row[i] - mean;
            ss += d * d;
        }
        float scale = rsqrtf(rlx_block_sum(ss) / cols + eps);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float y = (row[i] - mean) * scale;
            if (w) y *= plus_one ? 1.0f + w[i] : w[i];
            if (bias) y += bias[i];
            dst[i] = y;
        }
    }
}

// The k largest values (or their I32 indices) of each row of cols f32
// values, in descending order, ties to the lower index: pick i has the
// largest (value, -index) below pick i-1's. One block per row.
extern "C" __global__ void topk_f32(const float* x, void* out, long long rows, int cols, int k, int indices) {
    __shared__ float bv[32];
    __shared__ int bi[32];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + r * cols;
        float pv = 0.0f;
        int pi = -1;
        for (int kk = 0; kk < k; kk++) {
            float best = RLX_NEG_INF;
            int besti = -1;
            for (int i = threadIdx.x; i < cols; i += blockDim.x) {
                float v = row[i];
                bool ok = pi < 0 || v < pv || (v == pv && i > pi);
                if (ok && (besti < 0 || v > best || (v == best && i < besti))) {
                    best = v;
                    besti = i;
                }
            }
            for (int o = 16; o > 0; o >>= 1) {
                float v = __shfl_xor_sync(0xffffffffu, best, o);
                int j = __shfl_xor_sync(0xffffffffu, besti, o);
                if (j >= 0 && (besti < 0 || v > best || (v == best && j < besti))) {
                    best = v;
                    besti = j;
                }
            }
            int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            if (lane == 0) {
                bv[warp] = best;
                bi[warp] = besti;
            }
            __syncthreads();
            if (warp == 0) {
                int warps = blockDim.x >> 5;
                best = lane < warps ? bv[lane] : RLX_NEG_INF;
                besti = lane < warps ? bi[lane] : -1;
                for (int o = 16; o > 0; o >>= 1) {
                    float v = __shfl_xor_sync(0xffffffffu, best, o);
                    int j = __shfl_xor_sync(0xffffffffu, besti, o);
                    if (j >= 0 && (besti < 0 || v > best || (v == best && j < besti))) {
                        best = v;
                        besti = j;
                    }
                }
                if (lane == 0) {
                    bv[0] = best;
                    bi[0] = besti;
                }
            }
            __syncthreads();
            pv = bv[0];
            pi = bi[0];
            __syncthreads();
            if (threadIdx.x == 0) {
                if (indices) ((int*)out)[r * k + kk] = pi;
                else ((float*)out)[r * k + kk] = pv;
            }
        }
    }
}

// out[i] = start + i as int32 (dt 3), int64 (4) or f32 (0).
extern "C" __global__ void range_any(void* out, int dt, long long start, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long v = start + i;
        if (dt == DT_I32) ((int*)out)[i] = (int)v;
        else if (dt == DT_I64) ((long long*)out)[i] = v;
        else ((float*)out)[i] = (float)v;
    }
}

// RoPETable: y = x·cos + rotate_half(x)·sin over rows of d (even) values;
// cos and sin are addressed through operands 1 and 2 of w (row offsets,
// element stride along the last axis in st[.][rank-1]).
extern "C" __global__ void rope_table_f32(const float* x, const float* cs, const float* sn, float* out, long long n, int d, Walk w) {
    int h = d / 2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long unused, ic, is;
        walk_offsets(w, i, &unused, &ic, &is);
        int c = (int)(i % d);
        long long rowStart = i - c;
        float rot = c < h ? -x[rowStart + c + h] : x[rowStart + c - h];
        out[i] = __fadd_rn(__fmul_rn(x[i], cs[ic]), __fmul_rn(rot, sn[is]));
    }
}
