package rlx_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx"
)

// BenchmarkEmbedMiniLM embeds the 1 000 sentences of
// scripts/embedbench/make_model.py's output folder (set RLX_EMBED_BENCH to
// it) with 2 threads, for each of its model files; it reports sentences/s.
//
//	python3 scripts/embedbench/make_model.py --out /tmp/minilm
//	RLX_EMBED_BENCH=/tmp/minilm go test -run '^$' -bench EmbedMiniLM -benchtime 3x .
func BenchmarkEmbedMiniLM(b *testing.B) {
	dir := os.Getenv("RLX_EMBED_BENCH")
	if dir == "" {
		b.Skip("RLX_EMBED_BENCH is not set (see scripts/embedbench/make_model.py)")
	}
	texts := readLines(b, filepath.Join(dir, "sentences.txt"))
	for _, model := range []string{"st", "minilm-f32.gguf", "minilm-f16.gguf"} {
		b.Run(model, func(b *testing.B) {
			e, err := rlx.OpenEmbedder(filepath.Join(dir, model), rlx.WithThreads(2))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			benchEmbed(b, e, texts)
		})
	}
}

// BenchmarkEmbedTiny runs the test fixture's tiny BERT (hidden 64) on short
// texts: the per-call overheads rather than the matmuls.
func BenchmarkEmbedTiny(b *testing.B) {
	dir := stFolder(b, 64, nil)
	e, err := rlx.OpenEmbedder(dir, rlx.WithThreads(2))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	texts := []string{"the quick brown fox", "hello world", "jumps over the lazy dog", "search query passage"}
	for len(texts) < 64 {
		texts = append(texts, texts[len(texts)%4]+" "+texts[(len(texts)+1)%4])
	}
	benchEmbed(b, e, texts)
}

func benchEmbed(b *testing.B, e *rlx.Embedder, texts []string) {
	ctx := context.Background()
	if _, err := e.Embed(ctx, texts); err != nil { // compile-time plans, warm caches
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "sentences/s")
}

func readLines(b *testing.B, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
