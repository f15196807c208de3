package gguf

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/writer-all-types.gguf")

// ggufpyView is what llama.cpp's gguf-py GGUFReader reported for a file
// (testdata/ggufpy.json, made by testdata/ggufpy_dump.py).
type ggufpyView struct {
	KV []struct {
		Key    string            `json:"key"`
		Type   string            `json:"type"`
		Elem   string            `json:"elem"`
		Nested bool              `json:"nested"`
		Length int               `json:"length"`
		First  []json.RawMessage `json:"first"`
		Value  json.RawMessage   `json:"value"`
	} `json:"kv"`
	Tensors []struct {
		Name   string   `json:"name"`
		Type   uint32   `json:"type"`
		Dims   []uint64 `json:"dims"`
		Offset int64    `json:"offset"`
		Bytes  uint64   `json:"bytes"`
	} `json:"tensors"`
}

// sameJSON compares a value of ours with gguf-py's JSON rendering of it.
func sameJSON(v Value, raw json.RawMessage) bool {
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		return false
	}
	switch w := want.(type) {
	case string:
		s, ok := v.Str()
		return ok && s == w
	case bool:
		b, ok := v.Bool()
		return ok && b == w
	case float64:
		f, ok := v.Float()
		if v.Type() == Float32 {
			return ok && float32(f) == float32(w)
		}
		return ok && (f == w || (math.IsNaN(f) && math.IsNaN(w)))
	case []any:
		if v.Type() != Array || v.Len() != len(w) {
			return false
		}
		for i := range w {
			b, _ := json.Marshal(w[i])
			if !sameJSON(v.Index(i), b) {
				return false
			}
		}
		return true
	}
	return false
}

func TestAgainstGGUFPy(t *testing.T) {
	raw, err := os.ReadFile("testdata/ggufpy.json")
	if err != nil {
		t.Fatal(err)
	}
	var views map[string]ggufpyView
	if err := json.Unmarshal(raw, &views); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"writer-all-types.gguf": "writer-all-types.gguf"}
	for _, f := range fixtures {
		files[f] = f
	}
	for i := 1; i <= 3; i++ {
		n := SplitName("qwen3-Q4_K_M", i, 3)
		files[n] = "split/" + n
	}
	for name, rel := range files {
		view, ok := views[name]
		if !ok {
			t.Errorf("%s: no gguf-py view", name)
			continue
		}
		f, err := Parse(name, readFixture(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		keys := f.Metadata.Keys()
		if len(keys) != len(view.KV) {
			t.Fatalf("%s: %d keys, gguf-py %d", name, len(keys), len(view.KV))
		}
		for i, kv := range view.KV {
			v, _ := f.Metadata.Get(keys[i])
			if keys[i] != kv.Key || !strings.EqualFold(v.Type().String(), kv.Type) {
				t.Errorf("%s: key %d: %s %s, gguf-py %s %s", name, i, keys[i], v.Type(), kv.Key, kv.Type)
				continue
			}
			if v.Type() != Array {
				if !sameJSON(v, kv.Value) {
					t.Errorf("%s: %s = %s, gguf-py %s", name, kv.Key, v, kv.Value)
				}
				continue
			}
			if kv.Nested {
				// gguf-py flattens nested arrays into their leaves.
				v = flatten(v)
			}
			if v.Len() != kv.Length || (kv.Elem != "" && !strings.EqualFold(v.Elem().String(), kv.Elem)) {
				t.Errorf("%s: %s: %s[%d], gguf-py %s[%d]", name, kv.Key, v.Elem(), v.Len(), kv.Elem, kv.Length)
			}
			for j, first := range kv.First {
				if !sameJSON(v.Index(j), first) {
					t.Errorf("%s: %s[%d] = %s, gguf-py %s", name, kv.Key, j, v.Index(j), first)
				}
			}
		}
		if len(f.Tensors) != len(view.Tensors) {
			t.Fatalf("%s: %d tensors, gguf-py %d", name, len(f.Tensors), len(view.Tensors))
		}
		for i, want := range view.Tensors {
			got := f.Tensors[i]
			if got.Name != want.Name || uint32(got.Type) != want.Type || fmt.Sprint(got.Dims) != fmt.Sprint(want.Dims) ||
				f.DataOffset+int64(got.Offset) != want.Offset || got.Size != want.Bytes {
				t.Errorf("%s: tensor %d: %+v at %d, gguf-py %+v", name, i, got, f.DataOffset+int64(got.Offset), want)
			}
		}
	}
}

// flatten concatenates the leaves of a nested int32 array.
func flatten(v Value) Value {
	var leaves []int32
	var walk func(Value)
	walk = func(v Value) {
		if v.Elem() == Array {
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
			return
		}
		a, _ := v.Array()
		leaves = append(leaves, a.([]int32)...)
	}
	walk(v)
	return mustV(leaves)
}

// writerAllTypes builds, deterministically, a file with every metadata value
// type (nested arrays included) and tensors of every type rlx supports. Its
// stored copy was read by gguf-py (testdata/ggufpy.json).
func writerAllTypes(t testing.TB) []byte { return writeAllTypes(t, true) }

func writeAllTypes(t testing.TB, withNested bool) []byte {
	md := &Metadata{}
	nested, _ := ValueOf([]Value{mustV([]int32{1, -2, 3}), mustV([]int32{}), mustV([]int32{4})})
	for _, kv := range []struct {
		k string
		v any
	}{
		{KeyArchitecture, "llama"}, {"t.u8", uint8(255)}, {"t.i8", int8(-128)}, {"t.u16", uint16(65535)},
		{"t.i16", int16(-32768)}, {"t.u32", uint32(math.MaxUint32)}, {"t.i32", int32(math.MinInt32)},
		{"t.f32", float32(-1.25e-8)}, {"t.bool", true}, {"t.str", "ünïcode \x01 \"q\""},
		{"t.u64", uint64(math.MaxUint64)}, {"t.i64", int64(math.MinInt64)}, {"t.f64", math.Pi},
		{"t.arr.u8", []uint8{0, 255}}, {"t.arr.i8", []int8{-1, 1}}, {"t.arr.u16", []uint16{1, 65535}},
		{"t.arr.i16", []int16{-3}}, {"t.arr.u32", []uint32{7, 8, 9}}, {"t.arr.i32", []int32{-7}},
		{"t.arr.f32", []float32{0.5, -2}}, {"t.arr.bool", []bool{false, true}}, {"t.arr.str", []string{"", "a", "bé"}},
		{"t.arr.u64", []uint64{1 << 60}}, {"t.arr.i64", []int64{-1 << 60}}, {"t.arr.f64", []float64{1e300}},
		{"t.arr.empty", []string{}}, {"t.arr.nested", nested},
	} {
		if err := md.Set(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	if !withNested {
		md.Delete("t.arr.nested") // llama.cpp's C reader refuses nested arrays
	}
	var ts []TensorInfo
	for _, typ := range []GGMLType{TypeF32, TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ8_0,
		TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_K, TypeIQ4_NL, TypeIQ4_XS, TypeI8, TypeI32, TypeF64} {
		ts = append(ts, TensorInfo{Name: "t." + typ.String(), Type: typ, Dims: []uint64{typ.BlockSize() * 2, 3}})
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, md, ts)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range w.Tensors() {
		data := make([]byte, ti.Size)
		for j := range data {
			data[j] = byte(i + j*7)
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

func mustV(x any) Value {
	v, err := ValueOf(x)
	if err != nil {
		panic(err)
	}
	return v
}

// The writer's output is stable: the stored copy (checked by gguf-py) is
// what it writes today.
func TestWriterOutputStable(t *testing.T) {
	got := writerAllTypes(t)
	path := filepath.Join("testdata", "writer-all-types.gguf")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("writer output changed; if intended, run with -update and re-run testdata/ggufpy_dump.py")
	}
}
