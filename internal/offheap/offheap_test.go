package offheap

import (
	"runtime"
	"testing"
	"unsafe"
)

type owner struct {
	b []byte
	_ [8]int64 // not a tiny allocation: those may share an object
}

// waitMapped collects garbage until at most count mappings are live, and
// reports whether that happened. Cleanups run on their own goroutine after
// a collection finds the owner unreachable, so it polls a bounded number of
// times rather than for a time.
func waitMapped(count int64) bool {
	for range 200 {
		runtime.GC()
		runtime.Gosched()
		if _, c := Mapped(); c <= count {
			return true
		}
		runtime.Gosched()
	}
	return false
}

func TestAllocLayout(t *testing.T) {
	var owners []*owner
	for _, n := range []int{1, 63, 64, 1000, 4 << 20, HugePage - 1, HugePage, 3*HugePage + 5, 1 << 20, 7 << 20, 100} {
		o := &owner{}
		o.b = Alloc(o, n)
		if len(o.b) != n || cap(o.b) != n {
			t.Fatalf("Alloc(%d): len %d cap %d", n, len(o.b), cap(o.b))
		}
		align := uintptr(Align)
		if n >= HugePage {
			align = HugePage
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(o.b))); p%align != 0 {
			t.Fatalf("Alloc(%d) at %#x, want %d-byte alignment", n, p, align)
		}
		for i, v := range o.b {
			if v != 0 {
				t.Fatalf("Alloc(%d)[%d] = %d, want zeroed memory", n, i, v)
			}
		}
		owners = append(owners, o)
	}
	// Each buffer gets its own byte: one that overlapped another would
	// find the other's byte in its range.
	for i, o := range owners {
		for j := range o.b {
			o.b[j] = byte(i + 1)
		}
	}
	for i, o := range owners {
		for j, v := range o.b {
			if v != byte(i+1) {
				t.Fatalf("buffer %d byte %d overwritten by buffer %d", i, j, v-1)
			}
		}
	}
	f := Floats(&owner{}, 5)
	h := Halves(&owner{}, 7)
	if len(f) != 5 || len(h) != 7 || Alloc(&owner{}, 0) != nil {
		t.Fatalf("Floats(5) len %d, Halves(7) len %d", len(f), len(h))
	}
	runtime.KeepAlive(owners)
}

// TestFreedWithOwner allocates large and small buffers for many owners,
// drops the owners, and checks that their mappings are returned to the
// OS: only the chunk still being carved may stay.
func TestFreedWithOwner(t *testing.T) {
	if !anonMaps {
		t.Skip("buffers are heap memory on this system")
	}
	if !waitMapped(1) {
		_, c := Mapped()
		t.Fatalf("%d mappings live before the test", c)
	}
	startBytes, start := Mapped()
	for round := range 3 {
		var owners []*owner
		for i := range 40 {
			o := &owner{}
			o.b = Alloc(o, 3<<20+i)
			o.b[len(o.b)-1] = 1 // resident
			owners = append(owners, o)
		}
		for i := range 400 {
			o := &owner{}
			o.b = Alloc(o, 100<<10+i)
			o.b[0] = 1
			owners = append(owners, o)
		}
		b, c := Mapped()
		if b < startBytes+40*(3<<20)+400*(100<<10) || c < start+40 {
			t.Fatalf("round %d: %d bytes in %d mappings live, want ≥ %d more bytes", round, b, c, 40*(3<<20)+400*(100<<10))
		}
		runtime.KeepAlive(owners)
		owners = nil
		_ = owners
		if !waitMapped(max(start, 1)) {
			b, c := Mapped()
			t.Fatalf("round %d: %d bytes in %d mappings still live after the owners died (%d before)", round, b, c, start)
		}
	}
}

// TestSharedChunkOutlivesOneOwner: small buffers share a chunk, which must
// stay mapped while any of their owners lives.
func TestSharedChunkOutlivesOneOwner(t *testing.T) {
	keep := &owner{}
	keep.b = Alloc(keep, 1000)
	for range 2000 { // 200 MB of small buffers: many chunks come and go
		o := &owner{}
		o.b = Alloc(o, 100<<10)
		o.b[0] = 1
	}
	runtime.GC()
	runtime.GC()
	for i := range keep.b {
		keep.b[i] = byte(i) // would fault had the chunk been unmapped
	}
	for i, v := range keep.b {
		if v != byte(i) {
			t.Fatalf("byte %d = %d", i, v)
		}
	}
	runtime.KeepAlive(keep)
}

// A Block is mapped until Free, and Free returns it at once. (Counts of
// live mappings are not compared: earlier tests' cleanups may run at any
// moment.)
func TestBlockFree(t *testing.T) {
	if !OffHeap() {
		t.Skip("no anonymous mappings here")
	}
	k, err := Map(3*HugePage + 5)
	if err != nil {
		t.Fatal(err)
	}
	mem := k.Bytes()
	if len(mem) != 3*HugePage+5 || uintptr(unsafe.Pointer(&mem[0]))%HugePage != 0 {
		t.Fatalf("block of %d bytes at %p", len(mem), &mem[0])
	}
	for i := range mem {
		if mem[i] != 0 {
			t.Fatalf("byte %d is %d", i, mem[i])
		}
	}
	mem[len(mem)-1] = 1
	r := k.r
	if r.refs != 1 || len(r.mem) < len(mem) {
		t.Fatalf("region of %d bytes with %d refs", len(r.mem), r.refs)
	}
	k.Free()
	k.Free()
	if r.mem != nil || r.refs != 0 {
		t.Fatalf("after Free the region holds %d bytes and %d refs", len(r.mem), r.refs)
	}
	if k.Bytes() != nil {
		t.Error("a freed block still has bytes")
	}
}
