package gemm

import (
	"testing"
	"unsafe"
)

func TestAllocStrips(t *testing.T) {
	var bufs [][]uint16
	for _, n := range []int{1, 47, hugePage/2 - 1, hugePage / 2, 3*hugePage/2 + 5, 5 << 20} {
		b := allocStrips[uint16](n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("allocStrips(%d): len %d cap %d", n, len(b), cap(b))
		}
		if n*2 >= hugePage {
			if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%hugePage != 0 {
				t.Fatalf("allocStrips(%d) at %#x, want %d-byte alignment", n, p, hugePage)
			}
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("allocStrips(%d)[%d] = %d, want zeroed memory", n, i, v)
			}
		}
		bufs = append(bufs, b)
	}
	for i, b := range bufs {
		for j := range b {
			b[j] = uint16(i + 1)
		}
	}
	for i, b := range bufs {
		for j, v := range b {
			if v != uint16(i+1) {
				t.Fatalf("buffer %d element %d overwritten by buffer %d", i, j, v-1)
			}
		}
	}
	f := allocStrips[float32](hugePage)
	if len(f) != hugePage || uintptr(unsafe.Pointer(unsafe.SliceData(f)))%hugePage != 0 {
		t.Fatalf("allocStrips[float32](%d): len %d at %p", hugePage, len(f), unsafe.SliceData(f))
	}
}
