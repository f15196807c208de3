package interp

import (
	"math"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Unary is the float64 meaning of a unary elementwise op.
func Unary(op ir.Op, attr any, x float64) float64 {
	switch op {
	case ir.OpNeg:
		return -x
	case ir.OpAbs:
		return math.Abs(x)
	case ir.OpExp:
		return math.Exp(x)
	case ir.OpLog:
		return math.Log(x)
	case ir.OpSqrt:
		return math.Sqrt(x)
	case ir.OpRsqrt:
		return 1 / math.Sqrt(x)
	case ir.OpRecip:
		return 1 / x
	case ir.OpSquare:
		return x * x
	case ir.OpTanh:
		return math.Tanh(x)
	case ir.OpSigmoid:
		return 1 / (1 + math.Exp(-x))
	case ir.OpSilu:
		return x / (1 + math.Exp(-x))
	case ir.OpGeluErf:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case ir.OpGeluTanh:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case ir.OpRelu:
		return math.Max(x, 0)
	case ir.OpSoftcap:
		c := attr.(*ir.SoftcapAttr).Cap
		return c * math.Tanh(x/c)
	case ir.OpSin:
		return math.Sin(x)
	case ir.OpCos:
		return math.Cos(x)
	case ir.OpErf:
		return math.Erf(x)
	}
	return math.NaN()
}

// Binary is the float64 meaning of a binary or comparison op (comparisons
// give 1 or 0).
func Binary(op ir.Op, a, b float64) float64 {
	switch op {
	case ir.OpAdd:
		return a + b
	case ir.OpSub:
		return a - b
	case ir.OpMul:
		return a * b
	case ir.OpDiv:
		return a / b
	case ir.OpPow:
		return math.Pow(a, b)
	case ir.OpMax:
		return math.Max(a, b)
	case ir.OpMin:
		return math.Min(a, b)
	case ir.OpLess:
		return b2f(a < b)
	case ir.OpLessEq:
		return b2f(a <= b)
	case ir.OpGreater:
		return b2f(a > b)
	case ir.OpGreaterEq:
		return b2f(a >= b)
	case ir.OpEqual:
		return b2f(a == b)
	case ir.OpNotEqual:
		return b2f(a != b)
	}
	return math.NaN()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Round converts v to what a value of dtype dt can hold: F16/BF16 round
// to nearest, integers truncate (with integer division semantics handled by
// the caller), Bool becomes 0/1. F32 and F64 values are kept exact: the
// reference computes in float64 throughout.
func Round(dt tensor.DType, v float64) float64 {
	switch dt {
	case tensor.F16:
		return float64(tensor.F16ToF32(tensor.F32ToF16(float32(v))))
	case tensor.BF16:
		return float64(tensor.BF16ToF32(tensor.F32ToBF16(float32(v))))
	case tensor.I8, tensor.U8, tensor.I16, tensor.I32, tensor.I64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return math.Trunc(v)
	case tensor.Bool:
		return b2f(v != 0)
	}
	return v
}
