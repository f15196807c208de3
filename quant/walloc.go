package quant

import "github.com/rlx-go/rlx/internal/offheap"

// allocWeights returns n zeroed bytes for m's repacked weights or scales.
//
// Repacked weights are read once per token from end to end, hundreds of
// megabytes per token for a decoder LM, so how they are mapped matters as
// much as the kernels: buffers of at least 2 MiB start on a huge page and
// the OS is asked to back them with transparent huge pages (Linux, THP
// "always" or "madvise"), sparing a TLB miss and a prefetcher restart every
// 4 KiB; smaller ones are carved from shared huge-page chunks (measured in
// docs/PERFORMANCE.md, "Quantized kernels").
//
// They live outside the Go heap (package internal/offheap), so that the
// collector's GOGC headroom does not grow with the model, and are returned
// to the OS when m is collected. Code that hands raw pointers into them to
// a kernel keeps m alive until the kernel is done (runtime.KeepAlive).
func (m *Matrix) allocWeights(n int) []byte { return offheap.Alloc(m, n) }
