package cpu_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/internal/offheap"
)

// Large buffers are mappings of their own: Free returns one at once, and
// one dropped without Free is returned once the collector finds it.
func TestLargeBuffersAreUnmapped(t *testing.T) {
	if !offheap.OffHeap() {
		t.Skip("no anonymous mappings here")
	}
	be := cpu.New(cpu.Options{})
	x, err := be.Alloc(3<<20 + 7)
	if err != nil {
		t.Fatal(err)
	}
	x.(*cpu.Buffer).Bytes()[3<<20+6] = 1
	be.Free(x)
	be.Free(x)
	if x.Size() != 0 || x.(*cpu.Buffer).Bytes() != nil {
		t.Fatalf("%d bytes left after Free", x.Size())
	}
	// Let earlier tests' garbage go first: the count below is global.
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	_, c0 := offheap.Mapped()
	for range 3 {
		if _, err := be.Alloc(2 << 20); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if _, c := offheap.Mapped(); c <= c0 {
			break
		}
		if time.Now().After(deadline) {
			_, c := offheap.Mapped()
			t.Fatalf("%d mappings left after dropping three buffers, %d before", c, c0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
