// quantref: reference quantization data from llama.cpp's ggml library.
//
// Usage: quantref IN.f32 ROWS COLS OUTDIR
//
// IN.f32 holds ROWS*COLS little-endian float32 values. For every type below
// it writes OUTDIR/<type>.q (the bytes ggml_quantize_chunk produces with no
// importance matrix: what llama-quantize writes), OUTDIR/<type>.deq (those
// bytes decoded by ggml's reference dequantizer, float32), OUTDIR/<type>.rnd
// (random blocks, every bit pattern fair game) and OUTDIR/<type>.rnd.deq
// (their dequantization). Types without a quantizer get only .rnd files.
// Build it against a llama.cpp build (see quant/testdata/README.md); this
// program is ours, it only calls ggml's public functions.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"

void quantize_row_q8_1_ref(const float *x, void *y, int64_t k);
void quantize_row_q8_K_ref(const float *x, void *y, int64_t k);
void dequantize_row_q8_K(const void *x, float *y, int64_t k);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void write_file(const char *dir, const char *name, const char *ext, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

typedef void (*to_float_fn)(const void *, float *, int64_t);

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: quantref IN.f32 ROWS COLS OUTDIR\n"); return 2; }
    const int64_t rows = atoll(argv[2]), cols = atoll(argv[3]);
    const char *out = argv[4];
    float *x = malloc(rows * cols * sizeof(float));
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(x, sizeof(float), rows * cols, f) != (size_t)(rows * cols)) { perror(argv[1]); return 1; }
    fclose(f);

    struct { enum ggml_type t; int quantize; } types[] = {
        {GGML_TYPE_Q4_0, 1}, {GGML_TYPE_Q4_1, 1}, {GGML_TYPE_Q5_0, 1}, {GGML_TYPE_Q5_1, 1},
        {GGML_TYPE_Q8_0, 1}, {GGML_TYPE_Q8_1, 2}, {GGML_TYPE_Q2_K, 1}, {GGML_TYPE_Q3_K, 1},
        {GGML_TYPE_Q4_K, 1}, {GGML_TYPE_Q5_K, 1}, {GGML_TYPE_Q6_K, 1}, {GGML_TYPE_Q8_K, 2},
        {GGML_TYPE_IQ4_NL, 0}, {GGML_TYPE_IQ4_XS, 0},
    };
    const int nrand = 24; // random blocks per type
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const enum ggml_type t = types[i].t;
        const char *name = ggml_type_name(t);
        const size_t bs = ggml_blck_size(t), ts = ggml_type_size(t);
        to_float_fn deq = (to_float_fn)ggml_get_type_traits(t)->to_float;
        if (t == GGML_TYPE_Q8_K) deq = dequantize_row_q8_K;
        if (types[i].quantize) {
            const size_t n = (size_t)rows * cols / bs * ts;
            uint8_t *q = calloc(1, n);
            if (types[i].quantize == 1) {
                ggml_quantize_chunk(t, x, q, 0, rows, cols, NULL);
            } else if (t == GGML_TYPE_Q8_1) {
                quantize_row_q8_1_ref(x, q, rows * cols);
            } else {
                quantize_row_q8_K_ref(x, q, rows * cols);
            }
            write_file(out, name, ".q", q, n);
            if (deq) {
                float *y = malloc(rows * cols * sizeof(float));
                deq(q, y, rows * cols);
                write_file(out, name, ".deq", y, rows * cols * sizeof(float));
                free(y);
            }
            free(q);
        }
        if (deq) {
            uint8_t *r = malloc(nrand * ts);
            for (size_t j = 0; j < nrand * ts; j++) r[j] = (uint8_t)(next() >> 32);
            float *y = malloc(nrand * bs * sizeof(float));
            deq(r, y, nrand * bs);
            write_file(out, name, ".rnd", r, nrand * ts);
            write_file(out, name, ".rnd.deq", y, nrand * bs * sizeof(float));
            free(r);
            free(y);
        }
    }
    free(x);
    return 0;
}
