package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/tensor"
)

// Real checkpoints kept by the format packages (see their testdata/README.md).
const (
	qwen3GGUF = "../format/gguf/testdata/qwen3-Q4_K_M.gguf"
	qwen3HF   = "../format/safetensors/testdata/hf-qwen3"
)

func TestOpenGGUF(t *testing.T) {
	m, err := Open(qwen3GGUF)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := gguf.Open(qwen3GGUF)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m.Format() != GGUF || m.Len() != len(f.Tensors) || m.GGUF().Arch() != "qwen3" {
		t.Fatalf("%v", m)
	}
	for i, name := range m.Names() {
		ti := f.Tensors[i]
		tn, err := m.Tensor(name)
		if err != nil || ti.Name != name {
			t.Fatal(err)
		}
		want, _ := f.Data(ti)
		if !bytes.Equal(tn.Data, want) || tn.DType != ti.DType() || tn.TypeName != ti.Type.String() {
			t.Errorf("%s: differs", name)
		}
		// PyTorch order: the reverse of ggml's ne[].
		if fmt.Sprint(tn.GGUFDims()) != fmt.Sprint(ti.Dims) {
			t.Errorf("%s: shape %v, dims %v", name, tn.Shape, ti.Dims)
		}
		if len(ti.Dims) == 2 && (tn.Shape[0] != int64(ti.Dims[1]) || tn.Shape[1] != int64(ti.Dims[0])) {
			t.Errorf("%s: shape %v not outermost first", name, tn.Shape)
		}
	}
	k := 0
	for name, tn := range m.All() {
		if name != f.Tensors[k].Name || tn.Name != name {
			t.Fatalf("All: %d %s", k, name)
		}
		k++
		if k == 3 {
			break
		}
	}
	norm, err := m.Float32("output_norm.weight")
	if err != nil || len(norm) != 256 {
		t.Fatal(err)
	}
	raw, _ := m.Tensor("output_norm.weight")
	for i, v := range norm {
		if math.Float32bits(v) != binary.LittleEndian.Uint32(raw.Data[4*i:]) {
			t.Fatal("F32 conversion changed bits")
		}
	}
	if _, err := m.Float32("blk.0.attn_q.weight"); !errors.Is(err, ErrQuantized) {
		t.Errorf("quantized Float32: %v", err)
	}
	if _, err := m.Tensor("nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing tensor: %v", err)
	}
}

func TestNamesAgainstRealFiles(t *testing.T) {
	g, err := Open(qwen3GGUF, WithNames(DecoderNames))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	h, err := Open(qwen3HF)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Every tensor of the GGUF file has an HF twin in the HF checkpoint of
	// the same family, and maps back.
	for _, name := range g.Names() {
		hf, ok := DecoderNames.ToHF(name)
		if !ok {
			t.Errorf("%s: no HF name", name)
			continue
		}
		if _, ok := h.Lookup(hf); !ok && hf != "lm_head.weight" {
			t.Errorf("%s → %s: not in the HF checkpoint", name, hf)
		}
		if back, _ := DecoderNames.ToGGUF(hf); back != name {
			t.Errorf("%s → %s → %s", name, hf, back)
		}
		if tn, ok := g.Lookup(hf); !ok || tn.Name != name {
			t.Errorf("Lookup(%s) in GGUF: %v", hf, ok)
		}
	}
	for _, name := range h.Names() {
		if _, ok := DecoderNames.ToGGUF(name); !ok {
			t.Errorf("%s: no GGUF name", name)
		}
	}
	if s, ok := DecoderNames.ToGGUF("model.layers.12.self_attn.q_proj.bias"); !ok || s != "blk.12.attn_q.bias" {
		t.Errorf("bias: %s", s)
	}
	if _, ok := DecoderNames.ToGGUF("model.layers.x.self_attn.q_proj.weight"); ok {
		t.Error("non-numeric block index matched")
	}
	moe := NewNames(Rule{"model.layers.{N}.mlp.experts.{E}.down_proj.weight", "blk.{N}.ffn_down.{E}.weight"})
	if s, ok := moe.ToHF("blk.3.ffn_down.17.weight"); !ok || s != "model.layers.3.mlp.experts.17.down_proj.weight" {
		t.Errorf("two placeholders: %s", s)
	}
}

func TestOpenSafetensorsFolder(t *testing.T) {
	m, err := Open(qwen3HF)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Format() != Safetensors || filepath.Base(m.Resolved.ConfigPath) != "config.json" || m.SafetensorsMetadata()["format"] != "pt" {
		t.Fatalf("%+v", m.Resolved)
	}
	emb, err := m.Tensor("model.embed_tokens.weight")
	if err != nil || fmt.Sprint(emb.Shape) != "[512 64]" || emb.DType != tensor.F32 {
		t.Fatal(err, emb.Shape)
	}

	// Another safetensors file beside model.safetensors is not part of the model.
	extra := t.TempDir()
	for _, n := range []string{"model.safetensors", "config.json"} {
		b, _ := os.ReadFile(filepath.Join(qwen3HF, n))
		_ = os.WriteFile(filepath.Join(extra, n), b, 0o644)
	}
	writeShard(t, filepath.Join(extra, "consolidated.safetensors"), m, m.Names()[:3])
	if r, err := Resolve(extra); err != nil || len(r.Files) != 1 || filepath.Base(r.Files[0]) != "model.safetensors" {
		t.Errorf("model.safetensors beside another file: %v %v", r, err)
	}

	// The same checkpoint split into two shards with an index opens to the
	// same tensors.
	dir := t.TempDir()
	names := m.Names()
	half := len(names) / 2
	wm := map[string]string{}
	for i, part := range [][]string{names[:half], names[half:]} {
		shard := fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)
		writeShard(t, filepath.Join(dir, shard), m, part)
		for _, n := range part {
			wm[n] = shard
		}
	}
	ix, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": wm})
	if err := os.WriteFile(filepath.Join(dir, safetensors.IndexName), ix, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != m.Len() || len(s.Files()) != 2 || s.Resolved.IndexPath == "" {
		t.Fatalf("sharded: %v", s)
	}
	for _, n := range names {
		a, _ := m.Tensor(n)
		b, err := s.Tensor(n)
		if err != nil || !bytes.Equal(a.Data, b.Data) || fmt.Sprint(a.Shape) != fmt.Sprint(b.Shape) {
			t.Fatalf("%s differs", n)
		}
	}
	s.Close()

	// An index that lies about a shard is an error naming the tensor.
	wm[names[0]] = "model-00002-of-00002.safetensors"
	ix, _ = json.Marshal(map[string]any{"weight_map": wm})
	_ = os.WriteFile(filepath.Join(dir, safetensors.IndexName), ix, 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("lying index: %v", err)
	}
	// A missing shard is named.
	_ = os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "model-00002-of-00002.safetensors") {
		t.Errorf("missing shard: %v", err)
	}
}

func writeShard(t *testing.T, path string, m *Map, names []string) {
	var ts []safetensors.TensorInfo
	for _, n := range names {
		x, _ := m.Tensor(n)
		ts = append(ts, safetensors.TensorInfo{Name: n, DType: x.DType, Shape: x.Shape})
	}
	w, err := safetensors.Create(path, ts, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		x, _ := m.Tensor(n)
		if err := w.WriteTensor(n, x.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFloat32Conversions(t *testing.T) {
	// Values chosen to be exact in every type.
	vals := []float32{0, 1, -2, 0.5, 448, -0.015625, 3}
	f16 := make([]byte, 0)
	bf16 := make([]byte, 0)
	f64 := make([]byte, 0)
	for _, v := range vals {
		f16 = binary.LittleEndian.AppendUint16(f16, tensor.F32ToF16(v))
		bf16 = binary.LittleEndian.AppendUint16(bf16, tensor.F32ToBF16(v))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(v)))
	}
	// OCP FP8 encodings of the same values.
	e4m3 := []byte{0x00, 0x38, 0xC0, 0x30, 0x7E, 0x88, 0x44}
	e5m2 := []byte{0x00, 0x3C, 0xC0, 0x38, 0x5F, 0xA4, 0x42}
	for _, c := range []struct {
		d    tensor.DType
		data []byte
	}{{tensor.F16, f16}, {tensor.BF16, bf16}, {tensor.F64, f64}, {tensor.F8E4M3, e4m3}, {tensor.F8E5M2, e5m2}} {
		got, err := Tensor{Name: "x", DType: c.d, Shape: []int64{int64(len(vals))}, Data: c.data}.Float32()
		if err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Errorf("%v[%d] = %v, want %v", c.d, i, got[i], vals[i])
			}
		}
	}
	if v := f8e4m3ToF32(0x7F); !math.IsNaN(float64(v)) {
		t.Errorf("E4M3 0x7F = %v, want NaN", v)
	}
	if v := f8e4m3ToF32(0x01); v != float32(math.Ldexp(1, -9)) {
		t.Errorf("E4M3 smallest subnormal = %v", v)
	}
	if v := f8e5m2ToF32(0x7C); !math.IsInf(float64(v), 1) {
		t.Errorf("E5M2 0x7C = %v, want +Inf", v)
	}
	ints, err := Tensor{Name: "i", DType: tensor.I64, Shape: []int64{2}, Data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), uint64(1<<64-3))}.Float32()
	if err != nil || ints[0] != 7 || ints[1] != -3 {
		t.Errorf("I64: %v %v", ints, err)
	}
	if _, err := (Tensor{Name: "short", DType: tensor.F32, Shape: []int64{3}, Data: make([]byte, 8)}).Float32(); err == nil {
		t.Error("short data accepted")
	}
}

// writeGGUF writes a small GGUF file with the given metadata.
func writeGGUF(t *testing.T, path string, kv map[string]any, tensors []gguf.TensorInfo) {
	md := &gguf.Metadata{}
	_ = md.Set(gguf.KeyArchitecture, "llama")
	for _, k := range sortedKeys(kv) {
		if err := md.Set(k, kv[k]); err != nil {
			t.Fatal(err)
		}
	}
	w, err := gguf.Create(path, md, tensors)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range w.Tensors() {
		if err := w.WriteTensor(ti.Name, bytes.Repeat([]byte{byte(len(ti.Name))}, int(ti.Size))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j] < k[j-1]; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
	return k
}

func TestResolveGGUFFolder(t *testing.T) {
	dir := t.TempDir()
	ti := []gguf.TensorInfo{{Name: "w", Type: gguf.TypeF32, Dims: []uint64{2}}}
	writeGGUF(t, filepath.Join(dir, "model-Q8_0.gguf"), map[string]any{gguf.KeyFileType: uint32(7)}, ti)
	writeGGUF(t, filepath.Join(dir, "model-Q4_K_M.gguf"), map[string]any{gguf.KeyFileType: uint32(15)}, ti)
	writeGGUF(t, filepath.Join(dir, "other.gguf"), map[string]any{gguf.KeyFileType: uint32(1)}, ti)
	writeGGUF(t, filepath.Join(dir, "mmproj-model-f16.gguf"), nil, ti)

	check := func(want string, opts ...Option) {
		t.Helper()
		r, err := Resolve(dir, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := filepath.Base(r.Files[0]); got != want || len(r.Candidates) != 3 || r.Reason == "" {
			t.Errorf("chose %s (%s), want %s; candidates %v", got, r.Reason, want, r.Candidates)
		}
	}
	check("model-Q4_K_M.gguf")
	check("model-Q8_0.gguf", Prefer("q8_0"))
	check("other.gguf", Prefer("F16")) // by general.file_type
	check("model-Q8_0.gguf", GGUFIndex(1))
	if _, err := Resolve(dir, Prefer("Q2_K")); err == nil || !strings.Contains(err.Error(), "model-Q8_0.gguf") {
		t.Errorf("unmatched preference: %v", err)
	}
	if _, err := Resolve(dir, GGUFIndex(3)); err == nil {
		t.Error("index out of range accepted")
	}
	_ = os.Remove(filepath.Join(dir, "model-Q4_K_M.gguf"))
	check2, err := Resolve(dir)
	if err != nil || !strings.Contains(check2.Reason, "nothing matches") {
		t.Errorf("default without a match: %v %v", check2, err)
	}
	if nameHasQuant("model-Q4_K_M.gguf", "Q4_K") || !nameHasQuant("qwen2.5-7b-instruct-q4_k_m.gguf", "Q4_K_M") {
		t.Error("nameHasQuant")
	}
}

func TestSplitGGUF(t *testing.T) {
	dir := t.TempDir()
	parts := [][]gguf.TensorInfo{
		{{Name: "a", Type: gguf.TypeF32, Dims: []uint64{2}}, {Name: "b", Type: gguf.TypeF16, Dims: []uint64{4, 2}}},
		{{Name: "c", Type: gguf.TypeQ8_0, Dims: []uint64{32}}},
		{{Name: "d", Type: gguf.TypeF32, Dims: []uint64{1}}},
	}
	for i, ts := range parts {
		kv := map[string]any{gguf.KeySplitNo: uint16(i), gguf.KeySplitCount: uint16(3), gguf.KeySplitTensors: int32(4)}
		writeGGUF(t, filepath.Join(dir, gguf.SplitName("m", i+1, 3)), kv, ts)
	}
	for _, p := range []string{dir, filepath.Join(dir, "m-00002-of-00003.gguf")} {
		m, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if m.Len() != 4 || len(m.Files()) != 3 || fmt.Sprint(m.Names()) != "[a b c d]" {
			t.Errorf("%s: %v %v", p, m, m.Names())
		}
		c, _ := m.Tensor("c")
		if !bytes.Equal(c.Data, bytes.Repeat([]byte{1}, 34)) || filepath.Base(c.File) != "m-00002-of-00003.gguf" {
			t.Errorf("tensor c: %v", c.File)
		}
		m.Close()
	}
	_ = os.Remove(filepath.Join(dir, "m-00002-of-00003.gguf"))
	_ = os.Remove(filepath.Join(dir, "m-00003-of-00003.gguf"))
	_, err := Open(filepath.Join(dir, "m-00001-of-00003.gguf"))
	if !errors.Is(err, gguf.ErrMissingParts) || !strings.Contains(err.Error(), "m-00002-of-00003.gguf, m-00003-of-00003.gguf") {
		t.Errorf("missing parts: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Resolve(dir); err == nil {
		t.Error("empty folder accepted")
	}
	junk := filepath.Join(dir, "x.bin")
	_ = os.WriteFile(junk, []byte("hello world"), 0o644)
	if _, err := Resolve(junk); err == nil || !strings.Contains(err.Error(), "x.bin") {
		t.Errorf("junk: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); err == nil {
		t.Error("missing file")
	}
	// Sniffing by content.
	raw, _ := os.ReadFile(qwen3GGUF)
	noext := filepath.Join(dir, "model")
	_ = os.WriteFile(noext, raw, 0o644)
	if r, err := Resolve(noext); err != nil || r.Format != GGUF {
		t.Errorf("sniff GGUF: %v", err)
	}
}

func ExampleOpen() {
	m, err := Open("../format/gguf/testdata/qwen3-Q4_K_M.gguf", WithNames(DecoderNames))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	// Ask by the Hugging Face name; the GGUF tensor answers, shape outermost first.
	q, _ := m.Tensor("model.layers.0.self_attn.q_proj.weight")
	fmt.Println(q.Name, q.DType, q.Shape, "ggml ne:", q.GGUFDims())
	// Output: blk.0.attn_q.weight Q4_K [256 256] ggml ne: [256 256]
}

// Every scalar dtype converts to float32 exactly as torch's .to(float32)
// does (../format/safetensors/testdata/make_reference.py wrote both files).
func TestFloat32AgainstTorch(t *testing.T) {
	m, err := Open("../format/safetensors/testdata/torch-reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	raw, err := os.ReadFile("../format/safetensors/testdata/torch-reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for name, r := range ref {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var want struct {
			Shape   []int64   `json:"shape"`
			Float32 []float64 `json:"float32"`
		}
		if err := json.Unmarshal(r, &want); err != nil {
			t.Fatal(err)
		}
		tn, err := m.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(tn.Shape) != fmt.Sprint(want.Shape) || len(got) != len(want.Float32) {
			t.Fatalf("%s: shape %v, torch %v", name, tn.Shape, want.Shape)
		}
		for i := range got {
			w := float32(want.Float32[i])
			if got[i] != w || math.Signbit(float64(got[i])) != math.Signbit(float64(w)) {
				t.Errorf("%s[%d] (%v) = %v, torch %v", name, i, tn.DType, got[i], w)
			}
		}
	}
}

func ExampleNames() {
	names := DecoderNames.With(Rule{HF: "model.layers.{N}.pre_feedforward_layernorm", GGUF: "blk.{N}.ffn_norm"})
	g, _ := names.ToGGUF("model.layers.3.mlp.down_proj.weight")
	h, _ := names.ToHF("blk.0.attn_k.bias")
	fmt.Println(g)
	fmt.Println(h)
	// Output:
	// blk.3.ffn_down.weight
	// model.layers.0.self_attn.k_proj.bias
}

// TestRelease drops every tensor's pages of a mapped checkpoint: the bytes
// read back unchanged, and bytes that are not a mapping's are untouched.
func TestRelease(t *testing.T) {
	m, err := Open(qwen3GGUF)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[string][]byte{}
	for _, tt := range m.All() {
		want[tt.Name] = append([]byte(nil), tt.Data...)
	}
	var released int64
	for _, tt := range m.All() {
		released += Release(tt.Data)
	}
	for _, tt := range m.All() {
		if !bytes.Equal(tt.Data, want[tt.Name]) {
			t.Fatalf("%s changed after Release", tt.Name)
		}
	}
	t.Logf("released %d bytes", released)
	own := []byte("not from a file, not released")
	if n := Release(own); n != 0 || string(own) != "not from a file, not released" {
		t.Fatalf("heap bytes: released %d, now %q", n, own)
	}
}
