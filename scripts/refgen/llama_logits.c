// llama_logits runs a GGUF language model with llama.cpp's C API on the CPU
// with one thread and writes the reference outputs the rlx GGUF parity tests
// compare against: the logits of every prompt position (raw little-endian
// float32, [len(prompt), n_vocab], row-major) and a greedy continuation with
// the gap between the best and second-best logit at each step.
//
// The models carry no tokenizer (tokenizer.ggml.model = "none"), so the prompt
// is given as token ids.
//
// Usage:
//   llama_logits MODEL.gguf OUT.logits.f32 fa|nofa f16|f32 N_GEN ID [ID...]
//
// fa/nofa turns flash attention on or off; f16/f32 is the type of the K and V
// cache. It prints one JSON object on stdout:
//   {"n_vocab": V, "prompt": [...], "generated": [...], "margins": [...]}
// Build: see README-gguf-lm.md next to this file.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

// best2 returns the arg max of x and stores the top-1 minus top-2 gap.
static int best2(const float *x, int n, float *gap) {
    int b = 0;
    for (int i = 1; i < n; i++) {
        if (x[i] > x[b]) {
            b = i;
        }
    }
    float second = -1e30f;
    for (int i = 0; i < n; i++) {
        if (i != b && x[i] > second) {
            second = x[i];
        }
    }
    *gap = x[b] - second;
    return b;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s MODEL.gguf OUT.logits.f32 fa|nofa f16|f32 N_GEN ID [ID...]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1];
    const char *out_path = argv[2];
    int fa = strcmp(argv[3], "fa") == 0;
    enum ggml_type kv = strcmp(argv[4], "f32") == 0 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    int n_gen = atoi(argv[5]);
    int n_prompt = argc - 6;
    llama_token *prompt = malloc(sizeof(llama_token) * (size_t)n_prompt);
    for (int i = 0; i < n_prompt; i++) {
        prompt[i] = atoi(argv[6 + i]);
    }

    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", model_path);
        return 1;
    }
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_seq_max = 1;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.flash_attn_type = fa ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = kv;
    cp.type_v = kv;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "cannot make a context for %s\n", model_path);
        return 1;
    }

    // The whole prompt in one batch, asking for the logits of every position.
    struct llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; i++) {
        batch.token[i] = prompt[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = n_prompt;
    if (llama_decode(ctx, batch) != 0) {
        fprintf(stderr, "decode of the prompt failed\n");
        return 1;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        perror(out_path);
        return 1;
    }
    for (int i = 0; i < n_prompt; i++) {
        fwrite(llama_get_logits_ith(ctx, i), sizeof(float), (size_t)n_vocab, f);
    }
    fclose(f);

    int *gen = malloc(sizeof(int) * (size_t)(n_gen + 1));
    float *gaps = malloc(sizeof(float) * (size_t)(n_gen + 1));
    const float *logits = llama_get_logits_ith(ctx, n_prompt - 1);
    struct llama_batch one = llama_batch_init(1, 0, 1);
    for (int s = 0; s < n_gen; s++) {
        gen[s] = best2(logits, n_vocab, &gaps[s]);
        if (s == n_gen - 1) {
            break;
        }
        one.token[0] = gen[s];
        one.pos[0] = n_prompt + s;
        one.n_seq_id[0] = 1;
        one.seq_id[0][0] = 0;
        one.logits[0] = 1;
        one.n_tokens = 1;
        if (llama_decode(ctx, one) != 0) {
            fprintf(stderr, "decode of step %d failed\n", s);
            return 1;
        }
        logits = llama_get_logits_ith(ctx, -1);
    }

    printf("{\"n_vocab\": %d, \"prompt\": [", n_vocab);
    for (int i = 0; i < n_prompt; i++) {
        printf("%s%d", i ? ", " : "", prompt[i]);
    }
    printf("], \"generated\": [");
    for (int i = 0; i < n_gen; i++) {
        printf("%s%d", i ? ", " : "", gen[i]);
    }
    printf("], \"margins\": [");
    for (int i = 0; i < n_gen; i++) {
        printf("%s%.5f", i ? ", " : "", gaps[i]);
    }
    printf("]}\n");

    llama_batch_free(one);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    free(gen);
    free(gaps);
    free(prompt);
    return 0;
}
