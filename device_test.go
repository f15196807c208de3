package rlx

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/fallback"
)

// TestDeviceNames checks the device names WithDevice accepts, and that
// asking for a GPU where there is none is a clear error, not a panic.
func TestDeviceNames(t *testing.T) {
	for _, bad := range []string{"tpu", "cuda:", "cuda:-1", "cuda:x", "CUDA", ""} {
		if err := WithDevice(bad)(&config{}); err == nil {
			t.Errorf("WithDevice(%q) accepted", bad)
		}
	}
	for _, good := range []string{"cpu", "cuda", "cuda:0", "cuda:3"} {
		if err := WithDevice(good)(&config{}); err != nil {
			t.Errorf("WithDevice(%q): %v", good, err)
		}
	}
	if driver.Init() == nil {
		if n, err := driver.DeviceCount(); err == nil && n > 0 {
			_, err := OpenLM(filepath.Join("testdata", "gguf-lm", "qwen3-f32.gguf"), WithDevice("cuda:99"))
			if err == nil || !strings.Contains(err.Error(), "cuda:99") {
				t.Errorf("cuda:99 on a machine with %d GPUs: %v", n, err)
			}
			return
		}
	}
	_, err := OpenLM(filepath.Join("testdata", "gguf-lm", "qwen3-f32.gguf"), WithDevice("cuda"))
	if err == nil {
		t.Fatal("OpenLM on cuda without a GPU succeeded")
	}
	if driver.Init() == nil {
		t.Logf("a driver without GPUs: %v", err)
		return
	}
	if !errors.Is(err, driver.ErrNoDriver) && !strings.Contains(err.Error(), "only supported on linux") {
		t.Errorf("unclear error without a GPU: %v", err)
	}
	t.Logf("without a GPU: %v", err)
}

// needGPU skips when no CUDA GPU (driver, device and libraries) is usable.
func needGPU(t *testing.T) {
	t.Helper()
	if err := driver.Init(); err != nil {
		t.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		t.Skipf("no CUDA device (%v)", err)
	}
	be, err := cuda.New(cuda.Options{})
	if err != nil {
		t.Skipf("CUDA unusable: %v", err)
	}
	be.Close()
}

type ggufLMReference struct {
	Prompt []int32 `json:"prompt_ids"`
	Cases  []struct {
		File   string `json:"file"`
		Result struct {
			Generated []int32 `json:"generated"`
		} `json:"result"`
	} `json:"cases"`
}

// TestCUDAParityGGUF runs every GGUF fixture of testdata/gguf-lm on the
// GPU and on the CPU: the logits of every prompt position must agree to
// 1e-4 relative (F32 files, F32 KV cache), greedy continuations (F16
// cache) must be llama.cpp's, and every model must run without a host
// fallback.
func TestCUDAParityGGUF(t *testing.T) {
	needGPU(t)
	dir := filepath.Join("testdata", "gguf-lm")
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref ggufLMReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range ref.Cases {
		t.Run(strings.TrimSuffix(c.File, ".gguf"), func(t *testing.T) {
			path := filepath.Join(dir, c.File)
			logits := func(device string) []float32 {
				lm, err := OpenLM(path, WithDevice(device), WithPrecision("f32"), WithMaxSeq(64))
				if err != nil {
					t.Fatal(err)
				}
				defer lm.Close()
				l, err := lm.Logits(ctx, ref.Prompt)
				if err != nil {
					t.Fatalf("%s: %v", device, err)
				}
				if fb, ok := lm.be.(*fallback.Backend); ok {
					host := fb.Fallbacks()
					t.Logf("on the GPU: %v; on the host: %v", fb.Device.(*cuda.Backend).Prepared(), host)
					if len(host) > 0 {
						t.Errorf("host fallbacks: %v", host)
					}
				}
				return l.Data
			}
			cpuL, gpuL := logits("cpu"), logits("cuda")
			if len(cpuL) != len(gpuL) {
				t.Fatalf("logits: %d on the CPU, %d on the GPU", len(cpuL), len(gpuL))
			}
			worst := relErr(gpuL, cpuL)
			t.Logf("logits of %d positions: max error %.3g relative to |cpu|+rms", len(ref.Prompt), worst)
			// Quantized files: the CPU quantizes the activations for its
			// dot products (as llama.cpp does) and the GPU keeps them in
			// F32, so only the greedy ids below are compared.
			if strings.HasSuffix(c.File, "-f32.gguf") && worst > 1e-4 {
				t.Errorf("GPU logits differ from the CPU's by %.3g (> 1e-4)", worst)
			}

			lm, err := OpenLM(path, WithDevice("cuda"), WithMaxSeq(64))
			if err != nil {
				t.Fatal(err)
			}
			defer lm.Close()
			res, err := lm.GenerateIDs(ctx, ref.Prompt, Greedy(), MaxTokens(len(c.Result.Generated)), IgnoreEOS())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.IDs, c.Result.Generated) {
				t.Errorf("greedy ids on the GPU %v, llama.cpp %v", res.IDs, c.Result.Generated)
			} else {
				t.Logf("greedy ids %v = llama.cpp's", res.IDs)
			}
		})
	}
}

// relErr is max |g−r| / (|r| + rms(r)), the conformance suite's measure.
func relErr(g, r []float32) float64 {
	var ss float64
	for _, v := range r {
		ss += float64(v) * float64(v)
	}
	rms := math.Sqrt(ss / float64(max(len(r), 1)))
	var worst float64
	for i := range r {
		e := math.Abs(float64(g[i])-float64(r[i])) / (math.Abs(float64(r[i])) + rms + 1e-30)
		if math.IsNaN(float64(g[i])) {
			e = math.Inf(1)
		}
		worst = max(worst, e)
	}
	return worst
}

// TestCUDAEmbedder embeds with the NomicBERT fixture on the GPU and on the
// CPU (same token ids): the vectors must agree to 1e-4.
func TestCUDAEmbedder(t *testing.T) {
	needGPU(t)
	path := filepath.Join("testdata", "fixtures", "hf-nomic_bert")
	inputs := []TokenInput{{IDs: []int32{1, 5, 9, 42, 17, 3}}, {IDs: []int32{2, 8, 4}}, {IDs: []int32{7, 7, 7, 7, 7, 7, 7, 7, 7, 11, 13}}}
	embed := func(device string) [][]float32 {
		e, err := OpenEmbedder(path, WithDevice(device))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		v, err := e.EmbedIDs(context.Background(), inputs)
		if err != nil {
			t.Fatalf("%s: %v", device, err)
		}
		return v
	}
	cpuV, gpuV := embed("cpu"), embed("cuda")
	for i := range cpuV {
		e := relErr(gpuV[i], cpuV[i])
		t.Logf("input %d: %d dims, max error %.3g", i, len(cpuV[i]), e)
		if e > 1e-4 {
			t.Errorf("input %d: GPU embedding differs by %.3g", i, e)
		}
	}
}

type hfReference struct {
	Prompt    []int32   `json:"prompt_ids"`
	Generated []int32   `json:"generated_ids"`
	Margins   []float64 `json:"margins"`
}

// TestCUDAParityHF runs the Hugging Face fixtures of the model families
// (models/*/testdata/hf: Gemma's (1+w) norms, Qwen2's biases, Qwen3-MoE's
// per-expert weights) on the GPU: logits within 1e-4 of the CPU's and
// transformers' greedy ids (F32 cache), up to a step whose margin is below
// 1e-3 (a near tie may go either way).
func TestCUDAParityHF(t *testing.T) {
	needGPU(t)
	ctx := context.Background()
	for _, fam := range []string{"qwen3", "qwen3moe", "qwen2", "llama", "gemma", "gemma2", "gemma3"} {
		t.Run(fam, func(t *testing.T) {
			dir := filepath.Join("models", fam, "testdata", "hf")
			data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
			if err != nil {
				t.Fatal(err)
			}
			var ref hfReference
			if err := json.Unmarshal(data, &ref); err != nil {
				t.Fatal(err)
			}
			open := func(device string) *LM {
				lm, err := OpenLM(dir, WithDevice(device), WithPrecision("f32"), WithMaxSeq(64))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { lm.Close() })
				return lm
			}
			cpuLM, gpuLM := open("cpu"), open("cuda")
			want, err := cpuLM.Logits(ctx, ref.Prompt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := gpuLM.Logits(ctx, ref.Prompt)
			if err != nil {
				t.Fatal(err)
			}
			if fb, ok := gpuLM.be.(*fallback.Backend); ok {
				t.Logf("on the host: %v", fb.Fallbacks())
			}
			worst := relErr(got.Data, want.Data)
			t.Logf("logits of %d positions: max error %.3g", len(ref.Prompt), worst)
			if worst > 1e-4 {
				t.Errorf("GPU logits differ from the CPU's by %.3g (> 1e-4)", worst)
			}
			res, err := gpuLM.GenerateIDs(ctx, ref.Prompt, Greedy(), MaxTokens(len(ref.Generated)), IgnoreEOS())
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range ref.Generated {
				if i >= len(res.IDs) || res.IDs[i] != id {
					t.Errorf("greedy ids on the GPU %v, transformers %v (step %d)", res.IDs, ref.Generated, i)
					break
				}
				if i < len(ref.Margins) && ref.Margins[i] < 1e-3 {
					break
				}
			}
		})
	}
}
