package cuda

import (
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// TestKVStoreVec pins when kv_store2 stores four values a thread: rows of
// multiples of 4 and aligned pointers only (no GPU needed).
func TestKVStoreVec(t *testing.T) {
	for _, c := range []struct {
		krow, vrow   int64
		f16          bool
		k, v, kc, vc uint64
		want         int
	}{
		{1024, 1024, true, 0x1000, 0x2000, 0x3008, 0x4000, 4},
		{1024, 1024, false, 0x1000, 0x2000, 0x3010, 0x4000, 4},
		{1024, 1024, false, 0x1000, 0x2000, 0x3008, 0x4000, 1}, // f32 cache needs 16 bytes
		{1024, 1024, true, 0x1004, 0x2000, 0x3000, 0x4000, 1},  // keys not 16-byte aligned
		{1024, 1024, true, 0x1000, 0x2000, 0x3000, 0x4002, 1},
		{1026, 1024, true, 0x1000, 0x2000, 0x3000, 0x4000, 1},
		{512, 6, true, 0x1000, 0x2000, 0x3000, 0x4000, 1},
	} {
		if got := kvStoreVec(c.krow, c.vrow, c.f16, driver.Ptr(c.k), driver.Ptr(c.v), driver.Ptr(c.kc), driver.Ptr(c.vc)); got != c.want {
			t.Errorf("%+v: %d, want %d", c, got, c.want)
		}
	}
}
