package lmtest

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/weights"
)

// Conversion says how ToGGUF turns an HF checkpoint into a GGUF file the
// way llama.cpp's converter lays it out for one architecture.
type Conversion struct {
	Arch  string
	Names *weights.Names
	// Meta adds architecture keys (beyond the common sizes).
	Meta map[string]any
	// Tensor may rewrite a tensor's values (name is the HF name, shape
	// outermost first).
	Tensor func(name string, shape []int, v []float32) []float32
	// Extra adds tensors that only the GGUF file has (name → values, 1-D).
	Extra map[string][]float32
}

// ToGGUF writes the F32 HF fixture in dir as an F32 GGUF file laid out by c,
// with the common "<arch>.*" size keys taken from cfg.
func ToGGUF(t *testing.T, dir string, cfg *nn.Config, c Conversion) string {
	t.Helper()
	m, err := weights.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var md gguf.Metadata
	set := func(k string, v any) {
		if err := md.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	a := c.Arch
	set("general.architecture", a)
	set(a+".context_length", uint32(cfg.MaxPos))
	set(a+".embedding_length", uint32(cfg.Hidden))
	set(a+".block_count", uint32(cfg.Layers))
	set(a+".feed_forward_length", uint32(cfg.FFN))
	set(a+".attention.head_count", uint32(cfg.Heads))
	set(a+".attention.head_count_kv", uint32(cfg.KVHeads))
	set(a+".attention.key_length", uint32(cfg.HeadDim))
	set(a+".attention.value_length", uint32(cfg.HeadDim))
	set(a+".attention.layer_norm_rms_epsilon", float32(cfg.Eps))
	set(a+".rope.freq_base", float32(cfg.RoPE[0].Theta))
	set(a+".vocab_size", uint32(cfg.Vocab))
	set("tokenizer.ggml.model", "none")
	for k, v := range c.Meta {
		set(k, v)
	}
	type item struct {
		name  string
		shape []int
		v     []float32
	}
	var items []item
	for _, n := range m.Names() {
		tn, _ := m.Tensor(n)
		v, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		shape := make([]int, len(tn.Shape))
		for i, d := range tn.Shape {
			shape[i] = int(d)
		}
		if c.Tensor != nil {
			v = c.Tensor(n, shape, v)
		}
		g, ok := c.Names.ToGGUF(n)
		if !ok {
			t.Fatalf("no GGUF name for %s", n)
		}
		items = append(items, item{g, shape, v})
	}
	for n, v := range c.Extra {
		items = append(items, item{n, []int{len(v)}, v})
	}
	infos := make([]gguf.TensorInfo, len(items))
	for i, it := range items {
		dims := make([]uint64, len(it.shape))
		for j, d := range it.shape {
			dims[len(it.shape)-1-j] = uint64(d)
		}
		infos[i] = gguf.TensorInfo{Name: it.name, Type: gguf.TypeF32, Dims: dims}
	}
	path := filepath.Join(t.TempDir(), a+".gguf")
	w, err := gguf.Create(path, &md, infos)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.WriteTensor(it.name, nn.F32Tensor(it.v, len(it.v)).Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// InterleaveHeads reorders the rows of a q or k projection [heads·hd, in]
// so that, within each head, rotation partners become adjacent (row i and
// row i+hd/2 of the HF split-half layout go to rows 2i and 2i+1), which is
// how llama.cpp's converter stores Llama attention weights.
func InterleaveHeads(v []float32, heads, rows, cols int) []float32 {
	hd := rows / heads
	out := make([]float32, len(v))
	for h := range heads {
		for i := range hd / 2 {
			copy(out[(h*hd+2*i)*cols:(h*hd+2*i+1)*cols], v[(h*hd+i)*cols:(h*hd+i+1)*cols])
			copy(out[(h*hd+2*i+1)*cols:(h*hd+2*i+2)*cols], v[(h*hd+hd/2+i)*cols:(h*hd+hd/2+i+1)*cols])
		}
	}
	return out
}

// GGUFvsHF checks that a converted GGUF file gives HF's logits for the
// fixture prompt within the fixture's tolerance (scaled by slack).
func GGUFvsHF(t *testing.T, dir, path string, open nn.OpenFunc, slack float64) {
	t.Helper()
	ref, rm := readReference(t, dir)
	m, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	model, err := open(nn.Source{Weights: m})
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewLM(t, model, 64).PredictLogits(t.Context(), ref.PromptIDs)
	if err != nil {
		t.Fatal(err)
	}
	e := maxAbs(got.Data, refTensor(t, rm, "logits"))
	tol := ref.Tolerance.Logits * slack
	t.Logf("converted GGUF vs HF: logits max abs error %.3g (tolerance %.3g)", e, tol)
	if e > tol || math.IsNaN(e) {
		t.Errorf("converted GGUF differs from HF by %g > %g", e, tol)
	}
}
