package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// The tiny random HF fixtures of the model packages (written by
// transformers; see their testdata READMEs).
var fixtures = []string{"qwen3", "llama", "qwen2", "gemma", "gemma2", "gemma3", "qwen3moe"}

func fixture(t *testing.T, fam string) string {
	dir := filepath.Join("..", "models", fam, "testdata", "hf")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("no HF fixture for %s: %v", fam, err)
	}
	return dir
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// logits opens path (a GGUF file, or an HF folder) with its family's Open
// and returns the logits of every position of ids.
func logits(t *testing.T, path string, ids []int32) (*runtime.LM, []float32) {
	t.Helper()
	m, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	src := nn.Source{Weights: m}
	var fam models.Family
	var ok bool
	if md := m.GGUF(); md != nil {
		fam, ok = models.ByGGUF(md.Arch())
	} else {
		cfg, err := os.ReadFile(filepath.Join(path, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		src.HFConfig = cfg
		h, err := nn.ParseHF(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fam, ok = models.ByHF(h.ModelType, h.Architectures)
	}
	if !ok {
		t.Fatalf("%s: no family", path)
	}
	model, err := fam.Open.(nn.OpenFunc)(src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	lm, err := runtime.New(model, cpu.New(cpu.Options{Poison: true}), runtime.Options{MaxSeq: 64, KV: tensor.F32, PrefillChunk: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lm.Close)
	var out []float32
	for n := 1; n <= len(ids); n++ {
		// PredictLogits gives the last position: run every prefix so that
		// every position (and every rope offset) is compared.
		lg, err := lm.PredictLogits(t.Context(), ids[:n])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lg.Row(lg.Rows-1)...)
	}
	return lm, out
}

func maxAbs(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

func spread(v []float32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, float64(x)), max(hi, float64(x))
	}
	return hi - lo
}

func convert(t *testing.T, dir string, ft gguf.FileType) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), ft.String()+".gguf")
	_, err := ToGGUF(t.Context(), dir, out, Options{Type: ft, Log: quiet})
	return out, err
}

// patched copies the fixture in dir with config.json keys replaced.
func patched(t *testing.T, dir string, keys map[string]any) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	maps.Copy(cfg, keys)
	if data, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "model.safetensors"), st, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every family's F32 GGUF gives the safetensors checkpoint's logits; F16,
// BF16, Q8_0 and Q4_K_M files load and stay close; and the quantized files
// greedy-decode.
func TestFixtures(t *testing.T) {
	for i, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := fixture(t, name)
			if name == "gemma2" {
				// The fixture's query_pre_attn_scalar (24) is not head_dim
				// (16): llama.cpp's gemma2 keys cannot say so, and the
				// converter must refuse rather than change the outputs.
				_, err := convert(t, dir, 0)
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "attention scale") {
					t.Fatalf("converting gemma2 with query_pre_attn_scalar ≠ head_dim: got %v, want ErrUnsupported", err)
				}
				dir = patched(t, dir, map[string]any{"query_pre_attn_scalar": 16})
			}
			rng := rand.New(rand.NewPCG(uint64(i)+7, 99))
			lmHF, _ := logits(t, dir, []int32{0})
			vocab := lmHF.Config().Vocab
			ids := make([]int32, 3+rng.IntN(9))
			for j := range ids {
				ids[j] = int32(rng.IntN(vocab))
			}
			_, want := logits(t, dir, ids)
			f32, err := convert(t, dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, got := logits(t, f32, ids)
			if e := maxAbs(got, want); e > 1e-4 {
				t.Errorf("F32 GGUF vs safetensors: max abs %g > 1e-4", e)
			} else {
				t.Logf("F32 GGUF vs safetensors: max abs %.3g over %d positions", e, len(ids))
			}
			s := spread(want)
			for _, c := range []struct {
				name string
				ft   gguf.FileType
				tol  float64 // of the logits' spread
			}{{"F16", 1, 0.01}, {"BF16", 32, 0.05}, {"Q8_0", 7, 0.05}, {"Q4_K_M", 15, 0.5}} {
				path, err := convert(t, dir, c.ft)
				if err != nil && c.ft == 7 && strings.Contains(err.Error(), "do not divide") {
					// llama-quantize has no fallback type for Q8_0 either.
					t.Logf("%s: %v", c.name, err)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				lm, got := logits(t, path, ids)
				e := maxAbs(got, want)
				t.Logf("%s: max abs %.3g (logit spread %.3g)", c.name, e, s)
				if e > c.tol*s {
					t.Errorf("%s: logits differ by %g > %g", c.name, e, c.tol*s)
				}
				res, err := lm.Generate(t.Context(), ids, runtime.GenerateOptions{MaxTokens: 4, IgnoreEOS: true})
				if err != nil {
					t.Fatalf("%s: generate: %v", c.name, err)
				}
				if len(res.IDs) != 4 {
					t.Errorf("%s: generated %v, want 4 tokens", c.name, res.IDs)
				}
				for _, id := range res.IDs {
					if id < 0 || int(id) >= vocab {
						t.Errorf("%s: generated id %d outside the vocabulary", c.name, id)
					}
				}
			}
		})
	}
}

// llama.cpp loads and runs the converted files (F32 and Q4_K_M) when its
// llama-bench is built next to this checkout.
func TestLlamaCppLoads(t *testing.T) {
	bench := os.Getenv("LLAMA_BENCH")
	if bench == "" {
		bench = "/work/llama.cpp/build/bin/llama-bench"
	}
	if _, err := os.Stat(bench); err != nil {
		t.Skipf("llama-bench not found (%v); set LLAMA_BENCH to check that llama.cpp loads the files", err)
	}
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := fixture(t, name)
			if name == "gemma2" {
				dir = patched(t, dir, map[string]any{"query_pre_attn_scalar": 16})
			}
			for _, ft := range []gguf.FileType{0, 15} {
				path, err := convert(t, dir, ft)
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.CommandContext(t.Context(), bench, "-m", path, "-p", "4", "-n", "2", "-r", "1", "-t", "1", "--no-warmup", "-o", "csv").CombinedOutput()
				if err != nil {
					t.Fatalf("llama-bench %s: %v\n%s", ft, err, out)
				}
				if !strings.Contains(string(out), filepath.Base(path)) {
					t.Fatalf("llama-bench %s printed no result:\n%s", ft, out)
				}
			}
		})
	}
}

// rewrite copies the fixture in dir as dt, split into two shards with an
// index, as large checkpoints come.
func rewrite(t *testing.T, dir string, dt tensor.DType) string {
	t.Helper()
	m, err := weights.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	names := m.Names()
	shards := [][]string{names[:len(names)/2], names[len(names)/2:]}
	index := map[string]string{}
	for i, part := range shards {
		file := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		var infos []safetensors.TensorInfo
		var data [][]byte
		for _, n := range part {
			tn, _ := m.Tensor(n)
			v, err := tn.Float32()
			if err != nil {
				t.Fatal(err)
			}
			typ := gguf.TypeF16
			if dt == tensor.BF16 {
				typ = gguf.TypeBF16
			}
			infos = append(infos, safetensors.TensorInfo{Name: n, DType: dt, Shape: tn.Shape})
			data = append(data, encode(v, typ))
			index[n] = file
		}
		w, err := safetensors.Create(filepath.Join(out, file), infos, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, n := range part {
			if err := w.WriteTensor(n, data[j]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
	if err := os.WriteFile(filepath.Join(out, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Sharded BF16 and F16 checkpoints convert too, and the F32 GGUF gives the
// half-precision checkpoint's own logits.
func TestHalfShards(t *testing.T) {
	for i, name := range []string{"llama", "qwen3moe", "gemma3"} {
		for _, dt := range []tensor.DType{tensor.BF16, tensor.F16} {
			t.Run(name+"/"+dt.String(), func(t *testing.T) {
				dir := rewrite(t, fixture(t, name), dt)
				rng := rand.New(rand.NewPCG(uint64(i), 3))
				ids := make([]int32, 2+rng.IntN(6))
				for j := range ids {
					ids[j] = int32(rng.IntN(512))
				}
				_, want := logits(t, dir, ids)
				path, err := convert(t, dir, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, got := logits(t, path, ids)
				if e := maxAbs(got, want); e > 1e-4 {
					t.Errorf("F32 GGUF vs %s safetensors: max abs %g > 1e-4", dt, e)
				}
			})
		}
	}
}

// Bad checkpoints give errors that name the problem, never a panic.
func TestErrors(t *testing.T) {
	src := fixture(t, "qwen3moe")
	cases := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, "config.json")) }, "config.json"},
		{"bad json", func(dir string) { os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o644) }, "config.json"},
		{"unknown family", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"mamba","architectures":["MambaForCausalLM"]}`), 0o644)
		}, "mamba"},
		{"no weights", func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, ""},
		{"truncated weights", func(dir string) {
			p := filepath.Join(dir, "model.safetensors")
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := patched(t, src, nil)
			c.setup(dir)
			_, err := convert(t, dir, 15)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
	// A checkpoint whose experts are fewer than config.json says.
	dir := patched(t, src, map[string]any{"num_local_experts": 5})
	if _, err := convert(t, dir, 0); err == nil || !strings.Contains(err.Error(), "experts.4.gate_proj") {
		t.Errorf("missing expert: got %v", err)
	}
	// Unsupported file type.
	if _, err := convert(t, src, 99); !errors.Is(err, ErrUnsupported) {
		t.Errorf("file type 99: got %v, want ErrUnsupported", err)
	}
}

// llama.cpp itself, run on the converted F32 files, gives the safetensors
// checkpoint's logits: this checks the layout choices (Q/K interleaving,
// Gemma's +1, stacked experts, rope_freqs, metadata) against llama.cpp's
// graphs rather than rlx's GGUF readers. It builds testdata/llamacpp_logits.c
// against the llama.cpp checkout in $LLAMA_CPP (default /work/llama.cpp).
func TestLlamaCppLogits(t *testing.T) {
	root := os.Getenv("LLAMA_CPP")
	if root == "" {
		root = "/work/llama.cpp"
	}
	lib := filepath.Join(root, "build", "bin")
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skipf("no C compiler: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "include", "llama.h")); err != nil {
		t.Skipf("no llama.cpp checkout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lib, "libllama.so")); err != nil {
		t.Skipf("llama.cpp is not built: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "logits")
	if out, err := exec.Command(cc, "-O1", "-o", bin, "testdata/llamacpp_logits.c",
		"-I"+filepath.Join(root, "include"), "-I"+filepath.Join(root, "ggml", "include"),
		"-L"+lib, "-lllama", "-Wl,-rpath,"+lib).CombinedOutput(); err != nil {
		t.Skipf("cannot build the llama.cpp driver: %v\n%s", err, out)
	}
	for i, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := fixture(t, name)
			if name == "gemma2" {
				dir = patched(t, dir, map[string]any{"query_pre_attn_scalar": 16})
			}
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			ids := make([]int32, 2+rng.IntN(6))
			args := []string{""}
			for j := range ids {
				ids[j] = int32(rng.IntN(512))
				args = append(args, fmt.Sprint(ids[j]))
			}
			_, want := logits(t, dir, ids)
			path, err := convert(t, dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			args[0] = path
			out, err := exec.CommandContext(t.Context(), bin, args...).Output()
			if err != nil {
				t.Fatalf("llama.cpp: %v", err)
			}
			var got []float32
			for _, f := range strings.Fields(string(out)) {
				var x float32
				if _, err := fmt.Sscan(f, &x); err != nil {
					t.Fatal(err)
				}
				got = append(got, x)
			}
			e := maxAbs(got, want)
			t.Logf("llama.cpp on the F32 GGUF vs rlx on safetensors: max abs %.3g over %d positions", e, len(ids))
			tol := 1e-5
			if strings.HasPrefix(name, "gemma") {
				tol = 2e-3 // ggml's CPU GELU looks its input up in an F16 table
			}
			if e > tol {
				t.Errorf("llama.cpp logits differ by %g > %g", e, tol)
			}
		})
	}
}
