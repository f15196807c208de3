package embed_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/models/nomicbert"
	"github.com/rlx-go/rlx/runtime/embed"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// refTensors reads every tensor of a reference.safetensors as float64
// (integers included), with its shape.
func refTensors(t *testing.T, path string) map[string]refTensor {
	t.Helper()
	m, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := map[string]refTensor{}
	for name, w := range m.All() {
		var v []float64
		switch w.DType {
		case tensor.I64:
			for i := 0; i+8 <= len(w.Data); i += 8 {
				v = append(v, float64(int64(binary.LittleEndian.Uint64(w.Data[i:]))))
			}
		default:
			f, err := w.Float32()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, x := range f {
				v = append(v, float64(x))
			}
		}
		shape := make([]int, len(w.Shape))
		for i, d := range w.Shape {
			shape[i] = int(d)
		}
		out[name] = refTensor{v, shape}
	}
	return out
}

type refTensor struct {
	v     []float64
	shape []int
}

type hfFixture struct {
	ids, types [][]int32
	ref        map[string]refTensor
	tol        float64
}

func loadHF(t *testing.T, dir string) hfFixture {
	t.Helper()
	ref := refTensors(t, filepath.Join(dir, "reference.safetensors"))
	var meta struct {
		Tol struct {
			Hidden float64 `json:"last_hidden_state_max_abs"`
		} `json:"suggested_tolerance"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	f := hfFixture{ref: ref, tol: meta.Tol.Hidden}
	ids, types, mask := ref["input_ids"], ref["token_type_ids"], ref["attention_mask"]
	B, T := ids.shape[0], ids.shape[1]
	for r := range B {
		var a, b []int32
		for j := range T {
			if mask.v[r*T+j] != 0 {
				a = append(a, int32(ids.v[r*T+j]))
				b = append(b, int32(types.v[r*T+j]))
			}
		}
		f.ids, f.types = append(f.ids, a), append(f.types, b)
	}
	return f
}

// openModel opens a checkpoint folder's weights (only model.safetensors:
// the folder also holds the reference file).
func openModel(t *testing.T, dir string, open bert.OpenFunc) *bert.Model {
	t.Helper()
	var (
		m   *weights.Map
		err error
		cfg []byte
	)
	if filepath.Ext(dir) == ".gguf" {
		m, err = weights.Open(dir)
	} else {
		m, err = weights.Open(filepath.Join(dir, "model.safetensors"))
		if err == nil {
			cfg, err = os.ReadFile(filepath.Join(dir, "config.json"))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	model, err := open(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return model
}

func maxDiff(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = max(worst, d)
	}
	if worst > tol {
		t.Errorf("%s: max |Δ| %.3g > %.3g", what, worst, tol)
	} else {
		t.Logf("%s: max |Δ| %.3g (tol %.3g)", what, worst, tol)
	}
}

// checkHF compares hidden states (valid positions), pooled embeddings and
// (when present) the pooler output with a Hugging Face fixture.
func checkHF(t *testing.T, model *bert.Model, f hfFixture, batchSize int) {
	ctx := context.Background()
	H := model.Config.Hidden
	T := f.ref["input_ids"].shape[1]
	inputs := make([]embed.Input, len(f.ids))
	for i := range inputs {
		inputs[i] = embed.Input{IDs: f.ids[i], Types: f.types[i]}
	}
	for _, tc := range []struct {
		pool embed.Pooling
		norm bool
		ref  string
	}{{embed.Mean, true, "sentence_embedding"}, {embed.Mean, false, "sentence_embedding_mean_unnormalized"}, {embed.CLS, true, "sentence_embedding_cls"}} {
		_, hasPooler := f.ref["pooler_output"]
		enc, err := embed.New(model, cpu.New(cpu.Options{Poison: true}), embed.Options{Pooling: tc.pool, Normalize: tc.norm, BatchSize: batchSize, Pooler: hasPooler})
		if err != nil {
			t.Fatal(err)
		}
		res, err := enc.Run(ctx, inputs, true)
		if err != nil {
			t.Fatal(err)
		}
		want := f.ref[tc.ref].v
		for r := range res {
			maxDiff(t, tc.ref, res[r].Embedding, want[r*H:(r+1)*H], f.tol)
			var tok []float32
			for _, row := range res[r].Tokens {
				tok = append(tok, row...)
			}
			lhs := f.ref["last_hidden_state"].v[r*T*H : (r*T+len(f.ids[r]))*H]
			maxDiff(t, "last_hidden_state", tok, lhs, f.tol)
			if hasPooler {
				maxDiff(t, "pooler_output", res[r].Pooler, f.ref["pooler_output"].v[r*H:(r+1)*H], f.tol)
			}
		}
		enc.Close()
	}
}

func TestBertHF(t *testing.T) {
	const dir = "testdata/hf-bert"
	model := openModel(t, dir, bert.Open)
	f := loadHF(t, dir)
	for _, bs := range []int{1, 2} {
		checkHF(t, model, f, bs)
	}
}

func TestNomicBertHF(t *testing.T) {
	const dir = "../../testdata/fixtures/hf-nomic_bert"
	model := openModel(t, dir, nomicbert.Open)
	f := loadHF(t, dir)
	for _, bs := range []int{1, 2} {
		checkHF(t, model, f, bs)
	}
}

func TestBertGGUF(t *testing.T) {
	const dir = "testdata/gguf-bert"
	model := openModel(t, filepath.Join(dir, "bert-f32.gguf"), bert.Open)
	var meta struct {
		Sequences [][]int32 `json:"sequences"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(filepath.Join(dir, "embeddings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var want [][]float64
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v []float64
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		want = append(want, v)
	}
	enc, err := embed.New(model, cpu.New(cpu.Options{}), embed.Options{Pooling: embed.Mean, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	in := make([]embed.Input, len(meta.Sequences))
	for i, s := range meta.Sequences {
		in[i] = embed.Input{IDs: s}
	}
	got, err := enc.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		w := make([]float32, len(want[i]))
		for j, x := range want[i] {
			w[j] = float32(x)
		}
		embed.Normalize(w)
		w64 := make([]float64, len(w))
		for j, x := range w {
			w64[j] = float64(x)
		}
		maxDiff(t, "gguf mean+L2", got[i], w64, 1e-4)
	}
}

// TestNomicBertGGUF runs the NomicBERT fixture converted to GGUF (see
// testdata/gguf-nomic_bert/make.py) against llama.cpp's embeddings of the
// same file and against HF's outputs on the original weights.
func TestNomicBertGGUF(t *testing.T) {
	const dir = "testdata/gguf-nomic_bert"
	model := openModel(t, filepath.Join(dir, "nomic-bert-f32.gguf"), nomicbert.Open)
	var ref struct {
		Rows []struct {
			IDs   []int32   `json:"ids"`
			Llama []float64 `json:"llama_cpp_mean"`
			HF    []float64 `json:"hf_mean"`
		} `json:"rows"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	enc, err := embed.New(model, cpu.New(cpu.Options{}), embed.Options{Pooling: embed.Mean})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	in := make([]embed.Input, len(ref.Rows))
	for i, r := range ref.Rows {
		in[i] = embed.Input{IDs: r.IDs}
	}
	got, err := enc.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	unit := func(v []float64) []float64 {
		w := make([]float32, len(v))
		for i, x := range v {
			w[i] = float32(x)
		}
		embed.Normalize(w)
		out := make([]float64, len(w))
		for i, x := range w {
			out[i] = float64(x)
		}
		return out
	}
	for i, r := range ref.Rows {
		maxDiff(t, "vs HF mean", got[i], r.HF, 1e-5)
		g := append([]float32(nil), got[i]...)
		embed.Normalize(g)
		maxDiff(t, "vs llama.cpp mean+L2", g, unit(r.Llama), 1e-4)
	}
}
