package synth_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/synth"
)

func write(t *testing.T, arch, typ string, seed uint64) string {
	t.Helper()
	s, err := synth.Preset(arch, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	ft, err := synth.FileType(typ)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), arch+"-"+typ+".gguf")
	if err := synth.Write(context.Background(), path, s, synth.Options{Type: ft, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every architecture and type loads in rlx, runs, and tokenizes text.
func TestLoadsInRLX(t *testing.T) {
	types := []string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"}
	for _, arch := range synth.Archs {
		for _, typ := range types {
			if arch != "qwen3" && arch != "llama" && typ != "F16" && typ != "Q4_K_M" {
				continue // every type once, every arch twice: keeps the test short
			}
			t.Run(arch+"/"+typ, func(t *testing.T) {
				path := write(t, arch, typ, 7)
				lm, err := rlx.OpenLM(path, rlx.WithMaxSeq(64))
				if err != nil {
					t.Fatal(err)
				}
				defer lm.Close()
				if lm.Family() == "" {
					t.Fatal("no family")
				}
				c := lm.Config()
				s, _ := synth.Preset(arch, "tiny")
				if c.Vocab != s.Vocab || c.Layers != s.Layers {
					t.Fatalf("config vocab %d layers %d, want %d %d", c.Vocab, c.Layers, s.Vocab, s.Layers)
				}
				ids, err := lm.Encode("the cat sat on the mat")
				if err != nil {
					t.Fatal(err)
				}
				// " t"+"he" style merges must have applied: fewer ids than bytes.
				if len(ids) == 0 || len(ids) >= len("the cat sat on the mat") {
					t.Fatalf("encode gave %d ids: %v", len(ids), ids)
				}
				text, err := lm.Tokenizer().Decode(ids, true)
				if err != nil || !strings.Contains(text, "the cat sat on the mat") {
					t.Fatalf("decode %q, %v", text, err)
				}
				lg, err := lm.Logits(context.Background(), ids)
				if err != nil {
					t.Fatal(err)
				}
				_ = lg
			})
		}
	}
}

// The file is what the type promises: the mix's types, the metadata, and
// weights with the intended statistics.
func TestContents(t *testing.T) {
	path := write(t, "qwen3", "Q4_K_M", 1)
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ft, _ := f.Metadata.FileType(); ft.String() != "Q4_K_M" {
		t.Fatalf("file type %v", ft)
	}
	seen := map[gguf.GGMLType]bool{}
	for _, ti := range f.Tensors {
		seen[ti.Type] = true
		if strings.HasSuffix(ti.Name, "_norm.weight") && ti.Type != gguf.TypeF32 {
			t.Errorf("%s is %v, want F32", ti.Name, ti.Type)
		}
	}
	if !seen[gguf.TypeQ4_K] || !seen[gguf.TypeQ6_K] {
		t.Errorf("Q4_K_M file has types %v, want Q4_K and Q6_K", seen)
	}
	for _, ti := range f.Tensors {
		data, err := f.Data(ti)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, ti.Elements())
		if err := quant.Dequantize(ti.DType(), v, data); err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		var sum, sq float64
		for _, x := range v {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		n := float64(len(v))
		mean, sd := sum/n, 0.0
		if d := sq/n - mean*mean; d > 0 {
			sd = d
		}
		if strings.HasSuffix(ti.Name, "_norm.weight") {
			if mean < 0.99 || mean > 1.01 {
				t.Errorf("%s: mean %.4f, want ≈ 1", ti.Name, mean)
			}
		} else if sd < 0.015*0.015 || sd > 0.025*0.025 || mean > 0.002 || mean < -0.002 {
			t.Errorf("%s: mean %.4f variance %.6f, want ≈ 0 and 0.0004", ti.Name, mean, sd)
		}
	}
	toks, _ := f.Metadata.Strings("tokenizer.ggml.tokens")
	if len(toks) != 512 || !slices.Contains(toks, "<|im_end|>") {
		t.Fatalf("%d tokens", len(toks))
	}
}

// The same seed writes the same bytes whatever the thread count; another
// seed writes other weights.
func TestDeterministic(t *testing.T) {
	s, _ := synth.Preset("llama", "tiny")
	dir := t.TempDir()
	ft, _ := synth.FileType("Q8_0")
	var files [][]byte
	for i, o := range []synth.Options{{Type: ft, Seed: 3, Threads: 1}, {Type: ft, Seed: 3, Threads: 3}, {Type: ft, Seed: 4, Threads: 2}} {
		p := filepath.Join(dir, string(rune('a'+i))+".gguf")
		if err := synth.Write(context.Background(), p, s, o); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !slices.Equal(files[0], files[1]) {
		t.Error("thread count changed the file")
	}
	if slices.Equal(files[0], files[2]) {
		t.Error("seed did not change the file")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := synth.Preset("gpt9", "tiny"); err == nil {
		t.Error("unknown arch accepted")
	}
	if _, err := synth.Preset("qwen3", "70b"); err == nil || !strings.Contains(err.Error(), "0.6b") {
		t.Errorf("unknown preset: %v", err)
	}
	if _, err := synth.FileType("Q9_X"); err == nil {
		t.Error("unknown type accepted")
	}
	s, _ := synth.Preset("qwen3", "tiny")
	s.KVHeads = 3
	ft, _ := synth.FileType("F16")
	if err := synth.Write(context.Background(), filepath.Join(t.TempDir(), "x.gguf"), s, synth.Options{Type: ft}); err == nil {
		t.Error("4 heads over 3 kv heads accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ = synth.Preset("qwen3", "tiny")
	p := filepath.Join(t.TempDir(), "y.gguf")
	if err := synth.Write(ctx, p, s, synth.Options{Type: ft}); err == nil {
		t.Error("cancelled write succeeded")
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("cancelled write left a file")
	}
}

// llama.cpp loads the files and runs them (when its llama-bench is built
// beside the repository; skipped otherwise).
func TestLoadsInLlamaCpp(t *testing.T) {
	bin := os.Getenv("LLAMA_BENCH")
	if bin == "" {
		bin = "/work/llama.cpp/build/bin/llama-bench"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("llama-bench not found (set LLAMA_BENCH)")
	}
	for _, arch := range synth.Archs {
		for _, typ := range []string{"F16", "Q4_K_M"} {
			t.Run(arch+"/"+typ, func(t *testing.T) {
				path := write(t, arch, typ, 2)
				out, err := exec.Command(bin, "-m", path, "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-o", "json").CombinedOutput()
				if err != nil {
					t.Fatalf("llama-bench: %v\n%s", err, out)
				}
				if !strings.Contains(string(out), `"avg_ts"`) {
					t.Fatalf("no result:\n%s", out)
				}
			})
		}
	}
}
