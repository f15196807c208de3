package kernels

import (
	"fmt"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// GatherF32 copies rows of an f32 table: dst[i·dim:(i+1)·dim] =
// table[ids[i]·dim:…]. An id outside [0, rows) is an error naming it.
func GatherF32(dst, table []float32, dim int, ids []int32) error {
	rows := len(table) / dim
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			return fmt.Errorf("kernels: gather id %d at %d outside table of %d rows", id, i, rows)
		}
		copy(dst[i*dim:(i+1)*dim], table[int(id)*dim:(int(id)+1)*dim])
	}
	return nil
}

// GatherF16 gathers rows of an IEEE half table (bit patterns), widening to f32.
func GatherF16(dst []float32, table []uint16, dim int, ids []int32) error {
	rows := len(table) / dim
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			return fmt.Errorf("kernels: gather id %d at %d outside table of %d rows", id, i, rows)
		}
		F16ToF32(dst[i*dim:(i+1)*dim], table[int(id)*dim:(int(id)+1)*dim])
	}
	return nil
}

// GatherBF16 gathers rows of a bfloat16 table, widening to f32.
func GatherBF16(dst []float32, table []uint16, dim int, ids []int32) error {
	rows := len(table) / dim
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			return fmt.Errorf("kernels: gather id %d at %d outside table of %d rows", id, i, rows)
		}
		BF16ToF32(dst[i*dim:(i+1)*dim], table[int(id)*dim:(int(id)+1)*dim])
	}
	return nil
}

// F16ToF32 widens IEEE half bit patterns (exact).
func F16ToF32(dst []float32, src []uint16) { impl.f16ToF32(dst, src[:len(dst)]) }

// F32ToF16 narrows to IEEE half, rounding to nearest even (overflow to ±Inf,
// NaN stays NaN).
func F32ToF16(dst []uint16, src []float32) { impl.f32ToF16(dst, src[:len(dst)]) }

// BF16ToF32 widens bfloat16 bit patterns (exact).
func BF16ToF32(dst []float32, src []uint16) { impl.bf16ToF32(dst, src[:len(dst)]) }

// F32ToBF16 narrows to bfloat16, rounding to nearest even; NaN stays a
// quiet NaN (as PyTorch's conversion).
func F32ToBF16(dst []uint16, src []float32) { impl.f32ToBF16(dst, src[:len(dst)]) }

func bf16ToF32Go(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = math.Float32frombits(uint32(h) << 16)
	}
}

func f32ToBF16Go(dst []uint16, src []float32) {
	for i, f := range src {
		dst[i] = tensor.F32ToBF16(f)
	}
}

func f16ToF32Go(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = tensor.F16ToF32(h)
	}
}

// f16RowsGo widens rows of d halves at src[r·stride:] into dst [rows, d].
func f16RowsGo(dst []float32, src []uint16, rows, d, stride int) {
	for r := range rows {
		f16ToF32Go(dst[r*d:(r+1)*d], src[r*stride:r*stride+d])
	}
}

func f32ToF16Go(dst []uint16, src []float32) {
	for i, f := range src {
		dst[i] = tensor.F32ToF16(f)
	}
}

// ArgMax returns, for each of the rows of n values in x, the index of the
// largest value (the first one on ties; NaN counts as largest, as PyTorch).
func ArgMax(dst []int32, x []float32, n int) {
	for r := range dst {
		dst[r] = int32(impl.argmax(x[r*n : (r+1)*n]))
	}
}

func argmaxGo(row []float32) int {
	best, bi := row[0], 0
	for i, v := range row {
		if v != v {
			return i
		}
		if v > best {
			best, bi = v, i
		}
	}
	return bi
}

// ReduceOp names a reduction.
type ReduceOp int

// The reductions.
const (
	ReduceSum ReduceOp = iota
	ReduceMean
	ReduceMax
	ReduceMin
)

var reduceNames = [...]string{"sum", "mean", "max", "min"}

func (op ReduceOp) String() string {
	if op >= 0 && int(op) < len(reduceNames) {
		return reduceNames[op]
	}
	return fmt.Sprintf("ReduceOp(%d)", int(op))
}

// Reduce reduces the middle axis of x viewed as [outer, n, inner] into dst
// [outer, inner]: the last axis when inner = 1, any axis otherwise. Sums are
// accumulated in float64. Max/min propagate NaN.
func Reduce(op ReduceOp, dst, x []float32, outer, n, inner int) {
	if inner == 1 {
		for o := range outer {
			row := x[o*n : (o+1)*n]
			dst[o] = reduceRow(op, row)
		}
		return
	}
	var acc []float64
	if op == ReduceSum || op == ReduceMean {
		acc = make([]float64, inner)
	}
	for o := range outer {
		out := dst[o*inner : (o+1)*inner]
		base := x[o*n*inner : (o+1)*n*inner]
		switch op {
		case ReduceSum, ReduceMean:
			clear(acc)
			for k := range n {
				for i, v := range base[k*inner : (k+1)*inner] {
					acc[i] += float64(v)
				}
			}
			for i := range out {
				if op == ReduceMean {
					acc[i] /= float64(n)
				}
				out[i] = float32(acc[i])
			}
		default:
			copy(out, base[:inner])
			for k := 1; k < n; k++ {
				for i, v := range base[k*inner : (k+1)*inner] {
					out[i] = pick2(op, out[i], v)
				}
			}
		}
	}
}

func pick2(op ReduceOp, a, b float32) float32 {
	if a != a || b != b {
		return a + b
	}
	if op == ReduceMax {
		return max(a, b)
	}
	return min(a, b)
}

func reduceRow(op ReduceOp, row []float32) float32 {
	switch op {
	case ReduceSum, ReduceMean:
		var s float64
		for _, v := range row {
			s += float64(v)
		}
		if op == ReduceMean {
			s /= float64(len(row))
		}
		return float32(s)
	}
	m := row[0]
	for _, v := range row[1:] {
		m = pick2(op, m, v)
	}
	return m
}

// Where sets dst[i] = a[i] if cond[i] != 0 else b[i] (contiguous, same length).
func Where(dst []float32, cond []uint8, a, b []float32) {
	n := len(dst)
	cond, a, b = cond[:n], a[:n], b[:n]
	for i, c := range cond {
		if c != 0 {
			dst[i] = a[i]
		} else {
			dst[i] = b[i]
		}
	}
}
