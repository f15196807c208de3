package gemm

import (
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// FuzzShapes feeds arbitrary sizes, strides and buffer lengths to the
// entry points: they must return an error or compute, never panic.
func FuzzShapes(f *testing.F) {
	f.Add(int8(2), int8(3), int8(4), int8(1), int8(0), int8(0), int8(0), int8(0), int8(0), int8(0), int8(0), uint8(0), int16(12), int16(8), int16(6))
	f.Add(int8(5), int8(7), int8(0), int8(3), int8(2), int8(9), int8(4), int8(0), int8(1), int8(1), int8(0), uint8(1), int16(200), int16(100), int16(40))
	f.Add(int8(1), int8(40), int8(17), int8(2), int8(-1), int8(0), int8(5), int8(0), int8(3), int8(0), int8(0), uint8(6), int16(40), int16(700), int16(80))
	f.Fuzz(func(t *testing.T, m, n, k, batch, lda, ldb, ldc, sa, sb, sc, layout int8, dt uint8, la, lb, lc int16) {
		a := make([]float32, max(0, int(la)))
		c := make([]float32, max(0, int(lc)))
		b := B{Layout: Layout(layout & 3), Stride: int(ldb)}
		switch dt % 4 {
		case 1:
			b.DType = tensor.F16
		case 2:
			b.DType = tensor.BF16
		case 3:
			b.DType = tensor.I8
		}
		if b.DType == tensor.F16 || b.DType == tensor.BF16 {
			b.U16 = make([]uint16, max(0, int(lb)))
		} else {
			b.F32 = make([]float32, max(0, int(lb)))
		}
		_ = BatchedMatMul(nil, int(batch), Matrix{c, int(ldc)}, int(sc), Matrix{a, int(lda)}, int(sa), b, int(sb), int(m), int(n), int(k), dt&4 != 0)
		_ = MatMulItems(nil, []Item{{int(sa), int(sb), int(sc)}}, Matrix{c, int(ldc)}, Matrix{a, int(lda)}, b, int(m), int(n), int(k), dt&8 != 0)
		if pb, err := Pack(nil, b, int(n), int(k)); err == nil {
			_ = pb.MatMul(nil, Matrix{c, int(ldc)}, Matrix{a, int(lda)}, int(m), false)
		}
	})
}
