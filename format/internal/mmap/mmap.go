// Package mmap maps whole files read-only into memory for the format
// readers. Where the platform has no mmap (or mapping fails for a reason
// other than a bad file) it falls back to reading the file into memory, so
// callers always get one []byte for the whole file. The purego build tag
// selects the fallback everywhere (tests use it to exercise that path).
//
// Live mappings are registered, so that Release can tell bytes of a mapped
// file (whose resident pages may be dropped: the kernel reads them back
// from the page cache on the next access) from any other bytes.
package mmap

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Mapping is a read-only view of a whole file. The bytes stay valid until
// Close; slices taken from Bytes must not be used afterwards.
type Mapping struct {
	data   []byte
	mapped bool // true when data comes from mmap and must be unmapped
}

// live holds the address ranges of the open mappings, start → length.
var live struct {
	sync.Mutex
	m map[uintptr]int
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
		live.Lock()
		if live.m == nil {
			live.m = map[uintptr]int{}
		}
		live.m[addr(data)] = len(data)
		live.Unlock()
		return &Mapping{data: data, mapped: true}, nil
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	return &Mapping{data: data}, nil
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

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
		live.Lock()
		delete(live.m, addr(data))
		live.Unlock()
		return unmap(data)
	}
	return nil
}

// Release drops the resident pages that lie wholly inside b from this
// process's memory, when b is part of a live mapping, and reports how many
// bytes that covered (0 for bytes that are not mapped, such as a file read
// into memory, or a range smaller than a page). The contents do not change:
// a later read of b faults the pages back in from the page cache. Callers
// use it once they hold their own copy of a weight (a repacked or converted
// one), so the file's pages stop counting as resident twice.
func Release(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	lo := addr(b)
	hi := lo + uintptr(len(b))
	live.Lock()
	defer live.Unlock()
	for start, n := range live.m {
		if lo < start || hi > start+uintptr(n) {
			continue
		}
		page := uintptr(os.Getpagesize())
		a := (lo + page - 1) &^ (page - 1)
		e := hi &^ (page - 1)
		if e <= a {
			return 0
		}
		// The range stays inside a live mapping while live is locked:
		// Close waits for the lock before unmapping.
		if dontNeed(b[a-lo:e-lo]) != nil {
			return 0
		}
		return int64(e - a)
	}
	return 0
}
