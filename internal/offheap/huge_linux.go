//go:build !purego

package offheap

import "golang.org/x/sys/unix"

// adviseHuge asks for transparent huge pages over b (whole huge pages, not
// yet touched). It is advice only: with THP off, or on old kernels, the
// memory keeps normal pages, so errors are ignored.
func adviseHuge(b []byte) {
	if len(b) > 0 {
		_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	}
}
