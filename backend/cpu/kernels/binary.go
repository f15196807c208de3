package kernels

import "fmt"

// BinaryOp names an elementwise function of two float32 operands.
type BinaryOp int

// The elementwise binary operations.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	Max // NaN in either operand gives NaN
	Min // NaN in either operand gives NaN
	Pow
	numBinary
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "max", "min", "pow"}

func (op BinaryOp) String() string {
	if op >= 0 && op < numBinary {
		return binaryNames[op]
	}
	return fmt.Sprintf("BinaryOp(%d)", int(op))
}

// Binary sets dst[i] = a[i] op b[i] for i < len(dst). dst may alias a or b exactly.
func Binary(op BinaryOp, dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	if op >= Add && op <= Div {
		impl.binary[op](dst, a, b)
		return
	}
	for i := range dst {
		dst[i] = binaryScalar(op, a[i], b[i])
	}
}

func addGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func subGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

func mulGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func divGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

// BinaryScalar sets dst[i] = a[i] op s.
func BinaryScalar(op BinaryOp, dst, a []float32, s float32) {
	a = a[:len(dst)]
	if op >= Add && op <= Div {
		impl.scalar[op](dst, a, s)
		return
	}
	for i, v := range a {
		dst[i] = binaryScalar(op, v, s)
	}
}

func addsGo(dst, a []float32, s float32) {
	for i, v := range a {
		dst[i] = v + s
	}
}

func subsGo(dst, a []float32, s float32) {
	for i, v := range a {
		dst[i] = v - s
	}
}

func mulsGo(dst, a []float32, s float32) {
	for i, v := range a {
		dst[i] = v * s
	}
}

func divsGo(dst, a []float32, s float32) {
	for i, v := range a {
		dst[i] = v / s
	}
}

// ScalarBinary sets dst[i] = s op b[i] (for the non-commutative ops).
func ScalarBinary(op BinaryOp, dst []float32, s float32, b []float32) {
	b = b[:len(dst)]
	for i, v := range b {
		dst[i] = binaryScalar(op, s, v)
	}
}

func binaryScalar(op BinaryOp, x, y float32) float32 {
	switch op {
	case Add:
		return x + y
	case Sub:
		return x - y
	case Mul:
		return x * y
	case Div:
		return x / y
	case Max:
		if x != x || y != y {
			return x + y
		}
		return max(x, y)
	case Min:
		if x != x || y != y {
			return x + y
		}
		return min(x, y)
	case Pow:
		return powf(x, y)
	}
	panic(fmt.Sprintf("kernels: unknown binary op %d", int(op)))
}

// BinaryStrided evaluates dst = a op b over the index space shape (row-major,
// dst contiguous). aStrides and bStrides give each operand's element stride
// per dimension; a stride of 0 broadcasts. Only the outer rows lo ≤ r < hi are
// computed, where a row is one run of the last dimension, so callers can split
// the work (rows = product of shape[:len(shape)-1], 1 for a scalar shape).
func BinaryStrided(op BinaryOp, dst []float32, shape []int, a []float32, aStrides []int, b []float32, bStrides []int, lo, hi int) {
	if len(shape) == 0 {
		if lo < hi {
			dst[0] = binaryScalar(op, a[0], b[0])
		}
		return
	}
	nd := len(shape)
	inner := shape[nd-1]
	as, bs := aStrides[nd-1], bStrides[nd-1]
	for r := lo; r < hi; r++ {
		// Decompose the row index into the outer coordinates.
		ao, bo, rem := 0, 0, r
		for d := nd - 2; d >= 0; d-- {
			c := rem % shape[d]
			rem /= shape[d]
			ao += c * aStrides[d]
			bo += c * bStrides[d]
		}
		out := dst[r*inner : (r+1)*inner]
		switch {
		case as == 1 && bs == 1:
			Binary(op, out, a[ao:ao+inner], b[bo:bo+inner])
		case as == 1 && bs == 0:
			BinaryScalar(op, out, a[ao:ao+inner], b[bo])
		case as == 0 && bs == 1:
			ScalarBinary(op, out, a[ao], b[bo:bo+inner])
		default:
			for i := range out {
				out[i] = binaryScalar(op, a[ao+i*as], b[bo+i*bs])
			}
		}
	}
}

// SiLUMul sets dst[i] = silu(a[i])·b[i] (SwiGLU).
func SiLUMul(dst, a, b []float32) { impl.siluMul(dst, a[:len(dst)], b[:len(dst)]) }

// GELUMul sets dst[i] = gelu(a[i])·b[i] (GeGLU, erf form).
func GELUMul(dst, a, b []float32) { impl.geluMul(dst, a[:len(dst)], b[:len(dst)]) }

// GELUTanhMul sets dst[i] = gelu_tanh(a[i])·b[i] (GeGLU as Gemma uses it).
func GELUTanhMul(dst, a, b []float32) { impl.geluTanhMul(dst, a[:len(dst)], b[:len(dst)]) }

func siluMulGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = siluf(a[i]) * b[i]
	}
}

func geluMulGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = geluf(a[i]) * b[i]
	}
}

func geluTanhMulGo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = geluTanhf(a[i]) * b[i]
	}
}
