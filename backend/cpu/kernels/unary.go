package kernels

import (
	"fmt"
	"math"
)

// UnaryOp names an elementwise function of one float32 operand.
type UnaryOp int

// The elementwise unary operations.
const (
	Neg      UnaryOp = iota
	Exp              // e^x
	Log              // natural logarithm
	Sqrt             // √x
	Rsqrt            // 1/√x
	Tanh             // hyperbolic tangent
	Sigmoid          // 1/(1+e^-x)
	SiLU             // x·sigmoid(x)
	GELU             // x·Φ(x), PyTorch gelu (erf form)
	GELUTanh         // PyTorch gelu(approximate="tanh")
	ReLU             // max(x, 0); NaN stays NaN
	Abs              // |x|
	Erf              // error function
	numUnary
)

var unaryNames = [...]string{"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "silu", "gelu", "gelu_tanh", "relu", "abs", "erf"}

func (op UnaryOp) String() string {
	if op >= 0 && op < numUnary {
		return unaryNames[op]
	}
	return fmt.Sprintf("UnaryOp(%d)", int(op))
}

// Unary sets dst[i] = op(src[i]) for i < len(dst). src must be at least as
// long as dst; dst and src may be the same slice (exact aliasing only).
func Unary(op UnaryOp, dst, src []float32) {
	src = src[:len(dst)]
	switch op {
	case Neg:
		for i, v := range src {
			dst[i] = -v
		}
	case Exp:
		impl.exp(dst, src)
	case Log:
		for i, v := range src {
			dst[i] = float32(math.Log(float64(v)))
		}
	case Sqrt:
		for i, v := range src {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case Rsqrt:
		for i, v := range src {
			dst[i] = float32(1 / math.Sqrt(float64(v)))
		}
	case Tanh:
		impl.tanh(dst, src)
	case Sigmoid:
		impl.sigmoid(dst, src)
	case SiLU:
		impl.silu(dst, src)
	case GELU:
		impl.gelu(dst, src)
	case GELUTanh:
		impl.geluTanh(dst, src)
	case ReLU:
		for i, v := range src {
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
	case Abs:
		for i, v := range src {
			dst[i] = abs32(v)
		}
	case Erf:
		for i, v := range src {
			dst[i] = erff(v)
		}
	default:
		panic(fmt.Sprintf("kernels: unknown unary op %d", int(op)))
	}
}

// Softcap sets dst[i] = c·tanh(src[i]/c), Gemma 2's logit soft-capping.
func Softcap(dst, src []float32, c float32) {
	BinaryScalar(Div, dst, src, c)
	impl.tanh(dst, dst)
	BinaryScalar(Mul, dst, dst, c)
}

// Scale sets dst[i] = src[i]·s.
func Scale(dst, src []float32, s float32) { BinaryScalar(Mul, dst, src, s) }

// Generic (pure-Go) slice versions: the fallbacks and the test oracles of
// the assembly.

func expGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = expf(v)
	}
}

func sigmoidGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = sigmoidf(v)
	}
}

func siluGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = siluf(v)
	}
}

func tanhGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = tanhf(v)
	}
}

func geluGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = geluf(v)
	}
}

func geluTanhGo(dst, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = geluTanhf(v)
	}
}
