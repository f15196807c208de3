package gemm

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/rlx-go/rlx/internal/offheap"
	"github.com/rlx-go/rlx/tensor"
)

func TestAllocStrips(t *testing.T) {
	for _, n := range []int{1, 47, hugePage/2 - 1, hugePage / 2, 3*hugePage/2 + 5, 5 << 20} {
		b := allocStrips[uint16](&PackedB{}, n)
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
	}
	f := allocStrips[float32](&PackedB{}, hugePage)
	if len(f) != hugePage || uintptr(unsafe.Pointer(unsafe.SliceData(f)))%hugePage != 0 {
		t.Fatalf("allocStrips[float32](%d): len %d at %p", hugePage, len(f), unsafe.SliceData(f))
	}
}

// TestPackedStripsAreFreed packs F32 and F16 weights (own mappings and
// shared chunks), multiplies with each against the unpacked product, drops
// them, and checks that their strips' memory goes back to the OS.
func TestPackedStripsAreFreed(t *testing.T) {
	if !offheap.OffHeap() {
		t.Skip("packed weights are heap memory in this build")
	}
	settle := func() int64 {
		var c int64
		for range 100 {
			runtime.GC()
			runtime.Gosched()
			_, c = offheap.Mapped()
		}
		return c
	}
	start := settle()
	const k = 256
	a := make([]float32, 2*k)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for round := range 2 {
		var pbs []*PackedB
		for i, n := range []int{2500, 37, 4100, 200} {
			w := make([]float32, n*k)
			h := make([]uint16, n*k)
			for j := range w {
				w[j] = float32((i+j)%5) - 2
				h[j] = tensor.F32ToF16(w[j])
			}
			want := make([]float32, 2*n)
			if err := MatMul(nil, Matrix{Data: want, Stride: n}, Matrix{Data: a, Stride: k}, B{Layout: NK, F32: w}, 2, n, k, false); err != nil {
				t.Fatal(err)
			}
			for _, b := range []B{{Layout: NK, F32: w}, {Layout: NK, DType: tensor.F16, U16: h}} {
				var pb *PackedB
				var err error
				if b.DType == tensor.F16 {
					pb, err = PackHalf(nil, b, n, k)
				} else {
					pb, err = Pack(nil, b, n, k)
				}
				if err != nil {
					t.Fatal(err)
				}
				got := make([]float32, 2*n)
				if err := pb.MatMul(nil, Matrix{Data: got, Stride: n}, Matrix{Data: a, Stride: k}, 2, false); err != nil {
					t.Fatal(err)
				}
				for j := range got {
					if got[j] != want[j] { // small integers: exact
						t.Fatalf("%v n=%d: c[%d] = %v, want %v", b.DType, n, j, got[j], want[j])
					}
				}
				pbs = append(pbs, pb)
			}
		}
		if _, c := offheap.Mapped(); c <= start {
			t.Fatalf("round %d: %d mappings live with %d packed weights, %d before", round, c, len(pbs), start)
		}
		runtime.KeepAlive(pbs)
		pbs = nil
		_ = pbs
		if c := settle(); c > max(start, 1) {
			t.Fatalf("round %d: %d mappings live after the packed weights died, %d before", round, c, start)
		}
	}
}
