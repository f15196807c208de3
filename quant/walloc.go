package quant

import (
	"sync"
	"unsafe"
)

// Repacked weights are read once per token from end to end, hundreds of
// megabytes per token for a decoder LM, so how they are mapped matters as
// much as the kernels. With 4 KiB pages every 4 KiB of a GEMV's stream
// costs a TLB miss and a page walk (a two-level walk under a hypervisor),
// and the hardware prefetchers stop at each page boundary. allocWeights
// therefore places them in 2 MiB-aligned memory that the OS is asked to
// back with transparent huge pages where it can (Linux, THP "always" or
// "madvise"; elsewhere a plain allocation). Measurements are in
// docs/PERFORMANCE.md ("Quantized kernels").
//
// The memory stays ordinary Go heap memory: it is freed when the last
// Matrix using it is collected. Buffers of at least hugePage bytes get
// their own allocation; smaller ones (most matrices of a small model) are
// carved from shared arenaChunk-byte chunks, so a chunk lives as long as any
// Matrix in it, and the chunk being filled is kept by the package.
const (
	hugePage   = 2 << 20
	arenaChunk = 16 << 20
	// weightAlign keeps every carved buffer on a cache-line boundary, so
	// the kernels' 64-byte loads never split lines.
	weightAlign = 64
)

var weightArena struct {
	sync.Mutex
	free []byte // unused tail of the current chunk
}

// allocWeights returns n zeroed bytes for a repacked weight matrix.
func allocWeights(n int) []byte {
	if n >= hugePage {
		return hugeAligned(n)
	}
	a := &weightArena
	a.Lock()
	defer a.Unlock()
	if len(a.free) < n {
		a.free = hugeAligned(arenaChunk)
	}
	b := a.free[:n:n]
	a.free = a.free[min(roundUp(n, weightAlign), len(a.free)):]
	return b
}

// hugeAligned allocates n bytes starting on a hugePage boundary and asks
// for huge pages over the whole pages among them.
func hugeAligned(n int) []byte {
	buf := make([]byte, n+hugePage)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))) % hugePage); r != 0 {
		off = hugePage - r
	}
	b := buf[off : off+n : off+n]
	if whole := n / hugePage * hugePage; whole > 0 {
		adviseHuge(b[:whole])
	}
	return b
}
