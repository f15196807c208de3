//go:build linux

package quant

import "syscall"

// madvHugepage is Linux's MADV_HUGEPAGE (not in package syscall).
const madvHugepage = 14

// adviseHuge asks the kernel to back b (whole huge pages, not yet touched)
// with transparent huge pages. It is only advice: where THP is off or
// unavailable the memory keeps its normal pages, so errors are ignored.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, madvHugepage) }
