package safetensors

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and every
// accepted tensor's bytes must be inside the file and of the declared size.
// The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(file(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			b, err := g.Data(ti)
			if err != nil {
				t.Fatalf("accepted %q, Data: %v", ti.Name, err)
			}
			if int64(len(b)) != ti.Elements()*int64(ti.DType.BlockBytes()) {
				t.Fatalf("%q: %d bytes for shape %v", ti.Name, len(b), ti.Shape)
			}
		}
		// What we accept, our writer can write and we can read back.
		var buf bytes.Buffer
		w, err := NewWriter(&buf, g.Tensors, g.Metadata)
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
		if _, err := Parse("rewritten", buf.Bytes()); err != nil {
			t.Fatalf("rewritten file rejected: %v", err)
		}
	})
}
