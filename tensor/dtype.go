// Package tensor defines element types, shapes and host tensors shared by
// every layer of rlx: file formats, quantizers, the IR and the backends.
package tensor

import (
	"fmt"
	"strings"
)

// DType is the storage type of a tensor's elements. Block-quantized types
// (the GGUF families) store elements in fixed-size blocks; BlockSize and
// BlockBytes describe the layout so that sizes can be checked without
// knowing the quantization scheme.
type DType uint8

// Element types. The numeric values are rlx's own; file formats map their
// type codes onto these.
const (
	Invalid DType = iota
	F32
	F16
	BF16
	F64
	I8
	U8
	I16
	I32
	I64
	Bool
	F8E4M3
	F8E5M2
	Q4_0
	Q4_1
	Q5_0
	Q5_1
	Q8_0
	Q8_1
	Q2_K
	Q3_K
	Q4_K
	Q5_K
	Q6_K
	Q8_K
	IQ4_NL
	IQ4_XS
	numDTypes
)

type dtypeInfo struct {
	name       string
	blockSize  int // elements per block; 1 for scalar types
	blockBytes int // bytes per block
	float      bool
}

// QK_K is the super-block size of the K-quant family.
const qkK = 256

var dtypeTable = [numDTypes]dtypeInfo{
	Invalid: {"invalid", 0, 0, false},
	F32:     {"F32", 1, 4, true},
	F16:     {"F16", 1, 2, true},
	BF16:    {"BF16", 1, 2, true},
	F64:     {"F64", 1, 8, true},
	I8:      {"I8", 1, 1, false},
	U8:      {"U8", 1, 1, false},
	I16:     {"I16", 1, 2, false},
	I32:     {"I32", 1, 4, false},
	I64:     {"I64", 1, 8, false},
	Bool:    {"BOOL", 1, 1, false},
	F8E4M3:  {"F8_E4M3", 1, 1, true},
	F8E5M2:  {"F8_E5M2", 1, 1, true},
	Q4_0:    {"Q4_0", 32, 2 + 16, false},
	Q4_1:    {"Q4_1", 32, 2 + 2 + 16, false},
	Q5_0:    {"Q5_0", 32, 2 + 4 + 16, false},
	Q5_1:    {"Q5_1", 32, 2 + 2 + 4 + 16, false},
	Q8_0:    {"Q8_0", 32, 2 + 32, false},
	Q8_1:    {"Q8_1", 32, 2 + 2 + 32, false},
	Q2_K:    {"Q2_K", qkK, qkK/16 + qkK/4 + 2 + 2, false},
	Q3_K:    {"Q3_K", qkK, qkK/8 + qkK/4 + 12 + 2, false},
	Q4_K:    {"Q4_K", qkK, 2 + 2 + 12 + qkK/2, false},
	Q5_K:    {"Q5_K", qkK, 2 + 2 + 12 + qkK/8 + qkK/2, false},
	Q6_K:    {"Q6_K", qkK, qkK/2 + qkK/4 + qkK/16 + 2, false},
	Q8_K:    {"Q8_K", qkK, 4 + qkK + qkK/16*2, false},
	IQ4_NL:  {"IQ4_NL", 32, 2 + 16, false},
	IQ4_XS:  {"IQ4_XS", qkK, 2 + 2 + qkK/64 + qkK/2, false},
}

// String returns the conventional name (GGUF/safetensors spelling).
func (d DType) String() string {
	if d < numDTypes {
		return dtypeTable[d].name
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is a known type other than Invalid.
func (d DType) Valid() bool { return d > Invalid && d < numDTypes }

// BlockSize is the number of elements in one storage block (1 for scalar types).
func (d DType) BlockSize() int {
	if !d.Valid() {
		return 0
	}
	return dtypeTable[d].blockSize
}

// BlockBytes is the number of bytes one storage block occupies.
func (d DType) BlockBytes() int {
	if !d.Valid() {
		return 0
	}
	return dtypeTable[d].blockBytes
}

// Quantized reports whether d is a block-quantized type.
func (d DType) Quantized() bool { return d.BlockSize() > 1 }

// Float reports whether d is a scalar floating-point type.
func (d DType) Float() bool { return d.Valid() && dtypeTable[d].float }

// RowBytes returns the bytes needed for n contiguous elements of type d.
// It fails when n is negative, not a whole number of blocks, or overflows.
func (d DType) RowBytes(n int64) (int64, error) {
	if !d.Valid() {
		return 0, fmt.Errorf("tensor: invalid dtype %v", d)
	}
	if n < 0 {
		return 0, fmt.Errorf("tensor: negative element count %d", n)
	}
	bs := int64(d.BlockSize())
	if n%bs != 0 {
		return 0, fmt.Errorf("tensor: %d elements is not a multiple of the %v block size %d", n, d, bs)
	}
	blocks := n / bs
	bb := int64(d.BlockBytes())
	if blocks > (1<<62)/bb {
		return 0, fmt.Errorf("tensor: %d elements of %v overflow", n, d)
	}
	return blocks * bb, nil
}

// ParseDType accepts the names String returns, case-insensitively, plus a
// few common aliases (float32, fp16, bfloat16, …).
func ParseDType(s string) (DType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "FLOAT32", "FP32":
		return F32, nil
	case "FLOAT16", "FP16", "HALF":
		return F16, nil
	case "BFLOAT16":
		return BF16, nil
	case "FLOAT64", "FP64", "DOUBLE":
		return F64, nil
	case "INT8":
		return I8, nil
	case "UINT8":
		return U8, nil
	case "INT16":
		return I16, nil
	case "INT32":
		return I32, nil
	case "INT64":
		return I64, nil
	}
	for d := F32; d < numDTypes; d++ {
		if dtypeTable[d].name == u {
			return d, nil
		}
	}
	return Invalid, fmt.Errorf("tensor: unknown dtype %q", s)
}

// AllDTypes lists every valid dtype, in declaration order.
func AllDTypes() []DType {
	out := make([]DType, 0, numDTypes-1)
	for d := F32; d < numDTypes; d++ {
		out = append(out, d)
	}
	return out
}
