package qwen3moe

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models/internal/lmtest"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// requant copies the llama.cpp fixture with its stacked expert tensors
// quantized to Q8_0.
func requant(t *testing.T) string {
	t.Helper()
	in, err := gguf.Open(filepath.Join(lmtest.Dir, "qwen3moe-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "moe.gguf")
	infos := make([]gguf.TensorInfo, len(in.Tensors))
	data := make([][]byte, len(in.Tensors))
	for i, ti := range in.Tensors {
		b, err := in.Data(ti)
		if err != nil {
			t.Fatal(err)
		}
		infos[i] = gguf.TensorInfo{Name: ti.Name, Type: ti.Type, Dims: ti.Dims}
		data[i] = b
		if !strings.Contains(ti.Name, "_exps") {
			continue
		}
		f := make([]float32, len(b)/4)
		if err := quant.Dequantize(tensor.F32, f, b); err != nil {
			t.Fatal(err)
		}
		q := make([]byte, len(f)/32*34)
		if err := quant.Quantize(tensor.Q8_0, q, f); err != nil {
			t.Fatal(err)
		}
		infos[i].Type, data[i] = gguf.TypeQ8_0, q
	}
	w, err := gguf.Create(out, in.Metadata, infos)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range infos {
		if err := w.WriteTensor(ti.Name, data[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Quantized stacked experts are served per expert as row ranges of the
// packed tensor. With Q8_0 experts the logits stay within quantization
// noise of llama.cpp's for the F32 file (no flash attention, F32 cache;
// measured 0.17 on the hidden-64 fixture); an expert served from the wrong
// rows moves them by several units.
func TestQuantizedStackedExperts(t *testing.T) {
	m, err := weights.Open(requant(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	model, err := Open(nn.Source{Weights: m})
	if err != nil {
		t.Fatal(err)
	}
	ref := lmtest.ReadGGUFReference(t, lmtest.Dir)
	lg, err := lmtest.NewLM(t, model, 32).PredictLogits(context.Background(), ref.PromptIDs)
	if err != nil {
		t.Fatal(err)
	}
	want := lmtest.ReadF32(t, filepath.Join(lmtest.Dir, "qwen3moe-f32.nofa-f32kv.logits.f32"))
	if len(want) != len(lg.Data) {
		t.Fatalf("%d logits, llama.cpp %d", len(lg.Data), len(want))
	}
	e := 0.0
	for i := range want {
		e = max(e, math.Abs(float64(lg.Data[i]-want[i])))
	}
	t.Logf("Q8_0 experts vs llama.cpp on the F32 file: max abs logit difference %.3g", e)
	if e > 0.25 {
		t.Errorf("Q8_0 experts move the logits by %g", e)
	}
}
