package gemm

import "unsafe"

// Packed weights are streamed from end to end on every decode step, so how
// they are mapped matters as much as the GEMV kernel: with 4 KiB pages each
// 4 KiB of the stream costs a TLB miss (a two-level walk under a
// hypervisor) and the hardware prefetchers stop at every page boundary.
// allocStrips places packed strips of at least hugePage bytes in 2
// MiB-aligned memory and asks the OS to back the whole huge pages among
// them with transparent huge pages (Linux with THP "always" or "madvise";
// elsewhere, or when the OS declines, they keep normal pages). Measured in
// docs/PERFORMANCE.md ("F16 decode: huge pages for the strips").
//
// The memory is ordinary Go heap memory, freed with the PackedB.
const hugePage = 2 << 20

// allocStrips returns n zeroed elements for packed strips.
func allocStrips[T uint16 | float32](n int) []T {
	size := int(unsafe.Sizeof(T(0)))
	if n*size < hugePage {
		return make([]T, n)
	}
	// A large allocation from fresh heap memory is not written by the
	// runtime (the OS hands it over zeroed), so its pages are first
	// faulted by the packer, after the advice below. (Reused heap memory
	// is cleared first and keeps the pages it had.)
	buf := make([]byte, n*size+hugePage)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))) % hugePage); r != 0 {
		off = hugePage - r
	}
	b := buf[off : off+n*size : off+n*size]
	adviseHuge(b[:len(b)/hugePage*hugePage])
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}
