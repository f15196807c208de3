package gguf

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and a file
// it accepts must survive a round trip through the Writer with the same
// metadata and tensors. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(small(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			b, err := g.Data(ti)
			if err != nil || uint64(len(b)) != ti.Size {
				t.Fatalf("accepted tensor %q but Data gives %d bytes, %v", ti.Name, len(b), err)
			}
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, g.Metadata, g.Tensors)
		if err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		for _, ti := range g.Tensors {
			b, _ := g.Data(ti)
			if err := w.WriteTensor(ti.Name, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h, err := Parse("rewritten", buf.Bytes())
		if err != nil {
			t.Fatalf("rewritten file rejected: %v", err)
		}
		if h.Metadata.Len() != g.Metadata.Len() || len(h.Tensors) != len(g.Tensors) {
			t.Fatal("rewrite lost keys or tensors")
		}
		for _, k := range g.Metadata.Keys() {
			a, _ := g.Metadata.Get(k)
			b, _ := h.Metadata.Get(k)
			if a.String() != b.String() || a.Type() != b.Type() {
				t.Fatalf("key %q: %s became %s", k, a, b)
			}
		}
		for i, ti := range g.Tensors {
			a, _ := g.Data(ti)
			b, _ := h.Data(h.Tensors[i])
			if h.Tensors[i].Name != ti.Name || h.Tensors[i].Type != ti.Type || !bytes.Equal(a, b) {
				t.Fatalf("tensor %q changed", ti.Name)
			}
		}
	})
}
