package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/tensor"
)

const (
	qwen3GGUF = "../../format/gguf/testdata/qwen3-Q4_K_M.gguf"
	qwen3HF   = "../../format/safetensors/testdata/hf-qwen3"
)

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("rlx %v: %v", args, err)
	}
	return out.String()
}

func TestInspectJSON(t *testing.T) {
	out := runCmd(t, "inspect", "--json", qwen3GGUF)
	var r struct {
		Format       string                     `json:"format"`
		Architecture string                     `json:"architecture"`
		TensorCount  int                        `json:"tensor_count"`
		DTypes       map[string]int             `json:"dtypes"`
		Metadata     map[string]json.RawMessage `json:"metadata"`
		Tensors      []struct {
			Name  string  `json:"name"`
			Type  string  `json:"type"`
			Shape []int64 `json:"shape"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err, out)
	}
	f, err := gguf.Open(qwen3GGUF)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r.Format != "gguf" || r.Architecture != f.Metadata.Arch() || r.TensorCount != len(f.Tensors) || len(r.Tensors) != len(f.Tensors) || len(r.Metadata) != f.Metadata.Len() {
		t.Fatalf("%+v", r)
	}
	hist := map[string]int{}
	for i, ti := range f.Tensors {
		hist[ti.Type.String()]++
		got := r.Tensors[i]
		if got.Name != ti.Name || got.Type != ti.Type.String() || len(got.Shape) != len(ti.Dims) || got.Shape[0] != int64(ti.Dims[len(ti.Dims)-1]) {
			t.Errorf("tensor %d: %+v vs %+v", i, got, ti)
		}
	}
	for k, v := range hist {
		if r.DTypes[k] != v {
			t.Errorf("dtypes[%s] = %d, want %d", k, r.DTypes[k], v)
		}
	}
	if string(r.Metadata["general.file_type"]) != "15" {
		t.Errorf("file_type %s", r.Metadata["general.file_type"])
	}
}

func TestInspectSummarisesLongArrays(t *testing.T) {
	dir := t.TempDir()
	toks := make([]string, 1000)
	for i := range toks {
		toks[i] = strings.Repeat("x", i%7)
	}
	p := filepath.Join(dir, "v.gguf")
	writeTestGGUF(t, p, map[string]any{"tokenizer.ggml.tokens": toks, "short": []int32{1, 2}, "nan": float32(math.NaN()), "infs": []float64{math.Inf(1), 1}}, nil)
	r, err := inspectPath(p, inspectOptions{GGUFIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	sum, ok := r.Metadata["tokenizer.ggml.tokens"].(map[string]any)
	if !ok || sum["length"] != 1000 || sum["type"] != "array[string]" || len(sum["first"].([]any)) != 8 {
		t.Errorf("summary %v", r.Metadata["tokenizer.ggml.tokens"])
	}
	if s, ok := r.Metadata["short"].([]int32); !ok || len(s) != 2 {
		t.Errorf("short array %v", r.Metadata["short"])
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("JSON with NaN metadata: %v", err)
	}
	var buf bytes.Buffer
	printInspect(&buf, r, false)
	if !strings.Contains(buf.String(), `"length":1000`) {
		t.Errorf("text output:\n%s", buf.String())
	}
}

func writeTestGGUF(t *testing.T, path string, kv map[string]any, ts []gguf.TensorInfo) {
	t.Helper()
	md := &gguf.Metadata{}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	for _, k := range keys {
		if err := md.Set(k, kv[k]); err != nil {
			t.Fatal(err)
		}
	}
	w, err := gguf.Create(path, md, ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range w.Tensors() {
		if err := w.WriteTensor(ti.Name, make([]byte, ti.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func lmKeys(arch string) map[string]any {
	return map[string]any{
		"general.architecture":     arch,
		arch + ".context_length":   uint32(64),
		arch + ".embedding_length": uint32(8),
		arch + ".block_count":      uint32(1),
		"tokenizer.ggml.model":     "gpt2",
		"tokenizer.ggml.tokens":    []string{"a", "b"},
	}
}

func TestCheckGGUF(t *testing.T) {
	dir := t.TempDir()
	ts := []gguf.TensorInfo{{Name: "token_embd.weight", Type: gguf.TypeF32, Dims: []uint64{8, 2}}}
	cases := []struct {
		name string
		kv   func() map[string]any
		ts   []gguf.TensorInfo
		want string
	}{
		{"ok", func() map[string]any { return lmKeys("phi3") }, ts, "KnownUnimplemented(phi3)"},
		{"unknown", func() map[string]any { return lmKeys("frobnicator") }, ts, "Unknown"},
		{"no arch", func() map[string]any { kv := lmKeys("qwen3"); delete(kv, "general.architecture"); return kv }, ts, "MissingMetadata(general.architecture)"},
		{"missing", func() map[string]any {
			kv := lmKeys("llama")
			delete(kv, "llama.block_count")
			delete(kv, "tokenizer.ggml.tokens")
			return kv
		}, ts, "MissingMetadata(llama.block_count, tokenizer.ggml.tokens)"},
		{"no vocab", func() map[string]any {
			kv := lmKeys("starcoder2")
			kv["tokenizer.ggml.model"] = "none"
			delete(kv, "tokenizer.ggml.tokens")
			return kv
		}, ts, "KnownUnimplemented(starcoder2)"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".gguf")
		writeTestGGUF(t, p, c.kv(), c.ts)
		got, err := checkPath(p, inspectOptions{GGUFIndex: -1})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		wantCode := map[string]int{"KnownUnimplemented": 2, "MissingMetadata": 3, "Unknown": 4}[got.Status]
		if got.ExitCode != wantCode {
			t.Errorf("%s: exit code %d", c.name, got.ExitCode)
		}
	}
}

// A registered family makes its checkpoints SUPPORTED, in both formats. The
// test family has an architecture name of its own, so registering it
// changes nothing for other tests.
func TestCheckSupported(t *testing.T) {
	const arch = "rlx-test-arch"
	if _, ok := models.ByGGUF(arch); !ok {
		models.Register(models.Family{Name: arch, Kind: models.LM, HFModelTypes: []string{arch}, GGUFArchs: []string{arch}})
	}
	dir := t.TempDir()
	g := filepath.Join(dir, "m.gguf")
	writeTestGGUF(t, g, lmKeys(arch), []gguf.TensorInfo{{Name: "token_embd.weight", Type: gguf.TypeQ8_0, Dims: []uint64{32, 2}}})
	hf := filepath.Join(dir, "hf")
	_ = os.Mkdir(hf, 0o755)
	w, err := safetensors.Create(filepath.Join(hf, "model.safetensors"), []safetensors.TensorInfo{{Name: "w", DType: tensor.BF16, Shape: []int64{2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.WriteTensor("w", make([]byte, 4))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(hf, "config.json"), []byte(`{"model_type":"`+arch+`"}`), 0o644)
	for _, p := range []string{g, hf} {
		c, err := checkPath(p, inspectOptions{GGUFIndex: -1})
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != "SUPPORTED" || c.ExitCode != 0 || c.Kind != "LM" || c.Family != arch {
			t.Errorf("%s: %+v", p, c)
		}
	}
	out := runCmd(t, "check", "--json", g)
	if !strings.Contains(out, `"status": "SUPPORTED"`) {
		t.Errorf("check --json: %s", out)
	}
	r, err := inspectPath(g, inspectOptions{GGUFIndex: -1})
	if err != nil || r.Runner != arch+" (LM)" {
		t.Errorf("runner %q %v", r.Runner, err)
	}
}

func TestCheckSafetensors(t *testing.T) {
	dir := t.TempDir()
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), []safetensors.TensorInfo{{Name: "w", DType: tensor.F32, Shape: []int64{1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.WriteTensor("w", make([]byte, 4))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ config, want string }{
		{"", "MissingMetadata(config.json)"},
		{`{"model_type":"whisper"}`, "KnownUnimplemented(whisper)"},
		{`{"model_type":"zebra","architectures":["ZebraModel"]}`, "Unknown"},
		{`{"hidden_size":3}`, "MissingMetadata(config.json model_type, config.json architectures)"},
		{`{"text_config":{"model_type":"gemma3n_text"}}`, "KnownUnimplemented(gemma3n)"},
	} {
		_ = os.Remove(filepath.Join(dir, "config.json"))
		if c.config != "" {
			_ = os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.config), 0o644)
		}
		got, err := checkPath(dir, inspectOptions{GGUFIndex: -1})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != c.want {
			t.Errorf("config %s: %s, want %s", c.config, got, c.want)
		}
	}
}

func TestInspectMTPAndSplit(t *testing.T) {
	dir := t.TempDir()
	kv := lmKeys("glm4moe")
	kv["glm4moe.nextn_predict_layers"] = uint32(1)
	parts := [][]gguf.TensorInfo{
		{{Name: "token_embd.weight", Type: gguf.TypeF32, Dims: []uint64{8, 2}}},
		{{Name: "blk.1.nextn.eh_proj.weight", Type: gguf.TypeF16, Dims: []uint64{8, 8}}},
	}
	for i, ts := range parts {
		k := map[string]any{gguf.KeySplitNo: uint16(i), gguf.KeySplitCount: uint16(2)}
		if i == 0 {
			for a, b := range kv {
				k[a] = b
			}
		}
		writeTestGGUF(t, filepath.Join(dir, gguf.SplitName("glm", i+1, 2)), k, ts)
	}
	r, err := inspectPath(dir, inspectOptions{GGUFIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Files) != 2 || r.TensorCount != 2 || len(r.Split) != 3 || len(r.MTP) != 2 {
		t.Errorf("files %v split %v mtp %v", r.Files, r.Split, r.MTP)
	}
	if r.Check != "KnownUnimplemented(glm4moe)" {
		t.Errorf("check %s", r.Check)
	}
	_ = os.Remove(filepath.Join(dir, gguf.SplitName("glm", 2, 2)))
	if _, err := inspectPath(filepath.Join(dir, gguf.SplitName("glm", 1, 2)), inspectOptions{GGUFIndex: -1}); err == nil || !strings.Contains(err.Error(), "glm-00002-of-00002.gguf") {
		t.Errorf("missing part: %v", err)
	}
}

// Other formats join inspect through registerInspector.
func TestInspectorHook(t *testing.T) {
	saved := inspectors
	defer func() { inspectors = saved }()
	registerInspector(inspector{
		Name:  "fake",
		Match: func(p string) bool { return strings.HasSuffix(p, ".fake") },
		Inspect: func(p string, _ inspectOptions) (*inspectReport, error) {
			return &inspectReport{Format: "fake", Files: []string{p}, DTypes: map[string]int{}}, nil
		},
	})
	r, err := inspectPath("model.fake", inspectOptions{})
	if err != nil || r.Format != "fake" {
		t.Errorf("%v %v", r, err)
	}
	inspectors[len(inspectors)-1].Check = func(string, inspectOptions) (checkResult, error) {
		return verdict(checkResult{Format: "fake", Family: "fakenet"}, statusKnownUnimplemented), nil
	}
	if c, err := checkPath("model.fake", inspectOptions{}); err != nil || c.String() != "KnownUnimplemented(fakenet)" || c.ExitCode != 2 {
		t.Errorf("check hook: %v %v", c, err)
	}
	if r, err := inspectPath(qwen3GGUF, inspectOptions{GGUFIndex: -1}); err != nil || r.Format != "gguf" {
		t.Errorf("fallback: %v", err)
	}
}

func TestInspectUnsupportedTypes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "iq.gguf")
	ts := []gguf.TensorInfo{
		{Name: "a", Type: gguf.TypeIQ2_XXS, Dims: []uint64{256}},
		{Name: "b", Type: gguf.TypeIQ2_XXS, Dims: []uint64{256}},
		{Name: "c", Type: gguf.TypeF32, Dims: []uint64{4}},
	}
	kv := lmKeys("llama")
	writeTestGGUF(t, p, kv, ts)
	r, err := inspectPath(p, inspectOptions{GGUFIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.DTypes["IQ2_XXS"] != 2 || !strings.Contains(strings.Join(r.Notes, "\n"), "2 tensors of type IQ2_XXS") {
		t.Errorf("dtypes %v notes %v", r.DTypes, r.Notes)
	}
	c, err := checkPath(p, inspectOptions{GGUFIndex: -1})
	if err != nil || len(c.Unsupported) != 2 || !strings.Contains(c.Unsupported[0], `"a"`) {
		t.Errorf("check: %+v %v", c, err)
	}
}

func TestInspectSafetensorsFolder(t *testing.T) {
	r, err := inspectPath(qwen3HF, inspectOptions{GGUFIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := r.Metadata["config"].(map[string]any)
	if r.Format != "safetensors" || r.Architecture != "qwen3" || !ok || cfg["num_hidden_layers"] != float64(2) || r.DTypes["F32"] != r.TensorCount {
		t.Errorf("%+v", r)
	}
	if st, ok := r.Metadata["__metadata__"].(map[string]string); !ok || st["format"] != "pt" {
		t.Errorf("__metadata__ %v", r.Metadata["__metadata__"])
	}
}
