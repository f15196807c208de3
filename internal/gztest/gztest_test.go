package gztest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gz(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRead(t *testing.T) {
	want := bytes.Repeat([]byte("fixture bytes\n"), 5000)
	p := filepath.Join(t.TempDir(), "f.gz")
	if err := os.WriteFile(p, gz(t, want), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Read(t, p); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written", len(got), len(want))
	}
}

// TestReadErrors: a missing file, a file that is not gzip and a truncated
// one are errors that name the file, never short or garbled data.
func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := read(filepath.Join(dir, "missing.gz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	plain := filepath.Join(dir, "plain.gz")
	if err := os.WriteFile(plain, []byte("not compressed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := read(plain); !errors.Is(err, gzip.ErrHeader) || !strings.Contains(err.Error(), plain) {
		t.Errorf("not gzip: err = %v", err)
	}
	z := gz(t, bytes.Repeat([]byte("abc"), 10000))
	cut := filepath.Join(dir, "cut.gz")
	if err := os.WriteFile(cut, z[:len(z)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := read(cut); !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), cut) {
		t.Errorf("truncated: err = %v", err)
	}
}
