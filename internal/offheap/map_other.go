//go:build !(linux || darwin) || purego

package offheap

// Without anonymous mappings (Windows, other systems, the purego build)
// buffers come from the Go heap.
const anonMaps = false

const pageSize = 4 << 10

func mapAnon(int) ([]byte, error) { panic("offheap: no anonymous mappings") }

func unmap([]byte) error { panic("offheap: no anonymous mappings") }
