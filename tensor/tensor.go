package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// Tensor is a dense host tensor: a dtype, a row-major shape and the raw
// little-endian bytes. Block-quantized tensors store whole blocks along the
// last dimension. Data may alias memory the Tensor does not own (an mmapped
// file, a backend buffer).
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Bytes returns the storage size of a tensor of this dtype and shape.
func Bytes(dt DType, shape []int) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: negative dimension in shape %v", shape)
		}
		if d != 0 && n > (1<<62)/int64(d) {
			return 0, fmt.Errorf("tensor: shape %v overflows", shape)
		}
		n *= int64(d)
	}
	return dt.RowBytes(n)
}

// New allocates a zeroed tensor.
func New(dt DType, shape ...int) (*Tensor, error) {
	nb, err := Bytes(dt, shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: make([]byte, nb)}, nil
}

// FromF32 makes an F32 tensor holding a copy of v.
func FromF32(v []float32, shape ...int) *Tensor {
	if NumElements(shape) != len(v) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(v), shape))
	}
	t := &Tensor{DType: F32, Shape: append([]int(nil), shape...), Data: make([]byte, 4*len(v))}
	copy(t.F32(), v)
	return t
}

// FromI32 makes an I32 tensor holding a copy of v.
func FromI32(v []int32, shape ...int) *Tensor {
	if NumElements(shape) != len(v) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(v), shape))
	}
	t := &Tensor{DType: I32, Shape: append([]int(nil), shape...), Data: make([]byte, 4*len(v))}
	copy(t.I32(), v)
	return t
}

// NumElements is the element count of t.
func (t *Tensor) NumElements() int { return NumElements(t.Shape) }

// F32 views the data as float32 values; nil unless t is F32.
func (t *Tensor) F32() []float32 {
	if t.DType != F32 || len(t.Data) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&t.Data[0])), len(t.Data)/4)
}

// I32 views the data as int32 values; nil unless t is I32.
func (t *Tensor) I32() []int32 {
	if t.DType != I32 || len(t.Data) < 4 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&t.Data[0])), len(t.Data)/4)
}

// I64 views the data as int64 values; nil unless t is I64.
func (t *Tensor) I64() []int64 {
	if t.DType != I64 || len(t.Data) < 8 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&t.Data[0])), len(t.Data)/8)
}

// Float64s converts every element to float64 (a copy). It supports the
// scalar dtypes; block-quantized tensors need the quant package.
func (t *Tensor) Float64s() ([]float64, error) {
	n := t.NumElements()
	nb, err := Bytes(t.DType, t.Shape)
	if err != nil {
		return nil, err
	}
	if int64(len(t.Data)) < nb {
		return nil, fmt.Errorf("tensor: %d bytes of data for %v%v (need %d)", len(t.Data), t.DType, t.Shape, nb)
	}
	out := make([]float64, n)
	for i := range out {
		v, err := t.DType.LoadFloat64(t.Data, i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// LoadFloat64 reads element i of a little-endian array of dtype d.
func (d DType) LoadFloat64(b []byte, i int) (float64, error) {
	le := func(n int) uint64 {
		var v uint64
		for k := n - 1; k >= 0; k-- {
			v = v<<8 | uint64(b[i*n+k])
		}
		return v
	}
	switch d {
	case F32:
		return float64(math.Float32frombits(uint32(le(4)))), nil
	case F64:
		return math.Float64frombits(le(8)), nil
	case F16:
		return float64(F16ToF32(uint16(le(2)))), nil
	case BF16:
		return float64(BF16ToF32(uint16(le(2)))), nil
	case I8:
		return float64(int8(b[i])), nil
	case U8:
		return float64(b[i]), nil
	case Bool:
		if b[i] != 0 {
			return 1, nil
		}
		return 0, nil
	case I16:
		return float64(int16(le(2))), nil
	case I32:
		return float64(int32(le(4))), nil
	case I64:
		return float64(int64(le(8))), nil
	}
	return 0, fmt.Errorf("tensor: cannot read %v elements as float64", d)
}

// StoreFloat64 writes v as element i of a little-endian array of dtype d,
// rounding to the nearest representable value (integers truncate toward
// zero, as a cast does).
func (d DType) StoreFloat64(b []byte, i int, v float64) error {
	put := func(n int, u uint64) {
		for k := 0; k < n; k++ {
			b[i*n+k] = byte(u >> (8 * k))
		}
	}
	switch d {
	case F32:
		put(4, uint64(math.Float32bits(float32(v))))
	case F64:
		put(8, math.Float64bits(v))
	case F16:
		put(2, uint64(F32ToF16(float32(v))))
	case BF16:
		put(2, uint64(F32ToBF16(float32(v))))
	case I8:
		b[i] = byte(int8(v))
	case U8:
		b[i] = byte(uint8(v))
	case Bool:
		b[i] = 0
		if v != 0 {
			b[i] = 1
		}
	case I16:
		put(2, uint64(uint16(int16(v))))
	case I32:
		put(4, uint64(uint32(int32(v))))
	case I64:
		put(8, uint64(int64(v)))
	default:
		return fmt.Errorf("tensor: cannot store float64 as %v", d)
	}
	return nil
}

// String describes the tensor briefly (dtype and shape, not the values).
func (t *Tensor) String() string { return fmt.Sprintf("%v%v", t.DType, t.Shape) }
