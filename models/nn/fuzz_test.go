package nn_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models/gemma2"
	"github.com/rlx-go/rlx/models/gemma3"
	"github.com/rlx-go/rlx/models/llama"
	"github.com/rlx-go/rlx/models/qwen3"
	"github.com/rlx-go/rlx/models/qwen3moe"
)

// FuzzConfigFromHF feeds arbitrary config.json bytes to the parsers of the
// families with the most configuration logic: they must return a Config or
// an error, never panic or allocate without bound.
func FuzzConfigFromHF(f *testing.F) {
	for _, fam := range []string{"qwen3", "llama", "qwen2", "gemma", "gemma2", "gemma3", "qwen3moe"} {
		if b, err := os.ReadFile(filepath.Join("..", fam, "testdata", "hf", "config.json")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (any, error){
			func(b []byte) (any, error) { return llama.ConfigFromHF(b) },
			func(b []byte) (any, error) { return gemma3.ConfigFromHF(b) },
			func(b []byte) (any, error) { return qwen3moe.ConfigFromHF(b) },
		} {
			_, _ = parse(data)
		}
	})
}

// FuzzConfigFromGGUF parses arbitrary bytes as a GGUF file and hands its
// metadata to every family's GGUF config reader: a Config or an error,
// never a panic.
func FuzzConfigFromGGUF(f *testing.F) {
	for _, arch := range []string{"qwen3", "llama", "gemma2", "gemma3", "qwen3moe"} {
		var md gguf.Metadata
		for k, v := range map[string]any{
			"general.architecture": arch, arch + ".embedding_length": uint32(64), arch + ".block_count": uint32(2),
			arch + ".attention.head_count": uint32(4), arch + ".attention.head_count_kv": uint32(2),
			arch + ".feed_forward_length": uint32(128), arch + ".vocab_size": uint32(100),
			arch + ".expert_count": uint32(4), arch + ".expert_used_count": uint32(2), arch + ".expert_feed_forward_length": uint32(32),
		} {
			if err := md.Set(k, v); err != nil {
				f.Fatal(err)
			}
		}
		var buf bytes.Buffer
		w, err := gguf.NewWriter(&buf, &md, nil)
		if err != nil {
			f.Fatal(err)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := gguf.Parse("fuzz.gguf", data)
		if err != nil {
			return
		}
		md := file.Metadata
		_, _ = qwen3.ConfigFromGGUF(md)
		_, _ = llama.ConfigFromGGUF(md)
		_, _ = gemma2.ConfigFromGGUF(md)
		_, _ = gemma3.ConfigFromGGUF(md)
		_, _ = qwen3moe.ConfigFromGGUF(md)
	})
}
