// Single-thread encode throughput of llama.cpp's tokenizer, for the
// side-by-side numbers in docs/PERFORMANCE.md. Not built by go test.
//
//   g++ -O2 -std=c++17 bench.cpp -I$LLAMA/include -I$LLAMA/ggml/include \
//       -L$LLAMA/build/bin -lllama -Wl,-rpath,$LLAMA/build/bin -o bench
//   ./bench vocab.gguf corpus.txt 5
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static void quiet(enum ggml_log_level, const char *, void *) {}

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s vocab.gguf text.txt [rounds]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        std::fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab *vocab = llama_model_get_vocab(model);
    std::ifstream in(argv[2], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::vector<llama_token> toks(text.size() + 16);
    std::vector<double> secs;
    int n = 0;
    for (int r = 0; r < rounds; r++) {
        auto t0 = std::chrono::steady_clock::now();
        n = llama_tokenize(vocab, text.data(), (int32_t)text.size(), toks.data(), (int32_t)toks.size(), false, true);
        auto t1 = std::chrono::steady_clock::now();
        secs.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    std::sort(secs.begin(), secs.end());
    double med = secs[secs.size() / 2];
    std::printf("%s: %zu bytes, %d tokens, median %.3f s, %.2f MB/s\n", argv[1], text.size(), n, med,
                text.size() / med / 1e6);
    llama_model_free(model);
    return 0;
}
