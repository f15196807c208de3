//go:build linux && !purego

package mmap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx/internal/procstat"
)

// rssFile is this process's resident file-backed memory in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	n, err := procstat.Bytes("RssFile")
	if err != nil {
		t.Skip(err)
	}
	return n
}

// TestReleaseDropsPages reads a 32 MiB mapping (making it resident), then
// releases it: the process's resident file memory must fall by about that
// much, and the bytes read back unchanged.
func TestReleaseDropsPages(t *testing.T) {
	const size = 32 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := m.Bytes()
	page := os.Getpagesize()
	var sum int
	for i := 0; i < len(b); i += page {
		sum += int(b[i])
	}
	before := rssFile(t)
	if n := Release(b); n != size {
		t.Fatalf("released %d of %d bytes", n, size)
	}
	after := rssFile(t)
	if before-after < size*3/4 {
		t.Fatalf("resident file memory %d → %d bytes: Release dropped less than 3/4 of %d", before, after, size)
	}
	got := 0
	for i := 0; i < len(b); i += page {
		got += int(b[i])
	}
	if got != sum {
		t.Fatal("contents changed after Release")
	}
	m.Close()
	if n := Release(b[:page]); n != 0 {
		t.Fatalf("released %d bytes of a closed mapping", n)
	}
}
