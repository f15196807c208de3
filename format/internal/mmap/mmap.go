// Package mmap maps whole files read-only into memory for the format
// readers. Where the platform has no mmap (or mapping fails for a reason
// other than a bad file) it falls back to reading the file into memory, so
// callers always get one []byte for the whole file. The purego build tag
// selects the fallback everywhere (tests use it to exercise that path).
package mmap

import (
	"fmt"
	"os"
)

// Mapping is a read-only view of a whole file. The bytes stay valid until
// Close; slices taken from Bytes must not be used afterwards.
type Mapping struct {
	data   []byte
	mapped bool // true when data comes from mmap and must be unmapped
}

// Open maps the file at path. An empty file yields an empty mapping.
func Open(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return &Mapping{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: %d bytes do not fit in this address space", path, size)
	}
	if data, ok := mapFile(f, int(size)); ok {
		return &Mapping{data: data, mapped: true}, nil
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	return &Mapping{data: data}, nil
}

// Bytes returns the file's contents.
func (m *Mapping) Bytes() []byte { return m.data }

// Mapped reports whether the bytes come from mmap (true) or were read into
// the Go heap (false).
func (m *Mapping) Mapped() bool { return m.mapped }

// Close releases the mapping. It is safe to call more than once.
func (m *Mapping) Close() error {
	if m == nil || m.data == nil {
		return nil
	}
	data, mapped := m.data, m.mapped
	m.data, m.mapped = nil, false
	if mapped {
		return unmap(data)
	}
	return nil
}
