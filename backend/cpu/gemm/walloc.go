package gemm

import (
	"unsafe"

	"github.com/rlx-go/rlx/internal/offheap"
)

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
// The memory lies outside the Go heap (package internal/offheap), so that
// the collector's GOGC headroom does not grow with the model's weights, and
// goes back to the OS when pb is collected. Entry points that hand strips
// to kernels keep pb alive until they return (runtime.KeepAlive).
const hugePage = offheap.HugePage

// allocStrips returns n zeroed elements for pb's packed strips.
func allocStrips[T uint16 | float32](pb *PackedB, n int) []T {
	var zero T
	b := offheap.Alloc(pb, n*int(unsafe.Sizeof(zero)))
	if b == nil {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}
