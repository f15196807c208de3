package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// DataType is ONNX's TensorProto.DataType.
type DataType int32

// Tensor element types (the subset with fixed-size elements, plus STRING).
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

var dataTypeInfo = map[DataType]struct {
	name string
	size int
}{
	Undefined: {"UNDEFINED", 0}, Float: {"FLOAT", 4}, Uint8: {"UINT8", 1}, Int8: {"INT8", 1},
	Uint16: {"UINT16", 2}, Int16: {"INT16", 2}, Int32: {"INT32", 4}, Int64: {"INT64", 8},
	String: {"STRING", 0}, Bool: {"BOOL", 1}, Float16: {"FLOAT16", 2}, Double: {"DOUBLE", 8},
	Uint32: {"UINT32", 4}, Uint64: {"UINT64", 8}, Complex64: {"COMPLEX64", 8},
	Complex128: {"COMPLEX128", 16}, BFloat16: {"BFLOAT16", 2},
}

func (t DataType) String() string {
	if i, ok := dataTypeInfo[t]; ok {
		return i.name
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// Size is the number of bytes one element takes in raw_data, or 0 for types
// without a fixed size (STRING) and types this package does not know.
func (t DataType) Size() int { return dataTypeInfo[t].size }

// maxDims bounds a tensor's rank; ONNX tensors in practice have at most 8.
const maxDims = 32

// Tensor is a decoded TensorProto. Its elements are held in the encoding the
// file used (raw bytes or one of the typed repeated fields); the accessor
// methods convert and check sizes.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	// External is set when the data lives in a separate file
	// (data_location = EXTERNAL); this package does not read such data.
	External bool

	raw    []byte
	hasRaw bool
	f32    []uint32 // float_data (also FLOAT16/BFLOAT16 bits, per the spec)
	i32    []int64  // int32_data, decoded as varints
	i64    []int64  // int64_data
	f64    []uint64 // double_data
	u64    []uint64 // uint64_data
	strs   [][]byte
}

func decodeTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	err := eachField(b, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			t.Dims, err = f.repeatedVarint(t.Dims, "dims")
			if len(t.Dims) > maxDims {
				return fmt.Errorf("dims: rank %d exceeds %d", len(t.Dims), maxDims)
			}
		case 2:
			var d int32
			d, err = f.int32("data_type")
			t.DataType = DataType(d)
		case 4:
			t.f32, err = f.repeatedFixed32(t.f32, "float_data")
		case 5:
			t.i32, err = f.repeatedVarint(t.i32, "int32_data")
		case 6:
			if err = f.want(wireBytes, "string_data"); err == nil {
				t.strs = append(t.strs, append([]byte(nil), f.b...))
			}
		case 7:
			t.i64, err = f.repeatedVarint(t.i64, "int64_data")
		case 8:
			t.Name, err = f.str("name")
		case 9:
			if err = f.want(wireBytes, "raw_data"); err == nil {
				t.raw, t.hasRaw = append([]byte(nil), f.b...), true
			}
		case 10:
			t.f64, err = f.repeatedFixed64(t.f64, "double_data")
		case 11:
			t.u64, err = f.repeatedFixed64(t.u64, "uint64_data")
		case 13:
			t.External = true
		case 14:
			var loc int32
			loc, err = f.int32("data_location")
			if loc == 1 {
				t.External = true
			}
		}
		return err
	})
	if err != nil {
		if t.Name != "" {
			return nil, fmt.Errorf("%q: %w", t.Name, err)
		}
		return nil, err
	}
	for i, d := range t.Dims {
		if d < 0 {
			return nil, fmt.Errorf("%q: dims[%d] = %d is negative", t.Name, i, d)
		}
	}
	if _, err := t.NumElements(); err != nil {
		return nil, err
	}
	return t, nil
}

// NumElements is the product of Dims (1 for a scalar), or an error if it
// overflows.
func (t *Tensor) NumElements() (int64, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("%q: element count of dims %v overflows", t.Name, t.Dims)
		}
		n *= d
	}
	return n, nil
}

// DType maps the ONNX element type to rlx's, or tensor.Invalid.
func (t *Tensor) DType() tensor.DType {
	switch t.DataType {
	case Float:
		return tensor.F32
	case Float16:
		return tensor.F16
	case BFloat16:
		return tensor.BF16
	case Double:
		return tensor.F64
	case Int8:
		return tensor.I8
	case Uint8:
		return tensor.U8
	case Int16:
		return tensor.I16
	case Int32:
		return tensor.I32
	case Int64:
		return tensor.I64
	case Bool:
		return tensor.Bool
	}
	return tensor.Invalid
}

var errExternal = errors.New("data is stored in an external file, which is not supported")

// count checks that the stored element count matches Dims.
func (t *Tensor) count(stored int) (int, error) {
	n, _ := t.NumElements()
	if int64(stored) != n {
		return 0, fmt.Errorf("tensor %q: %d elements stored, dims %v need %d", t.Name, stored, t.Dims, n)
	}
	return stored, nil
}

// Float32 returns the tensor's elements as float32. FLOAT, FLOAT16,
// BFLOAT16 and DOUBLE tensors are converted; other types are an error.
func (t *Tensor) Float32() ([]float32, error) {
	if t.External {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, errExternal)
	}
	switch t.DataType {
	case Float, Float16, BFloat16, Double:
	default:
		return nil, fmt.Errorf("tensor %q: element type %s is not a float type", t.Name, t.DataType)
	}
	if t.hasRaw {
		sz := t.DataType.Size()
		if len(t.raw)%sz != 0 {
			return nil, fmt.Errorf("tensor %q: raw_data of %d bytes is not a whole number of %s elements", t.Name, len(t.raw), t.DataType)
		}
		n, err := t.count(len(t.raw) / sz)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i := range out {
			switch t.DataType {
			case Float:
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.raw[4*i:]))
			case Float16:
				out[i] = tensor.F16ToF32(binary.LittleEndian.Uint16(t.raw[2*i:]))
			case BFloat16:
				out[i] = tensor.BF16ToF32(binary.LittleEndian.Uint16(t.raw[2*i:]))
			case Double:
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.raw[8*i:])))
			}
		}
		return out, nil
	}
	switch t.DataType {
	case Float:
		n, err := t.count(len(t.f32))
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, u := range t.f32 {
			out[i] = math.Float32frombits(u)
		}
		return out, nil
	case Float16, BFloat16:
		// The spec stores 16-bit floats in int32_data, one per element.
		n, err := t.count(len(t.i32))
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, u := range t.i32 {
			if t.DataType == Float16 {
				out[i] = tensor.F16ToF32(uint16(u))
			} else {
				out[i] = tensor.BF16ToF32(uint16(u))
			}
		}
		return out, nil
	default: // Double
		n, err := t.count(len(t.f64))
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, u := range t.f64 {
			out[i] = float32(math.Float64frombits(u))
		}
		return out, nil
	}
}

// Int64 returns the elements of an integer or boolean tensor as int64.
func (t *Tensor) Int64() ([]int64, error) {
	if t.External {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, errExternal)
	}
	sz := t.DataType.Size()
	switch t.DataType {
	case Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Bool:
	default:
		return nil, fmt.Errorf("tensor %q: element type %s is not an integer type", t.Name, t.DataType)
	}
	if t.hasRaw {
		if len(t.raw)%sz != 0 {
			return nil, fmt.Errorf("tensor %q: raw_data of %d bytes is not a whole number of %s elements", t.Name, len(t.raw), t.DataType)
		}
		n, err := t.count(len(t.raw) / sz)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			p := t.raw[sz*i:]
			switch t.DataType {
			case Int8:
				out[i] = int64(int8(p[0]))
			case Uint8, Bool:
				out[i] = int64(p[0])
			case Int16:
				out[i] = int64(int16(binary.LittleEndian.Uint16(p)))
			case Uint16:
				out[i] = int64(binary.LittleEndian.Uint16(p))
			case Int32:
				out[i] = int64(int32(binary.LittleEndian.Uint32(p)))
			case Uint32:
				out[i] = int64(binary.LittleEndian.Uint32(p))
			default:
				out[i] = int64(binary.LittleEndian.Uint64(p))
			}
		}
		return out, nil
	}
	var src []int64
	switch t.DataType {
	case Int64:
		src = t.i64
	case Uint32, Uint64:
		src = make([]int64, len(t.u64))
		for i, u := range t.u64 {
			src[i] = int64(u)
		}
	default: // the narrow types live in int32_data
		src = make([]int64, len(t.i32))
		for i, v := range t.i32 {
			src[i] = int64(int32(v))
		}
	}
	n, err := t.count(len(src))
	if err != nil {
		return nil, err
	}
	return append([]int64(nil), src[:n]...), nil
}

// Shape returns Dims as ints (they were checked non-negative at decode).
func (t *Tensor) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}
