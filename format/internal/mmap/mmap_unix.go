//go:build (linux || darwin || freebsd || netbsd || openbsd || dragonfly) && !purego

package mmap

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func mapFile(f *os.File, size int) ([]byte, bool) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Some filesystems refuse mmap; reading the file still works.
		return nil, false
	}
	return data, true
}

func unmap(data []byte) error { return syscall.Munmap(data) }

// dontNeed drops the pages of a read-only shared file mapping: they are
// clean, so the next access reads them back from the file.
func dontNeed(b []byte) error { return unix.Madvise(b, unix.MADV_DONTNEED) }
