package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/internal/gztest"
)

// fixtures are real GGUF files written by llama.cpp's tools (testdata/README.md).
var fixtures = []string{"qwen3-Q4_K_M.gguf", "ggml-vocab-bert-bge.gguf.gz", "ggml-vocab-llama-spm.gguf.gz"}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	if strings.HasSuffix(name, ".gz") {
		return gztest.Read(t, filepath.Join("testdata", name))
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewrite writes f's metadata and tensors through the Writer.
func rewrite(t testing.TB, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f.Metadata, f.Tensors)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range w.Tensors() {
		if ti.Offset != f.Tensors[i].Offset || ti.Size != f.Tensors[i].Size {
			t.Fatalf("%s: writer placed tensor %q at %d+%d, file has %d+%d", f.Path, ti.Name, ti.Offset, ti.Size, f.Tensors[i].Offset, f.Tensors[i].Size)
		}
		data, err := f.Data(f.Tensors[i])
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

// A real file re-written with the same metadata, tensors and alignment is
// byte-identical to what llama.cpp wrote.
func TestRewriteIsByteIdentical(t *testing.T) {
	for _, name := range fixtures {
		data := readFixture(t, name)
		f, err := Parse(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if got := rewrite(t, f); !bytes.Equal(got, data) {
			n := 0
			for n < len(got) && n < len(data) && got[n] == data[n] {
				n++
			}
			t.Errorf("%s: rewrite differs at byte %d (lengths %d, %d)", name, n, len(got), len(data))
		}
	}
}

func TestOpenMapsTensorData(t *testing.T) {
	path := filepath.Join("testdata", "qwen3-Q4_K_M.gguf")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := readFixture(t, "qwen3-Q4_K_M.gguf")
	for _, ti := range f.Tensors {
		data, err := f.Data(ti)
		if err != nil {
			t.Fatal(err)
		}
		want := raw[f.DataOffset+int64(ti.Offset):][:ti.Size]
		if !bytes.Equal(data, want) {
			t.Fatalf("tensor %s: data differs", ti.Name)
		}
		if err := ti.Supported(); err != nil {
			t.Errorf("tensor %s: %v", ti.Name, err)
		}
		rb, err := ti.DType().RowBytes(int64(ti.Elements()))
		if err != nil || uint64(rb) != ti.Size {
			t.Errorf("tensor %s: size %d, tensor.DType says %d (%v)", ti.Name, ti.Size, rb, err)
		}
	}
	ti, ok := f.Tensor("token_embd.weight")
	if !ok {
		t.Fatal("token_embd.weight missing")
	}
	if s := ti.Shape(); len(s) != 2 || uint64(s[0]) != ti.Dims[1] || uint64(s[1]) != ti.Dims[0] {
		t.Errorf("Shape %v is not Dims %v reversed", s, ti.Dims)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Data(ti); err == nil {
		t.Error("Data after Close succeeded")
	}
	if f.Metadata.Arch() != "qwen3" {
		t.Error("metadata lost after Close")
	}
}

func TestTypedGetters(t *testing.T) {
	f, err := Parse("spm", readFixture(t, "ggml-vocab-llama-spm.gguf.gz"))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata
	toks, ok := md.Strings("tokenizer.ggml.tokens")
	scores, ok2 := md.Float32s("tokenizer.ggml.scores")
	types, ok3 := md.Int32s("tokenizer.ggml.token_type")
	n, ok4 := md.Uint32(md.ArchKey("vocab_size"))
	if !ok || !ok2 || !ok3 || !ok4 || len(toks) != int(n) || len(scores) != int(n) || len(types) != int(n) {
		t.Fatalf("vocab arrays: %d/%v %d/%v %d/%v, vocab_size %d/%v", len(toks), ok, len(scores), ok2, len(types), ok3, n, ok4)
	}
	if _, ok := md.String("tokenizer.ggml.scores"); ok {
		t.Error("String accepted an array")
	}
	if _, ok := md.Uint32("missing.key"); ok {
		t.Error("missing key found")
	}
	if b, ok := md.Bool("tokenizer.ggml.add_bos_token"); !ok || !b {
		t.Error("add_bos_token")
	}
	if eps, ok := md.Float32(md.ArchKey("attention.layer_norm_rms_epsilon")); !ok || eps <= 0 || eps > 1e-3 {
		t.Errorf("epsilon %v %v", eps, ok)
	}
	if _, ok := md.Int32s("tokenizer.ggml.tokens"); ok {
		t.Error("Int32s accepted a string array")
	}
}

func TestWriterValueTypes(t *testing.T) {
	md := &Metadata{}
	nested, _ := ValueOf([]Value{mustValue(t, []int32{1, -2}), mustValue(t, []int32{}), mustValue(t, []int32{7})})
	deep, _ := ValueOf([]Value{nested, nested})
	values := []any{
		uint8(200), int8(-100), uint16(60000), int16(-30000), uint32(4e9), int32(-2e9),
		float32(1.5), true, false, "héllo\x00", uint64(1 << 63), int64(-1 << 62), float64(-2.25),
		[]uint8{1, 2}, []int8{-1}, []uint16{65535}, []int16{-5}, []uint32{0, 1 << 31}, []int32{-7},
		[]float32{0.5, -0}, []bool{true, false}, []string{"", "a", "ü"}, []uint64{1}, []int64{-9}, []float64{3},
		[]string{}, nested, deep,
	}
	for i, v := range values {
		if err := md.Set("k"+string(rune('a'+i)), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := md.Set(KeyAlignment, uint32(64)); err != nil {
		t.Fatal(err)
	}
	ti := []TensorInfo{
		{Name: "a", Type: TypeF32, Dims: []uint64{3}},
		{Name: "b", Type: TypeQ8_0, Dims: []uint64{32, 2}},
		{Name: "empty", Type: TypeF16, Dims: []uint64{0, 4}},
		{Name: "scalar", Type: TypeI32},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, md, ti)
	if err != nil {
		t.Fatal(err)
	}
	payload := map[string][]byte{"a": bytes.Repeat([]byte{1}, 12), "b": bytes.Repeat([]byte{2}, 68), "empty": nil, "scalar": {9, 0, 0, 0}}
	for _, x := range ti {
		if err := w.WriteTensor(x.Name, payload[x.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse("roundtrip", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || buf.Len()%64 != 0 {
		t.Errorf("alignment %d, file length %d", f.Alignment, buf.Len())
	}
	for i, k := range md.Keys() {
		a, _ := md.Get(k)
		b, ok := f.Metadata.Get(k)
		if !ok || f.Metadata.Keys()[i] != k || a.Type() != b.Type() || a.Elem() != b.Elem() || a.String() != b.String() {
			t.Errorf("%s: wrote %s %s, read %s %s", k, a.Type(), a, b.Type(), b)
		}
	}
	for _, x := range f.Tensors {
		data, err := f.Data(x)
		if err != nil || !bytes.Equal(data, payload[x.Name]) {
			t.Errorf("tensor %s: %v", x.Name, err)
		}
		if x.Offset%64 != 0 {
			t.Errorf("tensor %s at %d", x.Name, x.Offset)
		}
	}
	if s := f.Tensors[3].Shape(); len(s) != 0 || f.Tensors[3].Elements() != 1 {
		t.Errorf("0-D tensor shape %v", s)
	}
}

func mustValue(t *testing.T, x any) Value {
	v, err := ValueOf(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWriterMisuse(t *testing.T) {
	ti := []TensorInfo{{Name: "a", Type: TypeF32, Dims: []uint64{2}}, {Name: "b", Type: TypeF32, Dims: []uint64{1}}}
	newW := func() *Writer {
		w, err := NewWriter(io.Discard, nil, ti)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if err := newW().WriteTensor("b", make([]byte, 4)); err == nil {
		t.Error("out-of-order tensor accepted")
	}
	if err := newW().WriteTensor("a", make([]byte, 4)); err == nil {
		t.Error("short tensor accepted")
	}
	w := newW()
	_ = w.WriteTensor("a", make([]byte, 8))
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("early Close: %v", err)
	}
	bad := [][]TensorInfo{
		{{Name: "x", Type: TypeF32}, {Name: "x", Type: TypeF32}},
		{{Name: "q", Type: TypeQ4_0, Dims: []uint64{33}}},
		{{Name: "t", Type: GGMLType(4), Dims: []uint64{1}}},
		{{Name: "d", Type: TypeF32, Dims: []uint64{1, 1, 1, 1, 1}}},
	}
	for _, b := range bad {
		if _, err := NewWriter(io.Discard, nil, b); err == nil {
			t.Errorf("NewWriter accepted %+v", b)
		}
	}
	md := &Metadata{}
	_ = md.Set(KeyAlignment, uint32(48))
	if _, err := NewWriter(io.Discard, md, nil); err == nil {
		t.Error("alignment 48 accepted")
	}
}

// small builds a valid file with a few keys and tensors for the bad-input tests.
func small(t testing.TB) []byte {
	md := &Metadata{}
	_ = md.Set(KeyArchitecture, "llama")
	_ = md.Set("tokenizer.ggml.tokens", []string{"a", "bc", "def"})
	_ = md.Set("x.scores", []float32{1, 2, 3})
	_ = md.Set("x.scoreZ", uint8(1))
	ti := []TensorInfo{{Name: "w", Type: TypeF32, Dims: []uint64{4, 2}}, {Name: "q", Type: TypeQ8_0, Dims: []uint64{32}}}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, md, ti)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.WriteTensor("w", make([]byte, 32))
	_ = w.WriteTensor("q", make([]byte, 34))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every proper prefix of a file is rejected with an *Error, never a panic.
func TestTruncated(t *testing.T) {
	data := small(t)
	if _, err := Parse("small", data); err != nil {
		t.Fatal(err)
	}
	f, _ := Parse("small", data)
	last := f.Tensors[len(f.Tensors)-1]
	// The final tensor's padding may be missing; its data may not.
	for n := 0; n < int(f.DataOffset)+int(last.Offset+last.Size); n++ {
		_, err := Parse("small", data[:n])
		var ge *Error
		if !errors.As(err, &ge) || ge.File != "small" {
			t.Fatalf("prefix %d: %v", n, err)
		}
	}
}

func TestBadInput(t *testing.T) {
	base := small(t)
	f, _ := Parse("small", base)
	le := binary.LittleEndian
	// offsets of fields inside base
	keyOff := 24 // first key's length
	tensorOff := func(name string) int {
		return bytes.Index(base, append(le.AppendUint64(nil, uint64(len(name))), name...))
	}
	wInfo := tensorOff("w")
	qInfo := tensorOff("q")
	qOffsetField := qInfo + 8 + 1 + 4 + 8 + 4
	tokens := bytes.Index(base, []byte("tokenizer.ggml.tokens")) + len("tokenizer.ggml.tokens")

	cases := []struct {
		name, want string
		edit       func(b []byte) []byte
	}{
		{"magic", "not a GGUF file", func(b []byte) []byte { copy(b, "GGML"); return b }},
		{"big-endian magic", "big-endian", func(b []byte) []byte { copy(b, "FUGG"); return b }},
		{"big-endian version", "big-endian", func(b []byte) []byte { binary.BigEndian.PutUint32(b[4:], 3); return b }},
		{"version 1", "version 1", func(b []byte) []byte { le.PutUint32(b[4:], 1); return b }},
		{"version 9", "version 9", func(b []byte) []byte { le.PutUint32(b[4:], 9); return b }},
		{"tensor count 2^60", "tensor_count", func(b []byte) []byte { le.PutUint64(b[8:], 1<<60); return b }},
		{"kv count huge", "metadata_kv_count", func(b []byte) []byte { le.PutUint64(b[16:], 1<<62); return b }},
		{"key length 2^40", "exceeds", func(b []byte) []byte { le.PutUint64(b[keyOff:], 1<<40); return b }},
		{"array length huge", "cannot fit", func(b []byte) []byte { le.PutUint64(b[tokens+4+4:], 1<<58); return b }},
		{"string in array length 2^40", "exceeds", func(b []byte) []byte { le.PutUint64(b[tokens+4+4+8:], 1<<40); return b }},
		{"array element type", "element type", func(b []byte) []byte { le.PutUint32(b[tokens+4:], 77); return b }},
		{"value type", "unknown value type", func(b []byte) []byte { le.PutUint32(b[tokens:], 13); return b }},
		{"tensor dims", "dimensions", func(b []byte) []byte { le.PutUint32(b[wInfo+9:], 5); return b }},
		{"tensor type unknown", "unknown ggml type code 4", func(b []byte) []byte { le.PutUint32(b[wInfo+9+4+16:], 4); return b }},
		{"block size", "block size", func(b []byte) []byte { le.PutUint32(b[wInfo+9+4+16:], uint32(TypeQ4_0)); return b }},
		{"offset past end", "past", func(b []byte) []byte { le.PutUint64(b[qOffsetField:], 1<<20); return b }},
		{"offset overflow", "past", func(b []byte) []byte { le.PutUint64(b[qOffsetField:], 1<<63); return b }},
		{"misaligned", "not a multiple of the alignment", func(b []byte) []byte { le.PutUint64(b[qOffsetField:], f.Tensors[1].Offset+4); return b }},
		{"overlap", "overlaps", func(b []byte) []byte { le.PutUint64(b[qOffsetField:], 0); return b }},
		{"duplicate tensor", "duplicate tensor", func(b []byte) []byte { b[qInfo+8] = 'w'; return b }},
		{"duplicate key", "duplicate key", func(b []byte) []byte { b[bytes.Index(b, []byte("x.scoreZ"))+7] = 's'; return b }},
		{"dimension huge", "overflows", func(b []byte) []byte {
			le.PutUint64(b[wInfo+9+4:], 1<<40)
			le.PutUint64(b[wInfo+9+4+8:], 1<<40)
			return b
		}},
	}
	for _, c := range cases {
		b := c.edit(append([]byte(nil), base...))
		_, err := Parse("bad.gguf", b)
		var ge *Error
		if !errors.As(err, &ge) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.gguf") {
			t.Errorf("%s: got %v, want an *Error mentioning %q", c.name, err, c.want)
		}
	}
	_, err := Parse("be", append([]byte("FUGG"), base[4:]...))
	if !errors.Is(err, ErrBigEndian) {
		t.Errorf("big-endian: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); err == nil || !strings.Contains(err.Error(), "missing.gguf") {
		t.Errorf("missing file: %v", err)
	}
}

// Version 2 has the same layout as version 3 (which added big-endian files).
func TestVersion2(t *testing.T) {
	b := small(t)
	binary.LittleEndian.PutUint32(b[4:], 2)
	f, err := Parse("v2", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || len(f.Tensors) != 2 || f.Metadata.Arch() != "llama" {
		t.Errorf("v2: %+v", f)
	}
}

func TestUnsupportedTypeNamesTensor(t *testing.T) {
	ti := []TensorInfo{{Name: "blk.0.ffn_up.weight", Type: TypeIQ2_XXS, Dims: []uint64{256}}}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, nil, ti)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.WriteTensor(ti[0].Name, make([]byte, 66))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse("iq2", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	err = f.Tensors[0].Supported()
	if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), "IQ2_XXS") || !strings.Contains(err.Error(), "blk.0.ffn_up.weight") || !strings.Contains(err.Error(), "16") {
		t.Errorf("got %v", err)
	}
}
