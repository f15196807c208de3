package quant

import (
	"testing"
	"unsafe"
)

func TestAllocWeights(t *testing.T) {
	var bufs [][]byte
	for _, n := range []int{1, 63, 64, 1000, 4 << 20, hugePage - 1, hugePage, 3*hugePage + 5, 1 << 20, 7 << 20, 100} {
		b := allocWeights(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("allocWeights(%d): len %d cap %d", n, len(b), cap(b))
		}
		align := uintptr(weightAlign)
		if n >= hugePage {
			align = hugePage
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%align != 0 {
			t.Fatalf("allocWeights(%d) at %#x, want %d-byte alignment", n, p, align)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("allocWeights(%d)[%d] = %d, want zeroed memory", n, i, v)
			}
		}
		bufs = append(bufs, b)
	}
	// Fill each buffer with its own byte: a buffer that overlapped another
	// would find the other's byte in its range.
	for i, b := range bufs {
		for j := range b {
			b[j] = byte(i + 1)
		}
	}
	for i, b := range bufs {
		for j, v := range b {
			if v != byte(i+1) {
				t.Fatalf("buffer %d byte %d overwritten by buffer %d", i, j, v-1)
			}
		}
	}
}
