// Package weights gives one view over a checkpoint's tensors, whatever the
// files: a safetensors file or a sharded folder, a GGUF file, a split GGUF,
// or a folder holding several GGUF quantizations of one model.
//
// A Map opens the files with read-only memory maps and hands out Tensors
// that are zero-copy views of them: nothing is read from disk until a
// tensor's bytes are used, and quantized GGUF tensors stay packed.
//
// Shapes are outermost first (PyTorch and safetensors order, row-major)
// everywhere in a Map, for GGUF files too: GGUF's own ne[] order (innermost
// first) is reversed when the Map is built, so a GGUF weight with ne
// [in, out] has Shape [out, in], exactly like its safetensors twin.
// Tensor.GGUFDims gives ne[] back.
package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/rlx-go/rlx/format/pages"
	"github.com/rlx-go/rlx/tensor"
)

// Format names the file format behind a Map.
type Format string

// The formats a Map reads.
const (
	GGUF        Format = "gguf"
	Safetensors Format = "safetensors"
)

// Tensor is a zero-copy view of one stored tensor. Data aliases the file's
// memory map: it is valid until the Map is closed and must not be written.
type Tensor struct {
	Name string
	// DType is the element type; tensor.Invalid when the file's type is
	// one rlx cannot compute with (TypeName then says which).
	DType tensor.DType
	// TypeName is the file's own name for the type ("Q4_K", "IQ2_XXS", "BF16").
	TypeName string
	Shape    []int64 // outermost first
	Data     []byte
	File     string // the file holding the tensor
}

// Elements is the number of elements (1 for a 0-D tensor).
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// GGUFDims returns the shape in GGUF/ggml ne[] order: innermost first.
func (t Tensor) GGUFDims() []uint64 {
	d := make([]uint64, len(t.Shape))
	for i, s := range t.Shape {
		d[len(t.Shape)-1-i] = uint64(s)
	}
	return d
}

// ErrQuantized is returned by Float32 for block-quantized tensors, which
// stay packed; package quant dequantizes them.
var ErrQuantized = errors.New("tensor is block-quantized")

// Float32 converts a tensor of a scalar type (floats, including F16, BF16
// and the two FP8 kinds, integers and bools) to a new []float32. Quantized
// tensors yield an error wrapping ErrQuantized.
func (t Tensor) Float32() ([]float32, error) {
	if !t.DType.Valid() {
		return nil, fmt.Errorf("tensor %q: type %s is not supported", t.Name, t.TypeName)
	}
	if t.DType.Quantized() {
		return nil, fmt.Errorf("tensor %q: %w (%s); dequantize it with package quant", t.Name, ErrQuantized, t.DType)
	}
	n := t.Elements()
	size := int64(t.DType.BlockBytes())
	if n < 0 || n*size != int64(len(t.Data)) {
		return nil, fmt.Errorf("tensor %q: %d bytes for %d elements of %s", t.Name, len(t.Data), n, t.DType)
	}
	out := make([]float32, n)
	p := t.Data
	le := binary.LittleEndian
	switch t.DType {
	case tensor.F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(p[4*i:]))
		}
	case tensor.F16:
		for i := range out {
			out[i] = tensor.F16ToF32(le.Uint16(p[2*i:]))
		}
	case tensor.BF16:
		for i := range out {
			out[i] = tensor.BF16ToF32(le.Uint16(p[2*i:]))
		}
	case tensor.F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(p[8*i:])))
		}
	case tensor.F8E4M3:
		for i := range out {
			out[i] = f8e4m3ToF32(p[i])
		}
	case tensor.F8E5M2:
		for i := range out {
			out[i] = f8e5m2ToF32(p[i])
		}
	case tensor.I8:
		for i := range out {
			out[i] = float32(int8(p[i]))
		}
	case tensor.U8:
		for i := range out {
			out[i] = float32(p[i])
		}
	case tensor.Bool:
		for i := range out {
			if p[i] != 0 {
				out[i] = 1
			}
		}
	case tensor.I16:
		for i := range out {
			out[i] = float32(int16(le.Uint16(p[2*i:])))
		}
	case tensor.I32:
		for i := range out {
			out[i] = float32(int32(le.Uint32(p[4*i:])))
		}
	case tensor.I64:
		for i := range out {
			out[i] = float32(int64(le.Uint64(p[8*i:])))
		}
	default:
		return nil, fmt.Errorf("tensor %q: no float32 conversion for %s", t.Name, t.DType)
	}
	return out, nil
}

// f8e4m3ToF32 decodes OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN).
func f8e4m3ToF32(b uint8) float32 {
	sign := float32(1)
	if b&0x80 != 0 {
		sign = -1
	}
	exp := int(b>>3) & 0xF
	man := float32(b & 7)
	switch {
	case exp == 0xF && b&7 == 7:
		return float32(math.NaN())
	case exp == 0:
		return sign * man / 8 * float32(math.Ldexp(1, -6))
	}
	return sign * (1 + man/8) * float32(math.Ldexp(1, exp-7))
}

// f8e5m2ToF32 decodes OCP FP8 E5M2, which is the top byte of an IEEE half.
func f8e5m2ToF32(b uint8) float32 { return tensor.F16ToF32(uint16(b) << 8) }

// Error reports a problem with one tensor or file of a Map.
type Error struct {
	Path   string // file or folder
	Tensor string // "" when the problem is not about one tensor
	Err    error
}

// Error formats the problem as "weights: PATH: tensor "NAME": cause".
func (e *Error) Error() string {
	s := "weights: " + e.Path
	if e.Tensor != "" {
		s += ": tensor " + strconv.Quote(e.Tensor)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound: the Map has no tensor of that name (under any alias).
var ErrNotFound = errors.New("no such tensor")

// Release drops the resident pages of data — a tensor's bytes, or a part
// of them — from memory when they come from a memory-mapped file, and
// reports the bytes released. A backend calls it after packing a weight
// into its own copy, so the file's pages stop counting as resident beside
// the copy. The bytes stay valid: a later read brings them back from the
// page cache. Bytes not from a mapping are left alone (0).
func Release(data []byte) int64 { return pages.Release(data) }
