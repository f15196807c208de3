package rlx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/runtime"
)

const qwen3HF = "models/qwen3/testdata/hf"

// copyFixture copies the tiny Qwen3 checkpoint to a temporary folder with
// its config.json edited by edit.
func copyFixture(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(qwen3HF, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "config.json" {
			b = []byte(edit(string(b)))
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeGGUF(t *testing.T, arch string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), arch+".gguf")
	var md gguf.Metadata
	if err := md.Set("general.architecture", arch); err != nil {
		t.Fatal(err)
	}
	w, err := gguf.Create(path, &md, []gguf.TensorInfo{{Name: "token_embd.weight", Type: gguf.TypeF32, Dims: []uint64{4, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("token_embd.weight", make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenLMBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		want       []string
		is         error
	}{
		{"unknown GGUF arch", writeGGUF(t, "mystery"), []string{`"mystery"`, "unknown"}, rlx.ErrUnsupported},
		{"known, not implemented", writeGGUF(t, "phi3"), []string{"KnownUnimplemented(phi3)"}, rlx.ErrUnsupported},
		{"shape disagrees with config.json", copyFixture(t, func(s string) string {
			return strings.Replace(s, `"intermediate_size": 160`, `"intermediate_size": 128`, 1)
		}), []string{"model.layers.0.mlp.gate_proj.weight", "[160 64]", "[128 64]"}, nn.ErrShape},
		{"missing tensor", copyFixture(t, func(s string) string {
			return strings.Replace(s, `"num_hidden_layers": 2`, `"num_hidden_layers": 3`, 1)
		}), []string{"model.layers.2.input_layernorm.weight"}, nn.ErrMissingTensor},
		{"no such file", filepath.Join(t.TempDir(), "nothing.gguf"), []string{"nothing.gguf"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lm, err := rlx.OpenLM(tc.path)
			if err == nil {
				lm.Close()
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
		})
	}
}

func TestPromptLongerThanContext(t *testing.T) {
	lm, err := rlx.OpenLM(qwen3HF, rlx.WithMaxSeq(8))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	_, err = lm.GenerateIDs(context.Background(), []int32{5, 6, 7, 8, 9, 10, 11, 12, 13})
	if !errors.Is(err, runtime.ErrContextOverflow) || !strings.Contains(err.Error(), "9 tokens") {
		t.Fatalf("got %v, want a context overflow naming 9 tokens", err)
	}
	if _, err := lm.Logits(context.Background(), make([]int32, 9)); !errors.Is(err, runtime.ErrContextOverflow) {
		t.Fatalf("Logits: got %v, want a context overflow", err)
	}
	if _, err := lm.Generate(context.Background(), "hello"); !errors.Is(err, rlx.ErrNoTokenizer) {
		t.Fatalf("text prompt without a tokenizer: %v", err)
	}
}

func TestOptionsRejectNonsense(t *testing.T) {
	for _, o := range []rlx.Option{rlx.WithDevice("tpu"), rlx.WithMaxSeq(0), rlx.WithPrecision("f8"), rlx.WithThreads(-1), rlx.WithMaxMemory(0)} {
		if lm, err := rlx.OpenLM(qwen3HF, o); err == nil {
			lm.Close()
			t.Error("accepted a bad option")
		}
	}
	if _, err := rlx.OpenLM(qwen3HF, rlx.WithMaxMemory(1<<10)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("1 KiB memory limit: %v", err)
	}
}
