package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// benchShapes are the shapes the speed goals name plus the LLM layers
// around them (M×N×K; "nk" multiplies by a [N,K] weight).
var benchShapes = []struct {
	m, n, k int
	layout  Layout
	dt      tensor.DType
}{
	{1024, 1024, 1024, KN, tensor.F32},
	{1024, 1024, 1024, NK, tensor.F32},
	{128, 3072, 1024, NK, tensor.F32},
	{128, 1024, 3072, NK, tensor.F32},
	{128, 3072, 1024, NK, tensor.F16},
	{128, 3072, 1024, NK, tensor.BF16},
	{128, 8192, 2048, NK, tensor.F16}, // Llama-3.2-1B gate/up
	{128, 2048, 8192, NK, tensor.F16}, // and down
	{1, 8192, 2048, NK, tensor.F32},
	{1, 8192, 2048, NK, tensor.F16},
	{1, 8192, 2048, NK, tensor.BF16},
	{4, 3072, 1024, NK, tensor.F32},
}

// BenchmarkMatMul times each shape with one set of operands, so the GEMV
// shapes' weights are partly L3-resident between calls: their GB/s is an
// upper bound. `rlx bench gemm` cycles through weight copies for the
// memory-bound figure.
func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	p := parallel.Default()
	for _, s := range benchShapes {
		o := newOperands(r, s.m, s.n, s.k, s.layout, s.dt, false)
		c := make([]float32, len(o.c0))
		for _, mode := range []int{modeCall, modePack, modeHalf} {
			if (mode == modePack && s.m <= gemvMaxM) || (mode == modeHalf && s.dt == tensor.F32) {
				continue
			}
			packed := mode != modeCall
			name := fmt.Sprintf("%dx%dx%d/%v/%v/pack=%v", s.m, s.n, s.k, s.layout, s.dt, [...]string{"no", "f32", "half"}[mode])
			b.Run(name, func(b *testing.B) {
				var pb *PackedB
				var err error
				switch mode {
				case modePack:
					pb, err = Pack(p, o.b, s.n, s.k)
				case modeHalf:
					pb, err = PackHalf(p, o.b, s.n, s.k)
				}
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					var err error
					if packed {
						err = pb.MatMul(p, Matrix{c, o.ldc}, Matrix{o.a, o.lda}, s.m, false)
					} else {
						err = MatMul(p, Matrix{c, o.ldc}, Matrix{o.a, o.lda}, o.b, s.m, s.n, s.k, false)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.m*s.n*s.k)/sec/1e9, "GFLOP/s")
				if s.m <= gemvMaxM {
					bytes := float64(s.n * s.k * 4)
					if s.dt != tensor.F32 {
						bytes /= 2
					}
					b.ReportMetric(bytes/sec/1e9, "GB/s")
				}
			})
		}
	}
}

// BenchmarkMicro times the register tile alone on L1/L2-resident panels:
// the ceiling the blocked product can approach.
func BenchmarkMicro(b *testing.B) {
	for _, tr := range allTiers() {
		for _, k := range []int{kc} {
			rows := tr.mr
			a := make([]float32, k*rows)
			bp := make([]float32, k*tr.nr)
			c := make([]float32, rows*tr.nr)
			b.Run(fmt.Sprintf("%v/%dx%d/k=%d", tr.level, rows, tr.nr, k), func(b *testing.B) {
				for b.Loop() {
					tr.micro(rows, tr.nr, k, a, bp, c, tr.nr, true)
				}
				b.ReportMetric(2*float64(rows*tr.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
				if tr.half[dt] == nil {
					continue
				}
				bh := make([]uint16, k*tr.nr)
				b.Run(fmt.Sprintf("%v/%dx%d/k=%d/%v", tr.level, rows, tr.nr, k, dt), func(b *testing.B) {
					for b.Loop() {
						tr.microHalf(dt, rows, tr.nr, k, a, bh, c, tr.nr, true)
					}
					b.ReportMetric(2*float64(rows*tr.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkGEMVMemory times decode products (M = 1) over enough copies of
// the weight (≥ 256 MiB in all) that every call reads it from memory, as a
// decode step does: weights as stored (rows) and packed by PackHalf
// (strips). GB/s counts the weight's bytes.
func BenchmarkGEMVMemory(b *testing.B) {
	p := parallel.Default()
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ n, k int }{{8192, 2048}, {3072, 1024}, {1024, 3072}} {
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			eb := 4
			if dt != tensor.F32 {
				eb = 2
			}
			per := s.n * s.k * eb
			copies := max(2, (256<<20)/per)
			bs := make([]B, copies)
			var hs []*PackedB
			for i := range bs {
				bs[i] = B{Layout: NK, DType: dt}
				if dt == tensor.F32 {
					bs[i].F32 = randF32(r, s.n*s.k)
				} else {
					bs[i].U16 = make([]uint16, s.n*s.k)
					for j := range bs[i].U16 {
						// Finite values of either type: exponent bits below all-ones.
						bs[i].U16[j] = uint16(r.Uint32()) & 0xbbff
					}
				}
				if dt != tensor.F32 {
					h, err := PackHalf(p, bs[i], s.n, s.k)
					if err != nil {
						b.Fatal(err)
					}
					hs = append(hs, h)
				}
			}
			x := randF32(r, s.k)
			y := make([]float32, s.n)
			for _, mode := range []string{"rows", "strips"} {
				if mode == "strips" && hs == nil {
					continue
				}
				b.Run(fmt.Sprintf("%dx%d/%v/%s", s.n, s.k, dt, mode), func(b *testing.B) {
					i := 0
					for b.Loop() {
						var err error
						if mode == "rows" {
							err = MatMul(p, Matrix{Data: y}, Matrix{Data: x}, bs[i%copies], 1, s.n, s.k, false)
						} else {
							err = hs[i%copies].MatMul(p, Matrix{Data: y}, Matrix{Data: x}, 1, false)
						}
						if err != nil {
							b.Fatal(err)
						}
						i++
					}
					b.ReportMetric(float64(per)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
	}
}
