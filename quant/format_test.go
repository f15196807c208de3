package quant

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/internal/gztest"
	"github.com/rlx-go/rlx/tensor"
)

// Reference data in testdata/ comes from llama.cpp (see testdata/README.md).

// readGz reads testdata/name.gz.
func readGz(t *testing.T, name string) []byte {
	t.Helper()
	return gztest.Read(t, filepath.Join("testdata", name+".gz"))
}

func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// sameFloats requires bit equality, except that any NaN matches any NaN
// (ggml's fp16 conversion quiets signalling NaN payloads differently).
func sameFloats(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		g, w := got[i], want[i]
		if math.Float32bits(g) == math.Float32bits(w) || (g != g && w != w) {
			continue
		}
		if bad < 5 {
			t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", what, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
		bad++
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(got))
	}
}

var refTypes = []tensor.DType{
	tensor.Q4_0, tensor.Q4_1, tensor.Q5_0, tensor.Q5_1, tensor.Q8_0, tensor.Q8_1,
	tensor.Q2_K, tensor.Q3_K, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K, tensor.Q8_K,
	tensor.IQ4_NL, tensor.IQ4_XS,
}

// ggmlName is the file name stem quantref used (ggml's type names).
func ggmlName(t tensor.DType) string {
	s := strings.ToLower(t.String())
	return strings.Replace(s, "_k", "_K", 1)
}

func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	x := floats(readGz(t, "input.f32"))
	for _, dt := range refTypes {
		if !CanQuantize(dt) {
			continue
		}
		t.Run(dt.String(), func(t *testing.T) {
			want := readGz(t, ggmlName(dt)+".q")
			got := make([]byte, len(want))
			if err := Quantize(dt, got, x); err != nil {
				t.Fatal(err)
			}
			if dt == tensor.Q8_K {
				// ggml leaves the group sums of an all-zero block unwritten.
				maskZeroQ8KSums(got, want)
			}
			if !bytes.Equal(got, want) {
				bb := dt.BlockBytes()
				for i := 0; i < len(got); i += bb {
					if !bytes.Equal(got[i:i+bb], want[i:i+bb]) {
						t.Fatalf("block %d differs:\n got %x\nwant %x", i/bb, got[i:i+bb], want[i:i+bb])
					}
				}
			}
		})
	}
}

func maskZeroQ8KSums(got, want []byte) {
	bb := tensor.Q8_K.BlockBytes()
	for i := 0; i < len(got); i += bb {
		if binary.LittleEndian.Uint32(want[i:]) == 0 {
			copy(got[i+4+qkK:i+bb], want[i+4+qkK:i+bb])
		}
	}
}

func TestDequantizeMatchesLlamaCpp(t *testing.T) {
	for _, dt := range refTypes {
		t.Run(dt.String(), func(t *testing.T) {
			name := ggmlName(dt)
			if _, err := os.Stat(filepath.Join("testdata", name+".deq.gz")); err == nil {
				q := readGz(t, name+".q")
				want := floats(readGz(t, name+".deq"))
				got := make([]float32, len(want))
				if err := Dequantize(dt, got, q); err != nil {
					t.Fatal(err)
				}
				sameFloats(t, "quantized input", got, want)
			}
			if _, err := os.Stat(filepath.Join("testdata", name+".rnd.gz")); err == nil {
				q := readGz(t, name+".rnd")
				want := floats(readGz(t, name+".rnd.deq"))
				got := make([]float32, len(want))
				if err := Dequantize(dt, got, q); err != nil {
					t.Fatal(err)
				}
				sameFloats(t, "random blocks", got, want)
			}
		})
	}
}

// TestDequantizeFixtures decodes tensors that llama-quantize wrote into the
// tiny model fixtures and compares with gguf-py's numpy dequantization.
// gguf-py orders some products differently from ggml's C, so equality is
// to 1 ulp of the magnitude of the block's scale terms.
func TestDequantizeFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/fixture-*.q.gz")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixture tensors in testdata", err)
	}
	for _, f := range files {
		stem := strings.TrimSuffix(filepath.Base(f), ".q.gz")
		dt, err := tensor.ParseDType(stem[strings.LastIndex(stem, "-")+1:])
		if err != nil {
			t.Fatal(err)
		}
		t.Run(stem, func(t *testing.T) {
			q := readGz(t, stem+".q")
			want := floats(readGz(t, stem+".gguf-py.deq"))
			got := make([]float32, len(want))
			if err := Dequantize(dt, got, q); err != nil {
				t.Fatal(err)
			}
			exact := 0
			for i := range got {
				if got[i] == want[i] {
					exact++
					continue
				}
				tol := 2 * float64(ulp(want[i]))
				if d := math.Abs(float64(got[i] - want[i])); d > tol {
					t.Fatalf("[%d] = %v, gguf-py %v", i, got[i], want[i])
				}
			}
			t.Logf("%d of %d values bit-identical to gguf-py", exact, len(got))
		})
	}
}

func ulp(f float32) float32 {
	b := math.Float32bits(f) &^ (1 << 31)
	return math.Float32frombits(b+1) - math.Float32frombits(b)
}

// TestRoundTrip checks every quantizer against its own dequantizer on
// random data of several scales: the error must stay within what the
// format's step size allows.
func TestRoundTrip(t *testing.T) {
	// relative RMS error bounds per format, loose multiples of the step size
	bounds := map[tensor.DType]float64{
		tensor.Q4_0: 0.12, tensor.Q4_1: 0.1, tensor.Q5_0: 0.06, tensor.Q5_1: 0.05,
		tensor.Q8_0: 0.008, tensor.Q8_1: 0.008, tensor.Q2_K: 0.45, tensor.Q3_K: 0.2,
		tensor.Q4_K: 0.1, tensor.Q5_K: 0.05, tensor.Q6_K: 0.025, tensor.Q8_K: 0.008,
	}
	rng := newRand(7)
	for dt, bound := range bounds {
		for _, scale := range []float32{1e-3, 1, 300} {
			n := 256 * 7
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * scale
			}
			q := make([]byte, mustRowBytes(t, dt, n))
			if err := Quantize(dt, q, x); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, n)
			if err := Dequantize(dt, y, q); err != nil {
				t.Fatal(err)
			}
			var se, sx float64
			for i := range x {
				d := float64(y[i] - x[i])
				se += d * d
				sx += float64(x[i]) * float64(x[i])
			}
			if rel := math.Sqrt(se / sx); rel > bound {
				t.Errorf("%v scale %g: relative RMS error %.4f > %.4f", dt, scale, rel, bound)
			}
		}
	}
}

func mustRowBytes(t testing.TB, dt tensor.DType, n int) int {
	b, err := dt.RowBytes(int64(n))
	if err != nil {
		t.Fatal(err)
	}
	return int(b)
}

func TestBadSizes(t *testing.T) {
	for _, dt := range refTypes {
		bs := dt.BlockSize()
		if err := Dequantize(dt, make([]float32, bs+1), make([]byte, dt.BlockBytes())); err == nil {
			t.Errorf("%v: partial block accepted", dt)
		}
		if err := Dequantize(dt, make([]float32, bs), make([]byte, dt.BlockBytes()-1)); err == nil {
			t.Errorf("%v: short source accepted", dt)
		}
		if CanQuantize(dt) {
			if err := Quantize(dt, make([]byte, dt.BlockBytes()+1), make([]float32, bs)); err == nil {
				t.Errorf("%v: long destination accepted", dt)
			}
		}
	}
	if err := Quantize(tensor.IQ4_XS, make([]byte, 136), make([]float32, 256)); err == nil {
		t.Error("IQ4_XS quantization should be unsupported")
	}
	if err := Dequantize(tensor.I32, make([]float32, 1), make([]byte, 4)); err == nil || !strings.Contains(err.Error(), "I32") {
		t.Errorf("I32: err = %v, want an error naming the type", err)
	}
}

// FuzzDequantize feeds arbitrary bytes to every decoder: no input may panic,
// and well-sized input must decode.
func FuzzDequantize(f *testing.F) {
	f.Add(uint8(tensor.Q4_K), []byte{1, 2, 3})
	f.Add(uint8(tensor.Q6_K), make([]byte, 210))
	f.Add(uint8(tensor.IQ4_XS), make([]byte, 136))
	f.Fuzz(func(t *testing.T, code uint8, data []byte) {
		dt := tensor.DType(code)
		bs, bb := dt.BlockSize(), dt.BlockBytes()
		if bs == 0 {
			if err := Dequantize(dt, make([]float32, 4), data); err == nil {
				t.Fatal("invalid type accepted")
			}
			return
		}
		n := len(data) / bb * bs
		err := Dequantize(dt, make([]float32, n), data)
		if CanDequantize(dt) && len(data)%bb == 0 && err != nil {
			t.Fatal(err)
		}
		if len(data)%bb != 0 && err == nil {
			t.Fatal("ragged input accepted")
		}
	})
}
