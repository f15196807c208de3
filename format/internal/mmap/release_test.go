package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestReleaseKeepsContents(t *testing.T) {
	page := os.Getpagesize()
	want := make([]byte, 10*page+123)
	for i := range want {
		want[i] = byte(i*7 + i/page)
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := m.Bytes()
	if !bytes.Equal(b, want) {
		t.Fatal("contents differ")
	}
	// An unaligned range releases only the pages wholly inside it.
	n := Release(b[page/2 : 5*page+7])
	if m.Mapped() && n != int64(4*page) {
		t.Fatalf("released %d bytes, want %d", n, 4*page)
	}
	if !m.Mapped() && n != 0 {
		t.Fatalf("released %d bytes of a file read into memory", n)
	}
	if got := Release(b[1 : page-1]); got != 0 {
		t.Fatalf("a range inside one page released %d bytes", got)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("contents changed after Release")
	}
	heap := append([]byte(nil), want...)
	if got := Release(heap); got != 0 {
		t.Fatalf("heap bytes: released %d", got)
	}
	if !bytes.Equal(heap, want) {
		t.Fatal("heap bytes changed")
	}
	if got := Release(nil); got != 0 {
		t.Fatalf("nil: %d", got)
	}
}
