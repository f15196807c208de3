package qwen3

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/models/internal/lmtest"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// rewrite writes the HF fixture's tensors as dt into shards files of dir
// (with an index when there are several) beside its config.json.
func rewrite(t *testing.T, dt tensor.DType, shards int) string {
	t.Helper()
	src, err := weights.Open("testdata/hf/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	cfg, _ := os.ReadFile("testdata/hf/config.json")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	names := src.Names()
	index := map[string]string{}
	for s := range shards {
		file := "model.safetensors"
		if shards > 1 {
			file = "model-0000" + string(rune('1'+s)) + "-of-0000" + string(rune('0'+shards)) + ".safetensors"
		}
		var infos []safetensors.TensorInfo
		data := map[string][]byte{}
		for i, n := range names {
			if i%shards != s {
				continue
			}
			tn, _ := src.Tensor(n)
			f, err := tn.Float32()
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, len(f)*2)
			for j, v := range f {
				h := tensor.F32ToF16(v)
				if dt == tensor.BF16 {
					h = tensor.F32ToBF16(v)
				}
				binary.LittleEndian.PutUint16(b[2*j:], h)
			}
			infos = append(infos, safetensors.TensorInfo{Name: n, DType: dt, Shape: tn.Shape})
			data[n] = b
			index[n] = file
		}
		w, err := safetensors.Create(filepath.Join(dir, file), infos, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if err := w.WriteTensor(in.Name, data[in.Name]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if shards > 1 {
		b, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
		if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Half-precision and sharded checkpoints: a sharded F16 copy gives the
// same logits as the single-file F16 copy, and both stay within the error
// F16 weights allow of HF's float32 logits.
func TestHalfAndSharded(t *testing.T) {
	ctx := context.Background()
	var ref lmtest.HFReference
	b, _ := os.ReadFile("testdata/hf/reference.json")
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	rm, err := weights.Open("testdata/hf/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	want, _ := rm.Float32("logits")
	logits := map[string][]float32{}
	for _, c := range []struct {
		name   string
		dt     tensor.DType
		shards int
	}{{"f16", tensor.F16, 1}, {"f16-sharded", tensor.F16, 3}, {"bf16", tensor.BF16, 1}} {
		lm := lmtest.NewLM(t, lmtest.OpenHF(t, rewrite(t, c.dt, c.shards), Open), 32)
		got, err := lm.PredictLogits(ctx, ref.PromptIDs)
		if err != nil {
			t.Fatal(err)
		}
		e := 0.0
		for i := range want {
			e = max(e, math.Abs(float64(got.Data[i]-want[i])))
		}
		t.Logf("%s: logits max abs error vs HF float32 %.3g", c.name, e)
		if lim := map[tensor.DType]float64{tensor.F16: 0.02, tensor.BF16: 0.15}[c.dt]; e > lim {
			t.Errorf("%s: logits differ from HF float32 by %g > %g", c.name, e, lim)
		}
		logits[c.name] = got.Data
	}
	for i, v := range logits["f16"] {
		if logits["f16-sharded"][i] != v {
			t.Fatalf("sharded and single-file F16 logits differ at %d", i)
		}
	}
}
