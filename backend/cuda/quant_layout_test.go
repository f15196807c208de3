package cuda

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// runTwin decodes the 8 weights of row `row` at columns e0 .. e0+7 from
// packWeight's layout as qt_run in kernels/quant.cu does (same byte
// positions), in Go, so that the layout is checked against
// quant.Dequantize without a GPU.
func runTwin(dt tensor.DType, main, aux []byte, k, row, e0 int) (v [8]float32) {
	f16 := func(b []byte) float32 { return tensor.F16ToF32(binary.LittleEndian.Uint16(b)) }
	switch dt {
	case tensor.F16, tensor.BF16:
		for i := range 8 {
			h := binary.LittleEndian.Uint16(main[2*(row*k+e0+i):])
			if dt == tensor.F16 {
				v[i] = tensor.F16ToF32(h)
			} else {
				v[i] = math.Float32frombits(uint32(h) << 16)
			}
		}
	case tensor.Q8_0, tensor.Q4_0:
		blk, c := row*(k/32)+e0/32, e0%32
		d := f16(aux[2*blk:])
		for i := range 8 {
			if dt == tensor.Q8_0 {
				v[i] = float32(int8(main[32*blk+c+i])) * d
				continue
			}
			by := main[16*blk+c%16+i]
			q := by & 0xf
			if c >= 16 {
				q = by >> 4
			}
			v[i] = float32(int(q)-8) * d
		}
	case tensor.Q4_K, tensor.Q5_K:
		bytes, qoff := 144, 16
		if dt == tensor.Q5_K {
			bytes, qoff = 176, 48
		}
		c := e0 % 256
		j, g, l := c/64, c/32, c%32
		blk := main[(row*(k/256)+e0/256)*bytes:]
		d, dmin := f16(blk), f16(blk[2:])
		sc := blk[4:16]
		var s, m byte
		if g < 4 {
			s, m = sc[g]&63, sc[g+4]&63
		} else {
			s, m = sc[g+4]&0xf|(sc[g-4]>>6)<<4, sc[g+4]>>4|(sc[g]>>6)<<4
		}
		d1, m1 := d*float32(s), dmin*float32(m)
		for i := range 8 {
			q := blk[qoff+32*j+l+i] >> (4 * (g % 2)) & 0xf
			if dt == tensor.Q5_K {
				q |= (blk[16+l+i] >> g & 1) << 4
			}
			v[i] = float32(d1*float32(q)) - m1
		}
	case tensor.Q6_K:
		c := e0 % 256
		h, g, l := c/128, c/32%4, c%32
		bi := row*(k/256) + e0/256
		blk := main[bi*208:]
		ds := f16(aux[2*bi:]) * float32(int8(blk[192+8*h+l/16+2*g]))
		for i := range 8 {
			lo := blk[64*h+32*(g%2)+l+i] >> (4 * (g / 2)) & 0xf
			hi := blk[128+32*h+l+i] >> (2 * g) & 3
			v[i] = ds * float32(int(lo|hi<<4)-32)
		}
	}
	return v
}

// TestPackedLayout decodes every run of packed weights with the Go twin of
// the CUDA decoder and compares with quant.Dequantize (bit for bit: the
// twin repeats the reference's operations).
func TestPackedLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K} {
		n, k := 3, 512
		src := make([]float32, n*k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		w, err := tensor.New(dt, n, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := quant.Quantize(dt, w.Data, src); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, n*k)
		if err := quant.Dequantize(dt, want, w.Data); err != nil {
			t.Fatal(err)
		}
		main, aux, err := packWeight(dt, n, k, w.Data)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := dt.RowBytes(int64(n * k))
		if int64(len(main)+len(aux)) != stored {
			t.Fatalf("%v: packed %d+%d bytes, stored %d", dt, len(main), len(aux), stored)
		}
		for row := range n {
			for e0 := 0; e0 < k; e0 += 8 {
				v := runTwin(dt, main, aux, k, row, e0)
				for i, got := range v {
					if want := want[row*k+e0+i]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%v: row %d column %d = %v, want %v", dt, row, e0+i, got, want)
					}
				}
			}
		}
	}
}

func TestPackWeightErrors(t *testing.T) {
	for _, c := range []struct {
		dt   tensor.DType
		n, k int
		size int
		want string
	}{
		{tensor.Q4_K, 2, 256, 100, "want 288"},
		{tensor.Q8_0, 1, 48, 34, "not a multiple"},
		{tensor.Q5_0, 1, 32, 22, "no CUDA layout"},
	} {
		_, _, err := packWeight(c.dt, c.n, c.k, make([]byte, c.size))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v [%d, %d] with %d bytes: error %v, want %q", c.dt, c.n, c.k, c.size, err, c.want)
		}
	}
}
