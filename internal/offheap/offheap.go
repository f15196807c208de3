// Package offheap allocates long-lived, pointer-free buffers (packed
// weights) outside the Go heap.
//
// Packed weight copies are most of a model's memory and live as long as the
// model. On the Go heap the collector lets garbage grow to GOGC percent of
// the live heap before it collects, so every packed byte would also buy
// room for garbage: at GOGC 100 that doubles the resident size of a model.
// Memory from anonymous mappings is not counted by the collector, so its
// headroom applies to the small heap only. A buffer is tied to an owner
// (the quant.Matrix or gemm.PackedB holding it): when the owner becomes
// unreachable a runtime cleanup returns the memory to the OS.
//
// Owners must stay reachable while raw pointers into their buffers are in
// use (a kernel running on another goroutine, an assembly call): callers
// keep them alive with runtime.KeepAlive after the last such use.
//
// Where anonymous mappings are not available (Windows, other systems) the
// buffers are ordinary heap memory, kept alive by the owner's references.
package offheap

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	// HugePage is the alignment of buffers of at least this size: such
	// buffers are streamed end to end by the kernels, and the OS is asked
	// to back their whole 2 MiB pages with transparent huge pages (Linux),
	// sparing a TLB miss and a prefetcher restart every 4 KiB.
	HugePage = 2 << 20
	// chunkBytes is the size of the shared chunks smaller buffers are
	// carved from, so that they too sit on huge pages.
	chunkBytes = 16 << 20
	// Align is the alignment of every buffer (a cache line, so 64-byte
	// loads never split lines).
	Align = 64
)

// region is one mapping (or heap fallback), freed when refs reaches zero.
type region struct {
	mem  []byte // the whole mapping, as returned by mapAnon
	refs int    // live buffers in it, plus one while it is the current chunk
}

var (
	mu      sync.Mutex
	current *region // the chunk small buffers are carved from
	free    []byte  // its unused tail

	mapped  atomic.Int64 // bytes of live mappings
	regions atomic.Int64 // live mappings
)

// Alloc returns n zeroed bytes, Align-aligned (HugePage-aligned when n ≥
// HugePage), that stay valid while owner is reachable. owner must be a
// pointer to a heap object that does not become unreachable before its
// last use of the buffer (see the package doc).
func Alloc[T any](owner *T, n int) []byte {
	if n <= 0 {
		return nil
	}
	if !anonMaps {
		return heapAligned(n)
	}
	var (
		r *region
		b []byte
	)
	if n >= HugePage {
		r = newRegion(n)
		b = alignIn(r.mem, HugePage, n)
		r.refs = 1
	} else {
		mu.Lock()
		if len(free) < n {
			if current != nil {
				unref(current)
			}
			current = newRegion(chunkBytes)
			current.refs = 1
			free = alignIn(current.mem, HugePage, chunkBytes)
		}
		r = current
		r.refs++
		b = free[:n:n]
		free = free[min(roundUp(n, Align), len(free)):]
		mu.Unlock()
	}
	runtime.AddCleanup(owner, release, r)
	return b
}

// Floats is Alloc for n float32 values.
func Floats[T any](owner *T, n int) []float32 {
	b := Alloc(owner, 4*n)
	if b == nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// Halves is Alloc for n 16-bit values.
func Halves[T any](owner *T, n int) []uint16 {
	b := Alloc(owner, 2*n)
	if b == nil {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// OffHeap reports whether buffers come from anonymous mappings (false: the
// Go heap, see the package doc).
func OffHeap() bool { return anonMaps }

// Mapped reports the bytes and the number of the mappings that are live
// (allocated and not yet returned to the OS).
func Mapped() (bytes, count int64) { return mapped.Load(), regions.Load() }

// newRegion maps n bytes plus room to align them to a huge page; pages
// never touched (the alignment slack) cost address space, not memory.
func newRegion(n int) *region {
	size := roundUp(n, pageSize) + HugePage
	mem, err := mapAnon(size)
	if err != nil {
		// Out of address space or memory: there is no error to return
		// from a packer, and the heap would fail the same way.
		panic("offheap: " + err.Error())
	}
	adviseHuge(alignIn(mem, HugePage, roundUp(n, pageSize))[:n/HugePage*HugePage])
	mapped.Add(int64(len(mem)))
	regions.Add(1)
	return &region{mem: mem}
}

func release(r *region) {
	mu.Lock()
	defer mu.Unlock()
	unref(r)
}

// unref drops one reference to r; mu is held.
func unref(r *region) {
	r.refs--
	if r.refs > 0 {
		return
	}
	n := len(r.mem)
	if err := unmap(r.mem); err != nil {
		panic("offheap: " + err.Error())
	}
	r.mem = nil
	mapped.Add(-int64(n))
	regions.Add(-1)
}

// alignIn returns n bytes of mem starting at its first align boundary.
func alignIn(mem []byte, align, n int) []byte {
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(mem))) % uintptr(align)); r != 0 {
		off = align - r
	}
	return mem[off : off+n : off+n]
}

// heapAligned is the fallback: heap memory, HugePage-aligned when large.
func heapAligned(n int) []byte {
	align := Align
	if n >= HugePage {
		align = HugePage
	}
	return alignIn(make([]byte, n+align), align, n)
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// Block is a mapping with an explicit lifetime, for large buffers whose
// user knows when they die (a session's activation arena, its KV cache):
// Free returns the memory to the OS at once. Tied to an owner's
// reachability instead, a closed session's cache would stay resident until
// the collector's next cycle, and a decode loop that allocates almost
// nothing may not run one for a long time.
type Block struct {
	r *region
	b []byte
}

// Map returns a Block of n zeroed bytes, HugePage-aligned, or nil (and no
// error) where anonymous mappings are not available.
func Map(n int) (*Block, error) {
	if !anonMaps || n <= 0 {
		return nil, nil
	}
	mem, err := mapAnon(roundUp(n, pageSize) + HugePage)
	if err != nil {
		return nil, err
	}
	b := alignIn(mem, HugePage, n)
	adviseHuge(b[:n/HugePage*HugePage])
	mapped.Add(int64(len(mem)))
	regions.Add(1)
	return &Block{r: &region{mem: mem, refs: 1}, b: b}, nil
}

// Bytes is the block's memory; it must not be used after Free.
func (k *Block) Bytes() []byte { return k.b }

// Free unmaps the block. Later calls do nothing.
func (k *Block) Free() {
	if k.r == nil {
		return
	}
	release(k.r)
	k.r, k.b = nil, nil
}
