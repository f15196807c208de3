#!/bin/bash
# Interleaved single-thread encode throughput, rlx vs llama.cpp, as in
# docs/PERFORMANCE.md. Usage: run.sh DIR, where DIR holds tok.test
# (go test -c ./tokenizer), llbench (bench.cpp built against llama.cpp) with
# its shared libraries, corpus.txt (-corpus-out) and the vocab GGUFs
# (ggml-vocab-{gpt-2,llama-spm,bert-bge}.gguf, vocab-{qwen3,llama3}.gguf from
# TestGGUFMatchesTokenizerJSON -gguf-out-dir). Run from the tokenizer package
# directory (tok.test reads testdata/).
B=$(cd "$1" && pwd)
export LD_LIBRARY_PATH=$B GOMAXPROCS=1
for round in 1 2 3 4 5; do
  for pair in "gguf-gpt-2:ggml-vocab-gpt-2.gguf" "gguf-llama-spm:ggml-vocab-llama-spm.gguf" "gguf-bert-bge:ggml-vocab-bert-bge.gguf" "qwen3:vocab-qwen3.gguf" "llama3:vocab-llama3.gguf" "gemma3:"; do
    name=${pair%%:*}; gg=${pair#*:}
    r=$(taskset -c 3 "$B/tok.test" -test.run '^$' -test.bench "Encode/$name\$" -test.benchtime 3x -corpus "$B/corpus.txt" 2>&1 | grep -o '[0-9.]* MB/s' | head -1)
    echo "round $round rlx $name $r"
    if [ -n "$gg" ]; then
      n=3; [ "$name" = gguf-llama-spm ] && n=1
      echo "round $round llama.cpp $name $(taskset -c 3 "$B/llbench" "$B/$gg" "$B/corpus.txt" $n 2>&1 | tail -1)"
    fi
  done
done
