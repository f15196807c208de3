// Package safetensors reads and writes the safetensors format of Hugging
// Face: an 8-byte little-endian header length, a JSON header describing
// every tensor (dtype, shape, byte range) plus optional string metadata
// under "__metadata__", and the tensors' bytes.
//
// Open maps the file read-only and validates the header before trusting
// it: the header must be at most MaxHeaderSize bytes and fit in the file;
// every tensor's byte range must lie in the data section, overlap no other,
// and be exactly product(shape) × the dtype's size. Tensor bytes are
// zero-copy slices of the mapping. Shapes are outermost first (row-major),
// as in PyTorch.
//
// Sharded checkpoints (model-00001-of-00002.safetensors plus
// model.safetensors.index.json) are read with ReadIndex.
package safetensors

import (
	"errors"
	"fmt"

	"github.com/rlx-go/rlx/tensor"
)

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// the same 100 MB limit).
const MaxHeaderSize = 100 << 20

// MetadataKey is the header entry holding string metadata.
const MetadataKey = "__metadata__"

// maxRank bounds the number of dimensions of a tensor, so that a hostile
// header cannot make a huge shape slice.
const maxRank = 64

var dtypeNames = map[string]tensor.DType{
	"F64": tensor.F64, "F32": tensor.F32, "F16": tensor.F16, "BF16": tensor.BF16,
	"I64": tensor.I64, "I32": tensor.I32, "I16": tensor.I16, "I8": tensor.I8,
	"U8": tensor.U8, "BOOL": tensor.Bool, "F8_E4M3": tensor.F8E4M3, "F8_E5M2": tensor.F8E5M2,
}

// ParseDType maps a safetensors dtype string ("F32", "BF16", "F8_E4M3", …)
// onto rlx's element type. ok is false for dtypes rlx does not handle
// (unsigned 16-64-bit integers, 4- and 6-bit floats, F8_E8M0, …).
func ParseDType(s string) (tensor.DType, bool) {
	d, ok := dtypeNames[s]
	return d, ok
}

// DTypeName returns the safetensors spelling of d ("BOOL", "F8_E4M3", …).
func DTypeName(d tensor.DType) (string, bool) {
	for s, x := range dtypeNames {
		if x == d {
			return s, true
		}
	}
	return "", false
}

// ErrTruncated: the file is shorter than its header says.
var ErrTruncated = errors.New("file is truncated")

// Error reports a problem with a safetensors file: which file, which field
// (a tensor name, "header", "__metadata__", …), and what is wrong.
type Error struct {
	File  string
	Field string
	Err   error
}

// Error formats the problem as "safetensors: FILE: FIELD: cause".
func (e *Error) Error() string {
	s := "safetensors: " + e.File
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func errorf(file, field, format string, args ...any) error {
	return &Error{File: file, Field: field, Err: fmt.Errorf(format, args...)}
}
