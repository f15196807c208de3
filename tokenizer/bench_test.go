package tokenizer

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rlx-go/rlx/internal/gztest"
)

var (
	corpusOut = flag.String("corpus-out", "", "write the benchmark corpus to this file (for llama.cpp side-by-side runs)")
	corpusIn  = flag.String("corpus", "", "read the benchmark corpus from this file instead of building it")
)

var (
	corpusOnce sync.Once
	corpus     string
)

// benchCorpus builds about 6 MB of mixed text from files every Go
// installation has: English prose (Newton's Opticks), Go source code, and
// multilingual lines (the HF fixture strings: CJK, Korean, Arabic, Hindi,
// Cyrillic, Greek, emoji, …), interleaved in blocks.
func benchCorpus(tb testing.TB) string {
	corpusOnce.Do(func() {
		if *corpusIn != "" {
			b, err := os.ReadFile(*corpusIn)
			if err != nil {
				tb.Fatal(err)
			}
			corpus = string(b)
			return
		}
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			tb.Skipf("go env GOROOT: %v", err)
		}
		root := strings.TrimSpace(string(out))
		prose, err := os.ReadFile(filepath.Join(root, "src", "testdata", "Isaac.Newton-Opticks.txt"))
		if err != nil {
			tb.Skipf("no Opticks text in GOROOT: %v", err)
		}
		var code []string
		for _, dir := range []string{"net/http", "encoding/json", "go/parser", "strings", "bufio"} {
			_ = filepath.WalkDir(filepath.Join(root, "src", dir), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
					code = append(code, p)
				}
				return nil
			})
		}
		sort.Strings(code)
		var fx struct {
			Cases []struct {
				Text string `json:"text"`
			} `json:"cases"`
		}
		if err := json.Unmarshal(gztest.Read(tb, filepath.Join("testdata", "hf", "qwen3.expected.json.gz")), &fx); err != nil {
			tb.Fatal(err)
		}
		var multi strings.Builder
		for _, c := range fx.Cases {
			if strings.ContainsFunc(c.Text, func(r rune) bool { return r > 0x7F }) {
				multi.WriteString(c.Text)
				multi.WriteString("\n")
			}
		}
		var b strings.Builder
		ci := 0
		for b.Len() < 6<<20 {
			b.Write(prose[:len(prose)/2])
			for k := 0; k < 8 && ci < len(code); k++ {
				src, _ := os.ReadFile(code[ci%len(code)])
				b.Write(src)
				ci++
			}
			for range 20 {
				b.WriteString(multi.String())
			}
			b.Write(prose[len(prose)/2:])
			if ci >= len(code) {
				ci = 0
			}
		}
		corpus = b.String()
		if *corpusOut != "" {
			if err := os.WriteFile(*corpusOut, []byte(corpus), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	})
	return corpus
}

func benchEncode(b *testing.B, tk *Tokenizer) {
	text := benchCorpus(b)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	var n int
	for b.Loop() {
		ids, err := tk.Encode(text, false)
		if err != nil {
			b.Fatal(err)
		}
		n = len(ids)
	}
	b.ReportMetric(float64(n), "tokens")
}

// BenchmarkEncode measures single-thread encode throughput on ~6 MB of
// mixed text (see benchCorpus); MB/s is the figure to compare.
func BenchmarkEncode(b *testing.B) {
	for _, name := range []string{"qwen3", "llama3", "gemma3"} {
		b.Run(name, func(b *testing.B) { benchEncode(b, hfTokenizer(b, name, true)) })
	}
	for _, name := range []string{"gpt-2", "llama-spm", "bert-bge"} {
		b.Run("gguf-"+name, func(b *testing.B) { benchEncode(b, ggufTokenizer(b, name)) })
	}
}
