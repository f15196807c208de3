// Package gztest reads the gzip-compressed fixtures that tests keep in
// their testdata folders (tokenizers, vocabularies, reference outputs are
// stored compressed to keep the repository small).
package gztest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"testing"
)

// Read returns the decompressed contents of the gzip file at path; it
// stops the test with the reason if the file is missing or not gzip.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
