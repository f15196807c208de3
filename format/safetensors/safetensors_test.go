package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// realFiles were written by the Python safetensors library (testdata/README.md).
var realFiles = []string{"hf-qwen3/model.safetensors", "bert-reference.safetensors"}

func rewrite(t testing.TB, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	var md map[string]string
	if f.Metadata != nil {
		md = f.Metadata
	}
	// The reference writer lays tensors out in offset order.
	order := append([]TensorInfo(nil), f.Tensors...)
	sortByBegin(order)
	w, err := NewWriter(&buf, order, md)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range order {
		data, err := f.Data(ti)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensor(ti.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortByBegin(ts []TensorInfo) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Begin < ts[j-1].Begin; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func TestRewriteIsByteIdentical(t *testing.T) {
	for _, name := range realFiles {
		path := filepath.Join("testdata", name)
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(path)
		if got := rewrite(t, f); !bytes.Equal(got, want) {
			n := 0
			for n < len(got) && n < len(want) && got[n] == want[n] {
				n++
			}
			t.Errorf("%s: rewrite differs at byte %d: %q vs %q", name, n, got[max(0, n-20):min(len(got), n+20)], want[max(0, n-20):min(len(want), n+20)])
		}
		if f.DataOffset%8 != 0 {
			t.Errorf("%s: data offset %d", name, f.DataOffset)
		}
		f.Close()
	}
}

func TestOpenQwen3(t *testing.T) {
	f, err := Open("testdata/hf-qwen3/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata["format"] != "pt" || len(f.MetadataKeys) != 1 {
		t.Errorf("metadata %v", f.Metadata)
	}
	ti, ok := f.Tensor("model.layers.0.self_attn.q_proj.weight")
	if !ok || ti.DType != tensor.F32 || fmt.Sprint(ti.Shape) != "[64 64]" {
		t.Fatalf("q_proj: %+v %v", ti, ok)
	}
	data, err := f.Data(ti)
	if err != nil || len(data) != 64*64*4 {
		t.Fatal(err, len(data))
	}
	for _, bogus := range []TensorInfo{{Name: "x", Begin: 0, End: 1 << 62}, {Name: "y", Begin: -4, End: 4}, {Name: "z", Begin: 8, End: 4}} {
		if _, err := f.Data(bogus); err == nil {
			t.Errorf("Data(%+v) succeeded", bogus)
		}
	}
	// The data must be the bytes the header points at, read independently.
	raw, _ := os.ReadFile("testdata/hf-qwen3/model.safetensors")
	hl := binary.LittleEndian.Uint64(raw)
	if !bytes.Equal(data, raw[8+hl+uint64(ti.Begin):8+hl+uint64(ti.End)]) {
		t.Error("data differs from the file")
	}
}

func TestAllDTypesRoundTrip(t *testing.T) {
	var ts []TensorInfo
	payload := map[string][]byte{}
	for i, name := range []string{"F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL", "F8_E4M3", "F8_E5M2"} {
		d, ok := ParseDType(name)
		if !ok {
			t.Fatalf("dtype %s", name)
		}
		if back, _ := DTypeName(d); back != name {
			t.Errorf("DTypeName(%v) = %s", d, back)
		}
		shape := []int64{int64(i%3 + 1), 3}
		ts = append(ts, TensorInfo{Name: "t_" + name, DType: d, Shape: shape})
		p := make([]byte, int(shape[0]*shape[1])*d.BlockBytes())
		for j := range p {
			p[j] = byte(i*31 + j)
		}
		payload["t_"+name] = p
	}
	ts = append(ts, TensorInfo{Name: "scalar", DType: tensor.F32}, TensorInfo{Name: "empty", DType: tensor.F16, Shape: []int64{0, 5}})
	payload["scalar"] = []byte{1, 2, 3, 4}
	md := map[string]string{"format": "pt", "zz": "<&>\"\n", "a": "ü"}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, ts, md)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if err := w.WriteTensor(x.Name, payload[x.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(buf.Bytes())
	if hl%8 != 0 || !strings.HasPrefix(buf.String()[8:], `{"__metadata__":{"a":"ü","format":"pt","zz":"<&>\"\n"},`) {
		t.Errorf("header: %q", buf.String()[8:8+hl])
	}
	f, err := Parse("rt", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range md {
		if f.Metadata[k] != v {
			t.Errorf("metadata %s: %q", k, f.Metadata[k])
		}
	}
	for i, x := range f.Tensors {
		d, _ := f.Data(x)
		if x.Name != ts[i].Name || x.DType != ts[i].DType || fmt.Sprint(x.Shape) != fmt.Sprint(ts[i].Shape) || !bytes.Equal(d, payload[x.Name]) {
			t.Errorf("tensor %d: %+v", i, x)
		}
	}
	// The header alone, through a reader.
	h, err := ReadHeader("rt", bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(h.Tensors) != len(ts) {
		t.Fatal(err)
	}
	if _, err := h.Data(h.Tensors[0]); err == nil {
		t.Error("Data without a mapping succeeded")
	}
}

func file(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestBadInput(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	if _, err := Parse("ok", file(ok, 8)); err != nil {
		t.Fatal(err)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	over := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte{1, 2}, "truncated"},
		{"header 2^40", append(huge, "{}"...), "exceeds"},
		{"header over limit", append(over, "{}"...), "exceeds"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "truncated"},
		{"not json", file(`[1,2]`, 0), "not a JSON object"},
		{"broken json", file(`{"a":{"dtype":`, 0), "tensor \"a\""},
		{"trailing", file(`{}xx`, 0), "trailing"},
		{"unknown dtype", file(`{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}`, 8), `unsupported dtype "Q4"`},
		{"size lies", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 12), "needs 12 bytes"},
		{"past end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 8), "past"},
		{"reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8), "reversed"},
		{"negative", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8), "non-negative"},
		{"huge dim", file(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, 8), "overflows"},
		{"too many dims", file(`{"a":{"dtype":"F32","shape":[`+strings.Repeat("1,", 100)+`1],"data_offsets":[0,4]}}`, 4), "at most"},
		{"offsets count", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, 8), "2"},
		{"missing field", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, 8), "needs"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), "overlaps"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "duplicate"},
		{"metadata not strings", file(`{"__metadata__":{"x":1}}`, 0), "not a string"},
		{"metadata twice", file(`{"__metadata__":{},"__metadata__":{}}`, 0), "twice"},
		{"float offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, 9), "non-negative integer"},
	}
	for _, c := range cases {
		_, err := Parse("bad.safetensors", c.data)
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.safetensors") {
			t.Errorf("%s: got %v, want an *Error mentioning %q", c.name, err, c.want)
		}
	}
}

func TestTruncatedRealFile(t *testing.T) {
	raw, err := os.ReadFile("testdata/bert-reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(raw); n += 1 + n/50 {
		if _, err := Parse("cut", raw[:n]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
}

func TestIndex(t *testing.T) {
	dir := t.TempDir()
	ix := `{"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`
	p := filepath.Join(dir, IndexName)
	if err := os.WriteFile(p, []byte(ix), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	files := got.Files()
	if len(files) != 2 || filepath.Base(files[0]) != "model-00001-of-00002.safetensors" || got.WeightMap["b"] != "model-00002-of-00002.safetensors" {
		t.Errorf("files %v", files)
	}
	for _, bad := range []string{`{"weight_map":{"a":"../x.safetensors"}}`, `{"weight_map":{}}`, `{"weight_map":`} {
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadIndex(p); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func ExampleOpen() {
	f, err := Open("testdata/hf-qwen3/model.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	t, _ := f.Tensor("model.embed_tokens.weight")
	data, _ := f.Data(t) // zero-copy view of the mapped file
	fmt.Println(f.Metadata["format"], t.DType, t.Shape, len(data))
	// Output: pt F32 [512 64] 131072
}

func ExampleNewWriter() {
	var buf bytes.Buffer
	ts := []TensorInfo{{Name: "w", DType: tensor.F32, Shape: []int64{2, 2}}}
	w, _ := NewWriter(&buf, ts, map[string]string{"format": "pt"})
	_ = w.WriteTensor("w", make([]byte, 16))
	_ = w.Close()
	n := binary.LittleEndian.Uint64(buf.Bytes())
	fmt.Printf("%q\n", buf.Bytes()[8:8+n])
	// Output: "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
}

// torch-reference.safetensors was written by the Python safetensors library
// from torch tensors of every dtype (testdata/make_reference.py).
func TestTorchReference(t *testing.T) {
	path := "testdata/torch-reference.safetensors"
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != 14 || f.Metadata["made_by"] != "make_reference.py" {
		t.Fatalf("%d tensors, metadata %v", len(f.Tensors), f.Metadata)
	}
	seen := map[tensor.DType]bool{}
	for _, ti := range f.Tensors {
		seen[ti.DType] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d dtypes", len(seen))
	}
	// Our writer, in the reference's order, writes the same bytes.
	ts := append([]TensorInfo(nil), f.Tensors...)
	for i, j := 0, len(ts)-1; i < j; i, j = i+1, j-1 {
		ts[i], ts[j] = ts[j], ts[i] // scramble before sorting
	}
	SortReference(ts)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, ts, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		d, _ := f.Data(ti)
		if err := w.WriteTensor(ti.Name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(path)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("rewrite differs:\n%q\n%q", buf.Bytes()[:200], want[:200])
	}
}
