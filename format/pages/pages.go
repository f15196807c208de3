// Package pages lets code that holds bytes of a checkpoint opened by the
// format readers (format/gguf, format/safetensors: read-only memory maps)
// drop them from the process's resident memory once it has its own copy.
package pages

import "github.com/rlx-go/rlx/format/internal/mmap"

// Release drops the resident pages wholly inside b when b lies in an open
// memory-mapped checkpoint file, and reports the bytes covered; bytes that
// are not mapped (a file read into memory, any other slice) are left alone
// and 0 is returned. b's contents do not change: reading it again faults
// the pages back in from the page cache, so releasing bytes that are still
// read costs time, never correctness.
func Release(b []byte) int64 { return mmap.Release(b) }
