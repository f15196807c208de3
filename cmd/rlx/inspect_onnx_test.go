package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pb is a minimal protobuf writer for test ONNX files.
type pb []byte

func (m pb) bytes(num int, b []byte) pb {
	m = binary.AppendUvarint(m, uint64(num)<<3|2)
	m = binary.AppendUvarint(m, uint64(len(b)))
	return append(m, b...)
}
func (m pb) str(num int, s string) pb { return m.bytes(num, []byte(s)) }
func (m pb) varint(num int, v int64) pb {
	return binary.AppendUvarint(binary.AppendUvarint(m, uint64(num)<<3), uint64(v))
}

// writeTinyONNX writes y = Relu(x · W) with W a 2×3 initializer and a
// 4×4 Constant.
func writeTinyONNX(t *testing.T) string {
	var raw []byte
	for i := range 6 {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(i)))
	}
	w := pb{}.varint(1, 2).varint(1, 3).varint(2, 1).str(8, "W").bytes(9, raw)
	c := pb{}.varint(1, 4).varint(1, 4).varint(2, 1).bytes(9, make([]byte, 64))
	g := pb{}.str(2, "tiny").
		bytes(1, pb{}.str(2, "big").str(4, "Constant").bytes(5, pb{}.str(1, "value").varint(20, 4).bytes(5, c))).
		bytes(1, pb{}.str(1, "x").str(1, "W").str(2, "h").str(4, "MatMul")).
		bytes(1, pb{}.str(1, "h").str(2, "y").str(4, "Relu")).
		bytes(5, w).
		bytes(11, pb{}.str(1, "x").bytes(2, pb{}.bytes(1, pb{}.varint(1, 1).bytes(2, pb{}.bytes(1, pb{}.str(2, "n")).bytes(1, pb{}.varint(1, 2)))))).
		bytes(12, pb{}.str(1, "y"))
	m := pb{}.varint(1, 9).str(2, "rlx-test").bytes(7, g).bytes(8, pb{}.varint(2, 17))
	p := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := os.WriteFile(p, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectONNX(t *testing.T) {
	p := writeTinyONNX(t)
	r, err := inspectPath(p, inspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "onnx" || r.TensorCount != 2 || r.DTypes["FLOAT"] != 2 || r.Check != statusUnknown {
		t.Errorf("report: %+v", r)
	}
	if r.Tensors[0].Name != "W" || r.Tensors[1].Name != "big" {
		t.Errorf("tensors: %+v", r.Tensors)
	}
	if ins := r.Metadata["inputs"].([]string); len(ins) != 1 || ins[0] != "x FLOAT[n, 2]" {
		t.Errorf("inputs: %v", ins)
	}
	if ops := r.Metadata["operators"].(string); ops != "Constant×1 MatMul×1 Relu×1" {
		t.Errorf("operators: %q", ops)
	}
	if c, err := checkPath(p, inspectOptions{}); err != nil || c.Status != statusUnknown || c.ExitCode != 4 || c.Format != "onnx" {
		t.Errorf("check: %+v, %v", c, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte("not protobuf at all"), 0o644)
	if _, err := inspectPath(bad, inspectOptions{}); err == nil || !strings.Contains(err.Error(), "bad.onnx") {
		t.Errorf("bad file: %v", err)
	}
}

func TestConvertErrors(t *testing.T) {
	tiny := writeTinyONNX(t)
	out := filepath.Join(t.TempDir(), "out.safetensors")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"convert", tiny}, "output file is required"},
		{[]string{"convert", "model.gguf", "-o", out}, "only .onnx"},
		{[]string{"convert", filepath.Join(t.TempDir(), "missing.onnx"), "-o", out}, "no such file"},
		{[]string{"convert", tiny, "-o", out}, "not a supported model"},
	}
	for _, c := range cases {
		rootCmd.SetArgs(c.args)
		err := rootCmd.Execute()
		rootCmd.SetArgs(nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rlx %v: err = %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed conversion left an output file")
	}
}
