package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbedCLI runs rlx embed on the tiny NomicBERT GGUF of runtime/embed's
// test data: texts on stdin, ids from a file, and the --json document.
// Every flag is given each time: cobra keeps flag values between in-process
// runs.
func TestEmbedCLI(t *testing.T) {
	model := filepath.Join("..", "..", "runtime", "embed", "testdata", "gguf-nomic_bert", "nomic-bert-f32.gguf")
	out, err := tokenizeCLI(t, "wf wg\n\nwh\n", "embed", "--weights", model, "--pooling", "mean", "--normalize=true", "--ids-file", "", "--json=false")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 3 inputs: %q", len(lines), out)
	}
	var vecs [][]float64
	for _, l := range lines {
		var v []float64
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, x := range v {
			s += x * x
		}
		if len(v) != 64 || math.Abs(s-1) > 1e-5 {
			t.Fatalf("%d values, squared norm %g", len(v), s)
		}
		vecs = append(vecs, v)
	}
	// The same tokens as ids ([CLS]=1 … [SEP]=2), once as an array and once as an object.
	ids := filepath.Join(t.TempDir(), "ids.jsonl")
	if err := os.WriteFile(ids, []byte("[1, 5, 6, 2]\n\n{\"input_ids\": [1, 2], \"token_type_ids\": [0, 0]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = tokenizeCLI(t, "", "embed", "--weights", model, "--pooling", "mean", "--normalize=true", "--ids-file", ids, "--json=true")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Family     string      `json:"family"`
		Dim        int         `json:"dim"`
		Embeddings [][]float64 `json:"embeddings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Family != "nomic_bert" || doc.Dim != 64 || len(doc.Embeddings) != 2 {
		t.Fatalf("%+v", doc)
	}
	for i, want := range [][]float64{vecs[0], vecs[1]} {
		for j := range want {
			if math.Abs(doc.Embeddings[i][j]-want[j]) > 1e-6 {
				t.Fatalf("ids line %d differs from the text's embedding", i)
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("[1, 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tokenizeCLI(t, "", "embed", "--weights", model, "--pooling", "mean", "--normalize=true", "--ids-file", bad, "--json=false"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad ids file: %v", err)
	}
}
