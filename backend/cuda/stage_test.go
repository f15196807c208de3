package cuda

import (
	"math/rand/v2"
	"testing"
)

// TestStageRing checks, without a GPU, the staging ring's accounting: the
// slots it hands out lie inside the ring, start aligned, never overlap a
// slot whose copy may still be pending, and become free only through
// retire with a count read before the (simulated) stream synchronization.
func TestStageRing(t *testing.T) {
	const size = 4096
	r := stageRing{size: size}
	type slot struct{ off, n, end int64 } // end: queued after this slot
	var live []slot
	rng := rand.New(rand.NewPCG(1, 2))
	syncs := 0
	for i := 0; i < 20000; i++ {
		n := 1 + rng.Int64N(1500)
		if rng.IntN(50) == 0 {
			n = size // the largest allowed
		}
		off, ok := r.reserve(n)
		if !ok {
			// The writer synchronizes: everything queued so far ran.
			syncs++
			r.retire(r.queued)
			live = live[:0]
			if off, ok = r.reserve(n); !ok {
				t.Fatalf("step %d: %d bytes not free in an empty ring", i, n)
			}
		}
		if off%stageAlign != 0 || off < 0 || off+n > size {
			t.Fatalf("step %d: slot [%d,+%d) misplaced in a ring of %d", i, off, n, size)
		}
		for _, s := range live {
			if off < s.off+s.n && s.off < off+n {
				t.Fatalf("step %d: slot [%d,+%d) overlaps pending [%d,+%d)", i, off, n, s.off, s.n)
			}
		}
		live = append(live, slot{off, n, r.queued})
		if rng.IntN(7) == 0 {
			// A Sync whose mark was read a few writes ago frees only
			// the slots queued before the mark.
			k := rng.IntN(len(live))
			mark := live[k].end
			r.retire(mark)
			live = append(live[:0], live[k+1:]...)
		}
	}
	if syncs == 0 {
		t.Error("the ring never filled; the test did not exercise draining")
	}
	// A stale mark never takes back what a later one freed.
	done := r.done
	r.retire(0)
	if r.done != done {
		t.Errorf("retire(0) moved done from %d to %d", done, r.done)
	}
}
