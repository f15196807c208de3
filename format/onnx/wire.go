package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Protocol-buffer wire types (the low three bits of a field tag).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireStart   = 3 // group start: obsolete, never used by ONNX
	wireEnd     = 4 // group end
	wireFixed32 = 5
)

var wireNames = [...]string{"varint", "fixed64", "bytes", "group-start", "group-end", "fixed32", "invalid(6)", "invalid(7)"}

var (
	errTruncated = errors.New("truncated")
	errOverflow  = errors.New("varint overflows 64 bits")
)

// field is one decoded key/value pair of a protobuf message. For wireBytes
// b aliases the input; for the numeric wire types u holds the raw bits.
type field struct {
	num int
	typ int
	u   uint64
	b   []byte
	off int // offset of the tag within the message, for error messages
}

// readVarint decodes a base-128 varint from b and returns it with the number
// of bytes it used.
func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == 10 {
			return 0, 0, errOverflow
		}
		c := b[i]
		if i == 9 && c > 1 {
			return 0, 0, errOverflow
		}
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}

// eachField walks the fields of one message in wire order and calls fn for
// each. Every length is checked against the bytes left before it is used, so
// a corrupt length can never make the decoder allocate or read past the end.
func eachField(b []byte, fn func(f *field) error) error {
	var f field
	pos := 0
	for pos < len(b) {
		f = field{off: pos}
		tag, n, err := readVarint(b[pos:])
		if err != nil {
			return fmt.Errorf("at byte %d: field tag: %w", pos, err)
		}
		pos += n
		if tag>>3 == 0 || tag>>3 > math.MaxInt32 {
			return fmt.Errorf("at byte %d: invalid field number %d", f.off, tag>>3)
		}
		f.num, f.typ = int(tag>>3), int(tag&7)
		switch f.typ {
		case wireVarint:
			f.u, n, err = readVarint(b[pos:])
			if err != nil {
				return fmt.Errorf("at byte %d: field %d: %w", f.off, f.num, err)
			}
			pos += n
		case wireFixed64:
			if len(b)-pos < 8 {
				return fmt.Errorf("at byte %d: field %d: fixed64: %w", f.off, f.num, errTruncated)
			}
			f.u = binary.LittleEndian.Uint64(b[pos:])
			pos += 8
		case wireFixed32:
			if len(b)-pos < 4 {
				return fmt.Errorf("at byte %d: field %d: fixed32: %w", f.off, f.num, errTruncated)
			}
			f.u = uint64(binary.LittleEndian.Uint32(b[pos:]))
			pos += 4
		case wireBytes:
			l, n, err := readVarint(b[pos:])
			if err != nil {
				return fmt.Errorf("at byte %d: field %d: length: %w", f.off, f.num, err)
			}
			pos += n
			if l > uint64(len(b)-pos) {
				return fmt.Errorf("at byte %d: field %d: length %d exceeds the %d bytes left: %w", f.off, f.num, l, len(b)-pos, errTruncated)
			}
			f.b = b[pos : pos+int(l)]
			pos += int(l)
		default:
			return fmt.Errorf("at byte %d: field %d: unsupported wire type %s", f.off, f.num, wireNames[f.typ])
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
	return nil
}

// want reports an error unless f has wire type t.
func (f *field) want(t int, name string) error {
	if f.typ != t {
		return fmt.Errorf("at byte %d: %s (field %d) has wire type %s, want %s", f.off, name, f.num, wireNames[f.typ], wireNames[t])
	}
	return nil
}

func (f *field) str(name string) (string, error) {
	if err := f.want(wireBytes, name); err != nil {
		return "", err
	}
	return string(f.b), nil
}

func (f *field) int64(name string) (int64, error) {
	if err := f.want(wireVarint, name); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// int32 decodes an int32 or enum field; protobuf sign-extends negative int32
// values to ten-byte varints, so truncation to 32 bits is the wire semantics.
func (f *field) int32(name string) (int32, error) {
	if err := f.want(wireVarint, name); err != nil {
		return 0, err
	}
	return int32(f.u), nil
}

// repeatedVarint appends the values of a repeated varint field, which may be
// encoded packed (one bytes field) or unpacked (one varint per element).
func (f *field) repeatedVarint(dst []int64, name string) ([]int64, error) {
	switch f.typ {
	case wireVarint:
		return append(dst, int64(f.u)), nil
	case wireBytes:
		// Each varint takes at least one byte, so len(f.b) bounds the count.
		if cap(dst)-len(dst) < len(f.b) {
			n := 0
			for _, c := range f.b {
				if c < 0x80 {
					n++
				}
			}
			dst = growInt64(dst, n)
		}
		b := f.b
		for len(b) > 0 {
			v, n, err := readVarint(b)
			if err != nil {
				return nil, fmt.Errorf("at byte %d: packed %s: %w", f.off, name, err)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, f.want(wireBytes, name)
}

func growInt64(s []int64, n int) []int64 {
	t := make([]int64, len(s), len(s)+n)
	copy(t, s)
	return t
}

// repeatedFixed32 appends the raw bits of a repeated fixed32 field (float or
// fixed32), packed or unpacked.
func (f *field) repeatedFixed32(dst []uint32, name string) ([]uint32, error) {
	switch f.typ {
	case wireFixed32:
		return append(dst, uint32(f.u)), nil
	case wireBytes:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("at byte %d: packed %s: %d bytes is not a multiple of 4", f.off, name, len(f.b))
		}
		if dst == nil {
			dst = make([]uint32, 0, len(f.b)/4)
		}
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, binary.LittleEndian.Uint32(f.b[i:]))
		}
		return dst, nil
	}
	return nil, f.want(wireBytes, name)
}

// repeatedFixed64 is repeatedFixed32 for 64-bit values (double, fixed64).
func (f *field) repeatedFixed64(dst []uint64, name string) ([]uint64, error) {
	switch f.typ {
	case wireFixed64:
		return append(dst, f.u), nil
	case wireBytes:
		if len(f.b)%8 != 0 {
			return nil, fmt.Errorf("at byte %d: packed %s: %d bytes is not a multiple of 8", f.off, name, len(f.b))
		}
		if dst == nil {
			dst = make([]uint64, 0, len(f.b)/8)
		}
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, binary.LittleEndian.Uint64(f.b[i:]))
		}
		return dst, nil
	}
	return nil, f.want(wireBytes, name)
}
