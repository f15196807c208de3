package kernels

import (
	"encoding/binary"
	"fmt"
)

// Unary op codes of unary_f32 (generic.cu).
const (
	UnaryNeg = iota
	UnaryAbs
	UnaryExp
	UnaryLog
	UnarySqrt
	UnaryRsqrt
	UnaryRecip
	UnarySquare
	UnaryTanh
	UnarySigmoid
	UnarySilu
	UnaryGeluErf
	UnaryGeluTanh
	UnaryRelu
	UnarySoftcap // parameter: the cap
	UnarySin
	UnaryCos
	UnaryErf
)

// Binary op codes of binary_f32 (generic.cu).
const (
	BinaryAdd = iota
	BinarySub
	BinaryMul
	BinaryDiv
	BinaryPow
	BinaryMax
	BinaryMin
)

// MaxRank is the highest output rank binary_f32 broadcasts over.
const MaxRank = 6

// Broadcast encodes binary_f32's by-value shape parameter for an output of
// shape out and operands of shapes a and b (NumPy broadcasting, aligned on
// the right). Dims of size 1 are dropped and runs of dims where both
// operands are contiguous or broadcast alike are merged, so most calls end
// up rank 1 or 2.
func Broadcast(out, a, b []int) ([]byte, error) {
	if len(a) > len(out) || len(b) > len(out) {
		return nil, fmt.Errorf("broadcast of %v and %v to %v", a, b, out)
	}
	strides := func(s []int) []int64 {
		st := make([]int64, len(out))
		acc := int64(1)
		for i := len(out) - 1; i >= 0; i-- {
			j := i - (len(out) - len(s))
			if j < 0 || s[j] == 1 {
				continue // stride 0
			}
			st[i] = acc
			acc *= int64(s[j])
		}
		return st
	}
	sa, sb := strides(a), strides(b)
	for i, d := range out {
		ja, jb := i-(len(out)-len(a)), i-(len(out)-len(b))
		if (ja >= 0 && a[ja] != 1 && a[ja] != d) || (jb >= 0 && b[jb] != 1 && b[jb] != d) {
			return nil, fmt.Errorf("broadcast of %v and %v to %v", a, b, out)
		}
	}
	// Collapse: drop size-1 dims; merge dim i into i+1 when, for both
	// operands, stride[i] == stride[i+1]·dims[i+1].
	var dims []int64
	var xa, xb []int64
	for i, d := range out {
		if d == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && xa[k] == sa[i]*int64(d) && xb[k] == sb[i]*int64(d) {
			dims[k] *= int64(d)
			xa[k], xb[k] = sa[i], sb[i]
			continue
		}
		dims, xa, xb = append(dims, int64(d)), append(xa, sa[i]), append(xb, sb[i])
	}
	if len(dims) == 0 {
		dims, xa, xb = []int64{1}, []int64{0}, []int64{0}
	}
	if len(dims) > MaxRank {
		return nil, fmt.Errorf("broadcast of rank %d (after merging dims) exceeds %d", len(dims), MaxRank)
	}
	buf := make([]byte, 3*MaxRank*8+8)
	for i := range dims {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(dims[i]))
		binary.LittleEndian.PutUint64(buf[8*(MaxRank+i):], uint64(xa[i]))
		binary.LittleEndian.PutUint64(buf[8*(2*MaxRank+i):], uint64(xb[i]))
	}
	binary.LittleEndian.PutUint32(buf[3*MaxRank*8:], uint32(len(dims)))
	return buf, nil
}
