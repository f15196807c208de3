package cuda

import (
	"os"

	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// Staged input writes.
//
// A decode step writes four small inputs (ids, positions, past length,
// rows) before its graph launch. Copying each from pageable Go memory and
// waiting for it cost two driver round trips per input while the GPU sat
// idle. A small Write instead copies its bytes into a page-locked staging
// ring and queues cuMemcpyHtoDAsync from there on the backend's stream:
// the copy is ordered before the kernels queued after it, the caller's
// slice is free on return, and nothing waits. A slot of the ring is reused
// only after a stream synchronization that began after its copy was
// queued (Sync, Read, or the writer draining a full ring).

const (
	// stageSize is the page-locked staging ring's size.
	stageSize = 256 << 10
	// stageMax is the largest Write that goes through the ring.
	stageMax = 16 << 10
	// stageAlign rounds each slot so copies start on a cache line.
	stageAlign = 64
)

// stageRing accounts for the staging ring's bytes: queued counts every
// byte handed out so far (slots and the padding skipped at a wrap), done
// the bytes whose copies are known to have run.
type stageRing struct {
	size, queued, done int64
}

// reserve hands out n contiguous bytes (n ≤ size) at offset off; ok is
// false when they are not free yet (the caller synchronizes the stream,
// calls retire with the queued count read before, and tries again).
func (r *stageRing) reserve(n int64) (off int64, ok bool) {
	n = (n + stageAlign - 1) &^ (stageAlign - 1)
	if r.queued == r.done {
		// Nothing pending: start again at the ring's beginning.
		r.queued = (r.queued + r.size - 1) / r.size * r.size
		r.done = r.queued
	}
	pos := r.queued % r.size
	var pad int64
	if pos+n > r.size {
		pad, pos = r.size-pos, 0
	}
	if r.queued+pad+n-r.done > r.size {
		return 0, false
	}
	r.queued += pad + n
	return pos, true
}

// retire marks every byte handed out before queued was read as free: a
// stream synchronization that began after then has returned.
func (r *stageRing) retire(queued int64) {
	if queued > r.done {
		r.done = queued
	}
}

// asyncWritesDefault is the initial setting: on unless
// RLX_CUDA_ASYNC_WRITES=0 (A/B measurements).
func asyncWritesDefault() bool { return os.Getenv("RLX_CUDA_ASYNC_WRITES") != "0" }

// writeStaged queues a copy of src to p through the staging ring. done is
// false when the write must take the synchronous path instead: staging is
// off or failed, src is large, or a graph capture is under way (a copy
// queued then would be recorded into the graph).
func (b *Backend) writeStaged(p driver.Ptr, src []byte) (done bool, err error) {
	n := int64(len(src))
	if !b.asyncWrites || n > stageMax {
		return false, nil
	}
	b.stageMu.Lock()
	defer b.stageMu.Unlock()
	if b.capturing || b.stageFailed {
		return false, nil
	}
	if b.stage == nil {
		buf, err := b.ctx.HostAlloc(stageSize)
		if err != nil {
			b.stageFailed = true
			return false, nil
		}
		b.stage, b.ring = buf, stageRing{size: stageSize}
	}
	off, ok := b.ring.reserve(n)
	if !ok {
		q := b.ring.queued
		if err := b.ctx.SyncStream(b.stream); err != nil {
			return true, err
		}
		b.ring.retire(q)
		if off, ok = b.ring.reserve(n); !ok {
			return false, nil
		}
	}
	slot := b.stage[off : off+n]
	copy(slot, src)
	return true, b.ctx.CopyHtoDAsync(p, slot, b.stream)
}

// stageMark is the ring's queued count, read before a stream
// synchronization so that stageRetire can free what was queued by then.
func (b *Backend) stageMark() int64 {
	b.stageMu.Lock()
	defer b.stageMu.Unlock()
	return b.ring.queued
}

// stageRetire frees the ring's bytes queued before mark was read; the
// stream has been synchronized since.
func (b *Backend) stageRetire(mark int64) {
	b.stageMu.Lock()
	b.ring.retire(mark)
	b.stageMu.Unlock()
}

// setCapturing tells writeStaged that a capture is (or is no longer) under
// way on the stream.
func (b *Backend) setCapturing(on bool) {
	b.stageMu.Lock()
	b.capturing = on
	b.stageMu.Unlock()
}

// freeStage releases the staging ring; the stream must be idle.
func (b *Backend) freeStage() error {
	b.stageMu.Lock()
	defer b.stageMu.Unlock()
	var err error
	if b.stage != nil {
		err = b.ctx.HostFree(b.stage)
		b.stage = nil
	}
	b.ring = stageRing{}
	return err
}
