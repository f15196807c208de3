//go:build linux

package gemm

import "syscall"

// madvHugepage is Linux's MADV_HUGEPAGE (not in package syscall).
const madvHugepage = 14

// adviseHuge asks for transparent huge pages over b (whole huge pages, not
// yet touched). It is advice only: errors (THP off, old kernels) leave the
// memory on normal pages and are ignored.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, madvHugepage) }
