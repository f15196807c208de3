package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	m, err := Decode(testModel())
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 8 || m.ProducerName != "test" || m.ProducerVersion != "1.0" {
		t.Errorf("header = %d %q %q", m.IRVersion, m.ProducerName, m.ProducerVersion)
	}
	if len(m.Opsets) != 1 || m.Opsets[0] != (OpsetID{"", 17}) {
		t.Errorf("opsets = %v", m.Opsets)
	}
	if len(m.Metadata) != 1 || m.Metadata[0] != (KeyValue{"author", "rlx"}) {
		t.Errorf("metadata = %v", m.Metadata)
	}
	g := m.Graph
	if g.Name != "main" || len(g.Nodes) != 2 || len(g.Initializers) != 3 {
		t.Fatalf("graph %q: %d nodes, %d initializers", g.Name, len(g.Nodes), len(g.Initializers))
	}
	conv := g.Nodes[0]
	if conv.OpType != "Conv" || conv.Name != "conv0" || !slices.Equal(conv.Inputs, []string{"x", "conv.weight", "conv.bias"}) || !slices.Equal(conv.Outputs, []string{"y"}) {
		t.Errorf("conv node = %+v", conv)
	}
	if a := conv.Attr("strides"); a == nil || a.Type != AttrInts || !slices.Equal(a.Ints, []int64{2}) {
		t.Errorf("strides = %+v", a)
	}
	if a := conv.Attr("alpha"); a == nil || a.Type != AttrFloat || a.F != 0.25 {
		t.Errorf("alpha = %+v", a)
	}
	if a := conv.Attr("mode"); a == nil || a.Type != AttrString || string(a.S) != "reflect" {
		t.Errorf("mode = %+v", a)
	}
	if conv.Attr("missing") != nil {
		t.Error("Attr(missing) != nil")
	}

	w := g.Initializer("conv.weight")
	if w == nil || !slices.Equal(w.Dims, []int64{2, 1, 3}) || w.DType().String() != "F32" {
		t.Fatalf("conv.weight = %+v", w)
	}
	wf, err := w.Float32()
	if err != nil || !slices.Equal(wf, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("conv.weight data = %v, %v", wf, err)
	}
	bf, err := g.Initializer("conv.bias").Float32()
	if err != nil || !slices.Equal(bf, []float32{0.5, -0.5}) {
		t.Errorf("conv.bias data = %v, %v", bf, err)
	}
	if _, err := g.Initializer("conv.bias").Int64(); err == nil {
		t.Error("Int64 of a float tensor succeeded")
	}
	k, err := g.Initializer("k").Int64()
	if err != nil || !slices.Equal(k, []int64{7}) {
		t.Errorf("k = %v, %v", k, err)
	}
	if _, err := g.Initializer("k").Float32(); err == nil {
		t.Error("Float32 of an int tensor succeeded")
	}

	if len(g.Inputs) != 2 || g.Inputs[0].Name != "x" || g.Inputs[0].ElemType != Float {
		t.Fatalf("inputs = %+v", g.Inputs)
	}
	var dims []string
	for _, d := range g.Inputs[0].Shape {
		dims = append(dims, d.String())
	}
	if strings.Join(dims, ",") != "batch,1,8" {
		t.Errorf("x shape = %v", dims)
	}
	if g.Inputs[1].Shape == nil || len(g.Inputs[1].Shape) != 0 {
		t.Errorf("scalar cond shape = %#v, want empty non-nil", g.Inputs[1].Shape)
	}

	var visited []string
	err = g.Walk(func(path string, n *Node) error {
		visited = append(visited, path+":"+n.OpType)
		return nil
	})
	want := []string{"node[0]:Conv", "node[1]:If", "node[1].then_branch.node[0]:Relu", "node[1].else_branch.node[0]:Sigmoid"}
	if err != nil || !slices.Equal(visited, want) {
		t.Errorf("Walk = %v, %v; want %v", visited, err, want)
	}
	stop := errors.New("stop")
	if err := g.Walk(func(string, *Node) error { return stop }); err != stop {
		t.Errorf("Walk did not return fn's error: %v", err)
	}
}

func TestTensorEncodings(t *testing.T) {
	cases := []struct {
		name string
		t    msg
		f32  []float32
		i64  []int64
	}{
		{"unpacked floats", msg{}.varint(1, 2).varint(2, int64(Float)).fixed32(4, 0x3f800000).fixed32(4, 0x40000000), []float32{1, 2}, nil},
		{"f16 raw", msg{}.varint(1, 2).varint(2, int64(Float16)).bytes(9, []byte{0x00, 0x3c, 0x00, 0xc0}), []float32{1, -2}, nil},
		{"f16 int32_data", msg{}.varint(1, 1).varint(2, int64(Float16)).packedVarints(5, 0x3800), []float32{0.5}, nil},
		{"bf16 raw", msg{}.varint(2, int64(BFloat16)).bytes(9, []byte{0x80, 0x3f}), []float32{1}, nil},
		{"double", msg{}.varint(1, 1).varint(2, int64(Double)).bytes(10, []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f}), []float32{1.5}, nil},
		{"int8 raw", msg{}.varint(1, 3).varint(2, int64(Int8)).bytes(9, []byte{0xff, 1, 0x80}), nil, []int64{-1, 1, -128}},
		{"int32 data", msg{}.varint(1, 2).varint(2, int64(Int32)).packedVarints(5, -5, 9), nil, []int64{-5, 9}},
		{"int64 raw", msg{}.varint(1, 1).varint(2, int64(Int64)).bytes(9, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), nil, []int64{-2}},
		{"uint64 data", msg{}.varint(1, 1).varint(2, int64(Uint64)).bytes(11, []byte{3, 0, 0, 0, 0, 0, 0, 0}), nil, []int64{3}},
		{"bool raw", msg{}.varint(1, 2).varint(2, int64(Bool)).bytes(9, []byte{1, 0}), nil, []int64{1, 0}},
		{"empty", msg{}.varint(1, 0).varint(2, int64(Float)), []float32{}, nil},
	}
	for _, c := range cases {
		tt, err := decodeTensor(c.t)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.f32 != nil {
			got, err := tt.Float32()
			if err != nil || !slices.Equal(got, c.f32) {
				t.Errorf("%s: Float32 = %v, %v; want %v", c.name, got, err, c.f32)
			}
		}
		if c.i64 != nil {
			got, err := tt.Int64()
			if err != nil || !slices.Equal(got, c.i64) {
				t.Errorf("%s: Int64 = %v, %v; want %v", c.name, got, err, c.i64)
			}
		}
	}
}

func TestTensorErrors(t *testing.T) {
	cases := []struct {
		name string
		t    msg
		want string
	}{
		{"count mismatch", msg{}.str(8, "w").varint(1, 3).varint(2, int64(Float)).packedFloats(4, 1, 2), `"w": 2 elements stored, dims [3] need 3`},
		{"raw not whole", msg{}.str(8, "w").varint(1, 1).varint(2, int64(Float)).bytes(9, []byte{1, 2, 3}), "not a whole number"},
		{"raw short", msg{}.str(8, "w").varint(1, 4).varint(2, int64(Float)).bytes(9, make([]byte, 8)), "2 elements stored"},
		{"external", msg{}.str(8, "w").varint(1, 1).varint(2, int64(Float)).varint(14, 1), "external file"},
		{"string type", msg{}.str(8, "w").varint(2, int64(String)), "not a float type"},
	}
	for _, c := range cases {
		tt, err := decodeTensor(c.t)
		if err != nil {
			t.Errorf("%s: decode: %v", c.name, err)
			continue
		}
		_, err = tt.Float32()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := testModel()
	hugeDims := msg{}.packedVarints(1, 1<<40, 1<<40).varint(2, int64(Float))
	deep := msg{}.str(4, "Relu")
	for i := 0; i <= maxDepth+1; i++ {
		g := msg{}.bytes(1, deep)
		deep = msg{}.str(4, "If").bytes(5, msg{}.str(1, "then_branch").varint(20, int64(AttrGraph)).bytes(6, g))
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"no graph", msg{}.varint(1, 8), "no graph"},
		{"not protobuf", []byte("RIFF....WAVEfmt "), "malformed"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"zero field", []byte{0x00, 0x01}, "invalid field number 0"},
		{"group", []byte{0x0b}, "unsupported wire type group-start"},
		{"wrong wire type", msg{}.fixed32(7, 1), "graph (field 7) has wire type fixed32, want bytes"},
		{"huge length", append(msg{}.tag(7, wireBytes), 0xff, 0xff, 0xff, 0xff, 0x0f), "exceeds"},
		{"varint overflow", append(msg{}.tag(1, wireVarint), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "overflows"},
		{"huge dims", msg{}.bytes(7, msg{}.bytes(5, hugeDims.str(8, "big"))), "overflows"},
		{"negative dim", msg{}.bytes(7, msg{}.bytes(5, msg{}.str(8, "neg").varint(1, -1))), `dims[0] = -1 is negative`},
		{"bad node", msg{}.bytes(7, msg{}.bytes(1, msg{}).bytes(1, msg{}.varint(4, 3))), "graph: node[1]: at byte 0: op_type (field 4) has wire type varint"},
		{"deep", msg{}.bytes(7, msg{}.bytes(1, deep)), "nested deeper"},
		{"packed floats", msg{}.bytes(7, msg{}.bytes(5, msg{}.bytes(4, []byte{1, 2, 3}))), "not a multiple of 4"},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(p, testModel(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.onnx")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte{0xff}, 0o644)
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: err = %v, want it to name the file", err)
	}
}

// FuzzDecode checks that no input makes the decoder panic or hang, and that
// whatever decodes can be walked and its tensors read without panicking.
func FuzzDecode(f *testing.F) {
	f.Add(testModel())
	f.Add([]byte{})
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		m.Graph.Walk(func(_ string, n *Node) error {
			for _, a := range n.Attributes {
				if a.T != nil {
					a.T.Float32()
					a.T.Int64()
				}
			}
			return nil
		})
		for _, tt := range m.Graph.Initializers {
			tt.Float32()
			tt.Int64()
		}
	})
}
