// Package gguf reads and writes GGUF files (versions 2 and 3), the
// single-file checkpoint format of llama.cpp and ggml.
//
// A GGUF file is a little-endian header (magic "GGUF", version, tensor and
// key/value counts), typed key/value metadata, one descriptor per tensor
// (name, dimensions, ggml type, offset), and a data section aligned to
// general.alignment (32 bytes by default) holding the tensors' bytes.
//
// Open maps the file and validates every length, count and offset against
// the file's size before anything is allocated, so a damaged or hostile file
// yields an *Error naming the file and the field instead of a panic or a
// huge allocation. Tensor bytes are returned as zero-copy slices of the
// mapping.
//
// Dimensions: GGUF stores ggml's ne[] order, where Dims[0] is the innermost
// (fastest varying) dimension. TensorInfo.Shape reverses it into the
// outermost-first order of PyTorch and safetensors; the layers above format/
// use that order.
package gguf

import (
	"fmt"

	"github.com/rlx-go/rlx/tensor"
)

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// DefaultAlignment is the data alignment used when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the largest number of dimensions a tensor may have (ggml's limit).
const MaxDims = 4

// Well-known metadata keys.
const (
	KeyArchitecture = "general.architecture"
	KeyAlignment    = "general.alignment"
	KeyFileType     = "general.file_type"
	KeyName         = "general.name"
	KeySplitNo      = "split.no"
	KeySplitCount   = "split.count"
	KeySplitTensors = "split.tensors.count"
)

// GGMLType is a ggml tensor type code as stored in a GGUF tensor descriptor.
type GGMLType uint32

// The ggml type codes (ggml.h). Codes 4, 5 and 31–33, 36–38 were retired
// by ggml and are not accepted.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

type ggmlTypeInfo struct {
	name       string
	blockSize  uint64
	blockBytes uint64
	dtype      tensor.DType // Invalid: layout known, but rlx cannot use it
}

// ggmlTypes knows the block layout of every live ggml type, so offsets and
// sizes can be validated even for tensors rlx cannot compute with.
var ggmlTypes = map[GGMLType]ggmlTypeInfo{
	TypeF32:     {"F32", 1, 4, tensor.F32},
	TypeF16:     {"F16", 1, 2, tensor.F16},
	TypeQ4_0:    {"Q4_0", 32, 18, tensor.Q4_0},
	TypeQ4_1:    {"Q4_1", 32, 20, tensor.Q4_1},
	TypeQ5_0:    {"Q5_0", 32, 22, tensor.Q5_0},
	TypeQ5_1:    {"Q5_1", 32, 24, tensor.Q5_1},
	TypeQ8_0:    {"Q8_0", 32, 34, tensor.Q8_0},
	TypeQ8_1:    {"Q8_1", 32, 36, tensor.Q8_1},
	TypeQ2_K:    {"Q2_K", 256, 84, tensor.Q2_K},
	TypeQ3_K:    {"Q3_K", 256, 110, tensor.Q3_K},
	TypeQ4_K:    {"Q4_K", 256, 144, tensor.Q4_K},
	TypeQ5_K:    {"Q5_K", 256, 176, tensor.Q5_K},
	TypeQ6_K:    {"Q6_K", 256, 210, tensor.Q6_K},
	TypeQ8_K:    {"Q8_K", 256, 292, tensor.Q8_K},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66, tensor.Invalid},
	TypeIQ2_XS:  {"IQ2_XS", 256, 74, tensor.Invalid},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98, tensor.Invalid},
	TypeIQ1_S:   {"IQ1_S", 256, 50, tensor.Invalid},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18, tensor.IQ4_NL},
	TypeIQ3_S:   {"IQ3_S", 256, 110, tensor.Invalid},
	TypeIQ2_S:   {"IQ2_S", 256, 82, tensor.Invalid},
	TypeIQ4_XS:  {"IQ4_XS", 256, 136, tensor.IQ4_XS},
	TypeI8:      {"I8", 1, 1, tensor.I8},
	TypeI16:     {"I16", 1, 2, tensor.I16},
	TypeI32:     {"I32", 1, 4, tensor.I32},
	TypeI64:     {"I64", 1, 8, tensor.I64},
	TypeF64:     {"F64", 1, 8, tensor.F64},
	TypeIQ1_M:   {"IQ1_M", 256, 56, tensor.Invalid},
	TypeBF16:    {"BF16", 1, 2, tensor.BF16},
	TypeTQ1_0:   {"TQ1_0", 256, 54, tensor.Invalid},
	TypeTQ2_0:   {"TQ2_0", 256, 66, tensor.Invalid},
	TypeMXFP4:   {"MXFP4", 32, 17, tensor.Invalid},
}

// String returns ggml's name for the type, or "type(N)" for an unknown code.
func (t GGMLType) String() string {
	if info, ok := ggmlTypes[t]; ok {
		return info.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether t is a live ggml type whose block layout is known.
func (t GGMLType) Known() bool { _, ok := ggmlTypes[t]; return ok }

// DType maps t onto rlx's element types. ok is false for types rlx cannot
// compute with (the IQ1–IQ3 and ternary families, MXFP4, unknown codes).
func (t GGMLType) DType() (d tensor.DType, ok bool) {
	info, found := ggmlTypes[t]
	if !found || info.dtype == tensor.Invalid {
		return tensor.Invalid, false
	}
	return info.dtype, true
}

// BlockSize and BlockBytes describe t's storage blocks (0 for unknown codes).
func (t GGMLType) BlockSize() uint64 { return ggmlTypes[t].blockSize }

// BlockBytes is the size in bytes of one storage block of t (0 for unknown codes).
func (t GGMLType) BlockBytes() uint64 { return ggmlTypes[t].blockBytes }

// TypeOf returns the ggml type code that stores d.
func TypeOf(d tensor.DType) (GGMLType, bool) {
	for code, info := range ggmlTypes {
		if info.dtype == d && d != tensor.Invalid {
			return code, true
		}
	}
	return 0, false
}

// ParseType accepts a ggml type name ("Q4_K", "f16", …), case-insensitively.
func ParseType(name string) (GGMLType, bool) {
	for code, info := range ggmlTypes {
		if equalFold(info.name, name) {
			return code, true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FileType is llama.cpp's general.file_type: the quantization mix a file
// was made with (Q4_K_M, …), as distinct from the type of any one tensor.
type FileType uint32

var fileTypeNames = map[FileType]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
	10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
	16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
	22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
	28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
	37: "TQ2_0", 38: "MXFP4_MOE",
}

// String returns llama.cpp's short name for the mix ("Q4_K_M"), or
// "file_type(N)" when unknown.
func (f FileType) String() string {
	if s, ok := fileTypeNames[f]; ok {
		return s
	}
	return fmt.Sprintf("file_type(%d)", uint32(f))
}

// ParseFileType accepts the names FileType.String returns, case-insensitively.
func ParseFileType(name string) (FileType, bool) {
	for ft, s := range fileTypeNames {
		if equalFold(s, name) {
			return ft, true
		}
	}
	return 0, false
}
