package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant"
)

const mixTestdata = "../../quant/mix/testdata"

// readNPY parses what writeNPY writes, checking the format rules numpy
// enforces (magic, version 1.0, header padded to 64 with a newline).
func readNPY(t *testing.T, path string) (string, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("%s: bad magic %q", path, b[:8])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+hl)%64 != 0 || b[10+hl-1] != '\n' {
		t.Fatalf("%s: header length %d not padded to 64 / not newline-terminated", path, hl)
	}
	data := b[10+hl:]
	x := make([]float32, len(data)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return strings.TrimSpace(string(b[10 : 10+hl])), x
}

func TestDumpQuantizedTensor(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "q.gguf")
	runCmd(t, "quantize", filepath.Join(mixTestdata, "llama4.f32.gguf"), q, "--type", "Q4_K_M", "--pure=false", "--threads", "2")
	for _, name := range []string{"blk.3.ffn_down.weight", "blk.1.attn_q.weight", "output.weight", "output_norm.weight"} {
		out := filepath.Join(dir, name+".npy")
		runCmd(t, "dump", q, "--tensor", name, "-o", out, "--prefer", "", "--gguf-index", "-1")
		hdr, got := readNPY(t, out)
		f, err := gguf.Open(q)
		if err != nil {
			t.Fatal(err)
		}
		ti, _ := f.Tensor(name)
		raw, _ := f.Data(ti)
		want := make([]float32, ti.Elements())
		if err := quant.Dequantize(ti.DType(), want, raw); err != nil {
			t.Fatal(err)
		}
		f.Close()
		shape := ti.Shape()
		tuple := fmt.Sprintf("(%d,)", shape[0])
		if len(shape) == 2 {
			tuple = fmt.Sprintf("(%d, %d)", shape[0], shape[1])
		}
		wantHdr := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
		if hdr != wantHdr {
			t.Errorf("%s: header %q, want %q", name, hdr, wantHdr)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestQuantizeCommandMatchesLlamaQuantize(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(mixTestdata, "llama-quantize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, mixName := range []string{"Q4_K_M", "Q5_K_S", "Q4_0"} {
		out := filepath.Join(dir, mixName+".gguf")
		runCmd(t, "quantize", filepath.Join(mixTestdata, "qwen3tied.f32.gguf"), out, "--type", strings.ToLower(mixName), "--pure=false", "--threads", "0")
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got, want := hex.EncodeToString(sum[:]), ref["qwen3tied/"+mixName].SHA256; got != want {
			t.Errorf("%s: sha256 %s, llama-quantize %s", mixName, got, want)
		}
	}
}

func TestQuantizeCommandErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(mixTestdata, "qwen3tied.f32.gguf")
	for _, args := range [][]string{
		{"quantize", in, filepath.Join(dir, "x.gguf"), "--type", "IQ2_XXS"},
		{"quantize", in, filepath.Join(dir, "x.gguf"), "--type", ""},
		{"quantize", in, in, "--type", "Q8_0"},
		{"quantize", dir, filepath.Join(dir, "x.gguf"), "--type", "Q8_0"},
		{"dump", in, "--tensor", "no.such.tensor", "-o", filepath.Join(dir, "x.npy")},
	} {
		var out bytes.Buffer
		rootCmd.SetOut(&out)
		rootCmd.SetErr(&out)
		rootCmd.SetArgs(args)
		if err := rootCmd.Execute(); err == nil {
			t.Errorf("rlx %v succeeded", args)
		}
		rootCmd.SetArgs(nil)
	}
}
