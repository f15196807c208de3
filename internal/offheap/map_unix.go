//go:build (linux || darwin) && !purego

package offheap

import "golang.org/x/sys/unix"

const anonMaps = true

// pageSize is the smallest page of the supported systems' kernels that a
// mapping's length is rounded to (Apple silicon uses 16 KiB pages).
const pageSize = 16 << 10

func mapAnon(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
}

func unmap(b []byte) error { return unix.Munmap(b) }
