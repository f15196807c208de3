package weights

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
)

// makeBigGGUF writes a GGUF file of about size bytes shaped like a real
// ~1B-parameter Q4_K_M model: a 151k-token vocabulary with merges, 28
// blocks of attention and MLP tensors. Only the header is written; the
// data section is a sparse hole, which reads as zeros.
func makeBigGGUF(tb testing.TB, dir string, size int64) string {
	md := &gguf.Metadata{}
	const vocab = 151936
	toks := make([]string, vocab)
	merges := make([]string, vocab)
	scores := make([]float32, vocab)
	types := make([]int32, vocab)
	for i := range toks {
		toks[i] = "tok" + strconv.Itoa(i)
		merges[i] = "t " + strconv.Itoa(i)
		types[i] = 1
	}
	_ = md.Set(gguf.KeyArchitecture, "qwen3")
	_ = md.Set("qwen3.block_count", uint32(28))
	_ = md.Set("qwen3.context_length", uint32(40960))
	_ = md.Set("qwen3.embedding_length", uint32(1024))
	_ = md.Set("tokenizer.ggml.model", "gpt2")
	_ = md.Set("tokenizer.ggml.tokens", toks)
	_ = md.Set("tokenizer.ggml.merges", merges)
	_ = md.Set("tokenizer.ggml.scores", scores)
	_ = md.Set("tokenizer.ggml.token_type", types)
	_ = md.Set("tokenizer.chat_template", strings.Repeat("{{ x }}", 800))
	_ = md.Set(gguf.KeyFileType, uint32(15))

	var ts []gguf.TensorInfo
	add := func(name string, typ gguf.GGMLType, dims ...uint64) {
		ts = append(ts, gguf.TensorInfo{Name: name, Type: typ, Dims: dims})
	}
	add("token_embd.weight", gguf.TypeQ6_K, 1024, vocab)
	add("output_norm.weight", gguf.TypeF32, 1024)
	for i := 0; i < 28; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", gguf.TypeF32, 1024)
		add(p+"attn_q.weight", gguf.TypeQ4_K, 1024, 2048)
		add(p+"attn_k.weight", gguf.TypeQ4_K, 1024, 1024)
		add(p+"attn_v.weight", gguf.TypeQ6_K, 1024, 1024)
		add(p+"attn_output.weight", gguf.TypeQ4_K, 2048, 1024)
		add(p+"attn_q_norm.weight", gguf.TypeF32, 128)
		add(p+"attn_k_norm.weight", gguf.TypeF32, 128)
		add(p+"ffn_norm.weight", gguf.TypeF32, 1024)
		add(p+"ffn_gate.weight", gguf.TypeQ4_K, 1024, 3072)
		add(p+"ffn_up.weight", gguf.TypeQ4_K, 1024, 3072)
		add(p+"ffn_down.weight", gguf.TypeQ6_K, 3072, 1024)
	}
	// Pad with one more tensor so that the file reaches size.
	var hdr bytes.Buffer
	w, err := gguf.NewWriter(&hdr, md, ts)
	if err != nil {
		tb.Fatal(err)
	}
	wt := w.Tensors()
	last := wt[len(wt)-1]
	used := int64(hdr.Len()) + int64(last.Offset+last.Size)
	if rest := (size - used) / 4 / 256 * 256; rest > 0 {
		add("pad.weight", gguf.TypeF32, uint64(rest))
	}
	hdr.Reset()
	if w, err = gguf.NewWriter(&hdr, md, ts); err != nil {
		tb.Fatal(err)
	}
	wt = w.Tensors()
	last = wt[len(wt)-1]
	total := int64(hdr.Len()) + int64(last.Offset+last.Size)

	path := filepath.Join(dir, "big-Q4_K_M.gguf")
	if err := os.WriteFile(path, hdr.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(path, total); err != nil {
		tb.Fatal(err)
	}
	return path
}

// rssBytes reads the resident set size from /proc (0 where unavailable).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// BenchmarkOpenGGUF1GB opens a 1 GB GGUF (metadata of a real 151k-token
// vocabulary, 310 tensors) into a Map and lists every tensor. It reports
// the RSS the first open adds, before any tensor data is used.
func BenchmarkOpenGGUF1GB(b *testing.B) {
	path := makeBigGGUF(b, b.TempDir(), 1<<30)
	runtime.GC()
	debug.FreeOSMemory()
	before := rssBytes()
	m, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range m.Names() {
		if _, err := m.Tensor(n); err != nil {
			b.Fatal(err)
		}
	}
	added := rssBytes() - before
	m.Close()
	if st, _ := os.Stat(path); st.Size() < 1<<30-1<<20 {
		b.Fatalf("file is %d bytes", st.Size())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range m.Names() {
			if _, err := m.Tensor(n); err != nil {
				b.Fatal(err)
			}
		}
		m.Close()
	}
	b.ReportMetric(float64(added)/(1<<20), "MB-rss-first-open")
}
