package gguf

import (
	"errors"
	"fmt"
)

// Sentinel causes wrapped by *Error, for errors.Is.
var (
	// ErrTruncated: the file ends before a field it announces.
	ErrTruncated = errors.New("file is truncated")
	// ErrBigEndian: the file was written big-endian; rlx reads little-endian GGUF only.
	ErrBigEndian = errors.New("big-endian GGUF is not supported (convert it to little-endian)")
	// ErrUnsupportedType: a tensor's ggml type is one rlx cannot compute with.
	ErrUnsupportedType = errors.New("unsupported tensor type")
)

// Error reports a problem with a GGUF file: which file, which field (a
// metadata key, a tensor name, or a header field), and what is wrong.
type Error struct {
	File   string // path or name given to Open/Parse
	Field  string // e.g. "tensor_count", `metadata "general.name"`, `tensor "blk.0.attn_q.weight"`
	Offset int64  // byte offset where the problem was found, -1 when not meaningful
	Err    error
}

// Error formats the problem as "gguf: FILE: FIELD (at byte N): cause".
func (e *Error) Error() string {
	s := "gguf: " + e.File
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }
