// Package lmtest checks decoder families against reference outputs made by
// implementations we did not write: Hugging Face transformers (safetensors
// fixtures with logits, hidden states, greedy steps and a padded batch) and
// llama.cpp (GGUF fixtures with logits and greedy continuations).
package lmtest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// HFReference is the part of refgen's reference.json the checks use.
type HFReference struct {
	PromptIDs    []int32   `json:"prompt_ids"`
	GeneratedIDs []int32   `json:"generated_ids"`
	Margins      []float64 `json:"margins"`
	Batch        struct {
		Rows         [][]int32   `json:"rows"`
		GeneratedIDs [][]int32   `json:"generated_ids"`
		Margins      [][]float64 `json:"margins"`
	} `json:"batch"`
	Tolerance struct {
		Logits float64 `json:"logits_max_abs"`
		Hidden float64 `json:"hidden_states_max_abs"`
	} `json:"suggested_tolerance"`
	Tensors map[string]json.RawMessage `json:"tensors"`
}

// OpenHF opens the fixture model in dir with open.
func OpenHF(t testing.TB, dir string, open nn.OpenFunc) *nn.Model {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(path); err != nil {
		path = dir // sharded
	}
	m, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	model, err := open(nn.Source{Weights: m, HFConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// NewLM compiles model for the CPU with an F32 cache (parity needs it).
func NewLM(t testing.TB, model *nn.Model, maxSeq int) *runtime.LM {
	return newLM(t, model, maxSeq, tensor.F32)
}

func newLM(t testing.TB, model *nn.Model, maxSeq int, kv tensor.DType) *runtime.LM {
	t.Helper()
	lm, err := runtime.New(model, cpu.New(cpu.Options{Poison: true}), runtime.Options{MaxSeq: maxSeq, KV: kv, PrefillChunk: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lm.Close)
	return lm
}

// maxAbs is the largest |a-b| (NaN counts as infinite).
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

func refTensor(t testing.TB, m *weights.Map, name string) []float32 {
	t.Helper()
	v, err := m.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readReference reads a refgen LM fixture's reference.json and opens its
// reference.safetensors (closed when the test ends).
func readReference(t *testing.T, dir string) (HFReference, *weights.Map) {
	t.Helper()
	var ref HFReference
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	rm, err := weights.Open(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rm.Close() })
	return ref, rm
}

// HF runs every check of a refgen LM fixture in dir.
func HF(t *testing.T, dir string, open nn.OpenFunc) {
	ref, rm := readReference(t, dir)
	model := OpenHF(t, dir, open)
	lm := NewLM(t, model, 64)
	ctx := context.Background()
	c := model.Config
	tolL, tolH := ref.Tolerance.Logits, ref.Tolerance.Hidden

	t.Run("rope", func(t *testing.T) {
		for name := range ref.Tensors {
			if !strings.HasPrefix(name, "rope.") {
				continue
			}
			want := refTensor(t, rm, name)
			found := false
			for l := range c.Layers {
				kind := "full_attention"
				if c.Window[l] > 0 {
					kind = "sliding_attention"
				}
				if strings.Contains(name, "_attention") && !strings.Contains(name, kind) {
					continue
				}
				got, err := nn.InvFreq(c, l)
				if err != nil {
					t.Fatal(err)
				}
				if e := maxAbs(got, want); e > 0 {
					t.Errorf("%s vs layer %d: inverse frequencies differ by %g", name, l, e)
				}
				found = true
			}
			if !found {
				t.Errorf("%s: no layer of that kind", name)
			}
		}
	})

	t.Run("logits+hidden", func(t *testing.T) {
		tr, err := lm.Trace(ctx, ref.PromptIDs)
		if err != nil {
			t.Fatal(err)
		}
		e := maxAbs(tr.Logits().Data, refTensor(t, rm, "logits"))
		t.Logf("logits max abs error %.3g (tolerance %.3g)", e, tolL)
		if e > tolL {
			t.Errorf("logits differ by %g > %g", e, tolL)
		}
		for i := 0; i <= c.Layers; i++ {
			name := fmt.Sprintf("hidden.%d", i)
			e := maxAbs(tr.Hidden[name], refTensor(t, rm, fmt.Sprintf("hidden_states.%d", i)))
			if e > tolH {
				t.Errorf("%s differs by %g > %g", name, e, tolH)
			}
		}
		if e := maxAbs(tr.Hidden["final_hidden"], refTensor(t, rm, "final_hidden")); e > tolH {
			t.Errorf("final_hidden differs by %g > %g", e, tolH)
		}
	})

	t.Run("greedy", func(t *testing.T) {
		s, err := lm.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		step := refTensor(t, rm, "step_logits")
		V := c.Vocab
		logits, err := s.Append(ctx, ref.PromptIDs)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, want := range ref.GeneratedIDs {
			worst = max(worst, maxAbs(logits, step[i*V:(i+1)*V]))
			got := runtime.ArgMax(logits)
			if got != want {
				t.Fatalf("step %d: greedy id %d, HF %d (margin %.3g)", i, got, want, ref.Margins[i])
			}
			if logits, err = s.Append(ctx, []int32{want}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("step logits max abs error %.3g", worst)
		if worst > tolL {
			t.Errorf("step logits differ by %g > %g", worst, tolL)
		}
		res, err := lm.Generate(ctx, ref.PromptIDs, runtime.GenerateOptions{MaxTokens: len(ref.GeneratedIDs), IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.IDs) != fmt.Sprint(ref.GeneratedIDs) {
			t.Errorf("Generate: %v, HF %v", res.IDs, ref.GeneratedIDs)
		}
	})

	t.Run("batch", func(t *testing.T) {
		rows := ref.Batch.Rows
		out, err := lm.BatchLogits(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		want := refTensor(t, rm, "batch.logits")
		T := 0
		for _, r := range rows {
			T = max(T, len(r))
		}
		V := c.Vocab
		for b, r := range rows {
			off := T - len(r)
			w := want[(b*T+off)*V : (b+1)*T*V]
			if e := maxAbs(out[b].Data, w); e > tolL {
				t.Errorf("row %d: logits differ by %g > %g", b, e, tolL)
			}
			single, err := lm.PredictLogits(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxAbs(out[b].Data, single.Data); e > tolL {
				t.Errorf("row %d: padded batch differs from the row alone by %g", b, e)
			}
		}
		res, err := lm.GenerateBatch(ctx, rows, runtime.GenerateOptions{MaxTokens: len(ref.Batch.GeneratedIDs[0]), IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		for b := range rows {
			if fmt.Sprint(res[b].IDs) != fmt.Sprint(ref.Batch.GeneratedIDs[b]) {
				t.Errorf("row %d: batch greedy %v, HF %v", b, res[b].IDs, ref.Batch.GeneratedIDs[b])
			}
		}
	})
}

// Tol bounds the differences GGUF accepts (negative: report only).
type Tol struct {
	Pos0FA, AllFA float64 // vs the fixture (flash attention), F16 cache: position 0, all positions
	All, Median   float64 // vs no-flash-attention F32-cache logits, F32 cache: every / the median position
	MinMargin     float64 // greedy ids must agree where the fixture's margin exceeds this
}

// Dir is the llama.cpp fixture set (testdata/gguf-lm at the repository
// root) as seen from a family package's directory (models/<family>).
const Dir = "../../testdata/gguf-lm"

// F32Tol is what F32 files meet. The flash-attention bound is loose because
// llama.cpp's CPU flash attention keeps V and the output accumulator in F16:
// over the 20-position prompt that rounding alone moves its logits by up to
// 0.013 from ours with an F16 cache (measured: qwen3moe 0.013, qwen3 0.0099);
// the tight checks are position 0 (one key, nothing accumulated) and the
// F32-cache comparison against llama.cpp without flash attention.
var F32Tol = Tol{Pos0FA: 1e-3, AllFA: 2e-2, All: 1e-4, Median: 1e-4}

// QuantTol is what K-quant files meet: positions agree with llama.cpp's
// integer kernels except where an activation rounds the other way at a tie.
var QuantTol = Tol{Pos0FA: -1, AllFA: -1, All: -1, Median: 1e-4, MinMargin: 0.05}

// GELUTol is what F32 files of the Gemma family (GeGLU) meet. llama.cpp's
// CPU GELU looks its result up in an F16 table: the input is rounded to F16
// and so is the output, which moves its logits by 1e-3 to 2e-3 from an exact
// GELU's (measured with an F32 cache against the no-flash-attention logits:
// gemma 0.0014, gemma2 0.0015, gemma3 0.0018; at position 0 up to 0.001).
// Emulating that rounding in our GELU brought those to 3.6e-5, 8.4e-5 and
// 8.5e-4 (gemma3's six layers amplify the F16 rounding ties; position 0
// agreed to 5e-6), so the table is the cause; we keep the exact GELU.
var GELUTol = Tol{Pos0FA: 3e-3, AllFA: 2e-2, All: 3e-3, Median: 3e-3}

// ActQ8Tol is what Q4_0 files meet. Both sides quantize the activations to
// 8 bits in blocks of 32 with an F16 block scale, as ggml's Q8_0 does (quant
// rounds the scale since that change; Q8_0 files then agree with llama.cpp to
// 1.2e-6 at every position and use QuantTol). Q4_0 agrees at position 0
// (1.2e-6) but not at later prompt positions (0.06 to 0.16 with an F32
// cache), although our batched rows equal our single-row results exactly:
// llama.cpp runs prefill of Q4_0 through its repacked 4-row GEMM, whose
// activation handling we have not matched yet. A block decoded with the wrong
// scale or rows moves the logits by units.
var ActQ8Tol = Tol{Pos0FA: -1, AllFA: -1, All: 0.6, Median: 0.3, MinMargin: 0.05}

// GGUFCase is one file of the llama.cpp fixture's reference.json.
type GGUFCase struct {
	File       string `json:"file"`
	Logits     string `json:"logits"`            // flash attention, F16 cache
	LogitsNoFA string `json:"logits_nofa_f32kv"` // no flash attention, F32 cache
	Seed       int    `json:"seed"`              // of scripts/refgen/make_tiny_gguf.py
	Result     struct {
		NVocab    int       `json:"n_vocab"`
		Generated []int32   `json:"generated"`
		Margins   []float64 `json:"margins"`
	} `json:"result"`
}

// GGUFReference is the llama.cpp fixture's reference.json.
type GGUFReference struct {
	PromptIDs []int32    `json:"prompt_ids"`
	Cases     []GGUFCase `json:"cases"`
}

// ReadGGUFReference reads dir's reference.json.
func ReadGGUFReference(t testing.TB, dir string) GGUFReference {
	t.Helper()
	var ref GGUFReference
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("%s: %v", filepath.Join(dir, "reference.json"), err)
	}
	if len(ref.PromptIDs) == 0 {
		t.Fatalf("%s: no prompt_ids", filepath.Join(dir, "reference.json"))
	}
	return ref
}

// ReadF32 reads a raw little-endian float32 file.
func ReadF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// GGUF checks file (in dir, beside reference.json) against llama.cpp.
//
// The fixture's logits (reference.json's "logits" file) were made by
// llama.cpp with flash attention, which keeps V in F16 and accumulates the
// attention output in F16; the run here uses an F16 cache and must agree
// at position 0 (one key: no accumulation) within tol0 and everywhere
// within tolFA. Beside it, "<file>.nofa-f32kv.logits.f32" holds llama.cpp's
// logits without flash attention and with an F32 cache: with an F32 cache
// here, every position must agree within All, and the median position
// within Median (quantized files: activation quantization can flip at a
// rounding tie and move one position a lot). A negative bound only reports.
// Greedy ids must match the fixture's where the recorded margin exceeds
// MinMargin.
func GGUF(t *testing.T, dir, file string, open nn.OpenFunc, tol Tol) {
	ref := ReadGGUFReference(t, dir)
	var cs *GGUFCase
	for i := range ref.Cases {
		if ref.Cases[i].File == file {
			cs = &ref.Cases[i]
		}
	}
	if cs == nil {
		t.Fatalf("%s is not in reference.json", file)
	}
	m, err := weights.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	model, err := open(nn.Source{Weights: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(kv tensor.DType, refFile string, tol0, tol, tolMedian float64) {
		lm := newLM(t, model, 64, kv)
		got, err := lm.PredictLogits(ctx, ref.PromptIDs)
		if err != nil {
			t.Fatal(err)
		}
		want := ReadF32(t, filepath.Join(dir, refFile))
		V := got.Vocab
		e0 := maxAbs(got.Data[:V], want[:V])
		e := maxAbs(got.Data, want)
		t.Logf("%s, %v cache vs %s: max abs logit error %.3g at position 0, %.3g over all %d positions", file, kv, refFile, e0, e, got.Rows)
		if tol0 >= 0 && e0 > tol0 {
			t.Errorf("%s: position-0 logits differ from llama.cpp's %s by %g > %g", file, refFile, e0, tol0)
		}
		if tol >= 0 && e > tol {
			t.Errorf("%s: logits differ from llama.cpp's %s by %g > %g", file, refFile, e, tol)
		}
		rows := make([]float64, got.Rows)
		for r := range rows {
			rows[r] = maxAbs(got.Data[r*V:(r+1)*V], want[r*V:(r+1)*V])
		}
		slices.Sort(rows)
		med := rows[len(rows)/2]
		t.Logf("%s, %v cache vs %s: per-position errors %.2g", file, kv, refFile, rows)
		if tolMedian >= 0 && med > tolMedian {
			t.Errorf("%s: median position differs from llama.cpp's %s by %g > %g", file, refFile, med, tolMedian)
		}
	}
	check(tensor.F16, cs.Logits, tol.Pos0FA, tol.AllFA, -1)
	if cs.LogitsNoFA == "" {
		t.Fatalf("%s: reference.json names no logits_nofa_f32kv file", file)
	}
	check(tensor.F32, cs.LogitsNoFA, tol.All, tol.All, tol.Median)
	lm := newLM(t, model, 64, tensor.F16)
	s, err := lm.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logits, err := s.Append(ctx, ref.PromptIDs)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range cs.Result.Generated {
		if g := runtime.ArgMax(logits); g != want {
			if cs.Result.Margins[i] > tol.MinMargin {
				t.Fatalf("%s step %d: greedy id %d, llama.cpp %d (margin %.3g)", file, i, g, want, cs.Result.Margins[i])
			}
			t.Logf("%s step %d: greedy id %d, llama.cpp %d within margin %.3g; following llama.cpp", file, i, g, want, cs.Result.Margins[i])
		}
		if logits, err = s.Append(ctx, []int32{want}); err != nil {
			t.Fatal(err)
		}
	}
}

// NewLMKV is NewLM with the given cache type.
func NewLMKV(t testing.TB, model *nn.Model, maxSeq int, kv tensor.DType) *runtime.LM {
	return newLM(t, model, maxSeq, kv)
}
