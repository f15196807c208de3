//go:build !linux

package quant

// adviseHuge is a no-op where there is no madvise(MADV_HUGEPAGE).
func adviseHuge([]byte) {}
