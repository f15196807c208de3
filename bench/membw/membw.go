// Package membw measures memory read bandwidth the way a weight-streaming
// kernel sees it: every worker of a pool sums its own contiguous part of a
// buffer much larger than the caches, with vector loads. It is the
// ceiling that decode-time GEMV is compared against (docs/PERFORMANCE.md).
package membw

import (
	"slices"
	"time"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// Buffer is memory to stream: allocate it once (it is touched, so the pages
// exist) and probe it repeatedly.
type Buffer struct {
	data []float32
	last float32
}

// NewBuffer allocates and touches bytes of memory (rounded down to 4 KiB).
func NewBuffer(bytes int) *Buffer {
	n := max(1024, bytes/4/1024*1024)
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i & 7)
	}
	return &Buffer{data: d}
}

// Bytes is the buffer's size.
func (b *Buffer) Bytes() int { return 4 * len(b.data) }

// Read streams the whole buffer once on the pool's workers and returns
// the bandwidth in bytes per second. Each worker takes one contiguous
// slice, as a GEMV worker takes its weight rows.
func (b *Buffer) Read(p *parallel.Pool) float64 {
	var sums [64]float32
	n := len(b.data)
	parts := p.Size()
	chunk := (n/parts + 1023) / 1024 * 1024
	t0 := time.Now()
	p.Run(parts, func(task, _ int) {
		lo := min(n, task*chunk)
		hi := min(n, lo+chunk)
		if task == parts-1 {
			hi = n
		}
		sums[task%len(sums)] = sum(b.data[lo:hi])
	})
	dt := time.Since(t0).Seconds()
	b.last = sums[0]
	return float64(b.Bytes()) / dt
}

// Last is the first worker's sum from the latest Read, which keeps the
// reads observable (and lets a caller check the data was really read).
func (b *Buffer) Last() float32 { return b.last }

// Series reads the buffer repeatedly for about d and returns the
// bandwidths of the passes, sorted ascending.
func (b *Buffer) Series(p *parallel.Pool, d time.Duration) []float64 {
	var out []float64
	end := time.Now().Add(d)
	for len(out) < 3 || time.Now().Before(end) {
		out = append(out, b.Read(p))
	}
	slices.Sort(out)
	return out
}

// sumGo is the portable twin of the vector sum.
func sumGo(x []float32) float32 {
	var s [8]float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		s[0] += x[i]
		s[1] += x[i+1]
		s[2] += x[i+2]
		s[3] += x[i+3]
		s[4] += x[i+4]
		s[5] += x[i+5]
		s[6] += x[i+6]
		s[7] += x[i+7]
	}
	for ; i < len(x); i++ {
		s[0] += x[i]
	}
	return (s[0] + s[1] + s[2] + s[3]) + (s[4] + s[5] + s[6] + s[7])
}
