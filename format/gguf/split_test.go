package gguf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sameTensors checks that files (parts of a split) hold exactly the tensors
// of whole, with the same bytes.
func sameTensors(t *testing.T, whole *File, parts []*File) {
	t.Helper()
	n := 0
	for _, p := range parts {
		for _, ti := range p.Tensors {
			n++
			want, ok := whole.Tensor(ti.Name)
			if !ok {
				t.Fatalf("%s: unexpected tensor %s", p.Path, ti.Name)
			}
			a, _ := whole.Data(want)
			b, err := p.Data(ti)
			if err != nil || !bytes.Equal(a, b) || want.Type != ti.Type || len(want.Dims) != len(ti.Dims) {
				t.Fatalf("%s: tensor %s differs (%v)", p.Path, ti.Name, err)
			}
		}
	}
	if n != len(whole.Tensors) {
		t.Fatalf("parts hold %d tensors, whole file %d", n, len(whole.Tensors))
	}
}

// testdata/split was made from qwen3-Q4_K_M.gguf by llama.cpp's llama-gguf-split.
func TestOpenSplitFromLlamaCpp(t *testing.T) {
	whole, err := Open("testdata/qwen3-Q4_K_M.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	for _, start := range []int{1, 3} {
		parts, err := OpenSplit(filepath.Join("testdata", "split", SplitName("qwen3-Q4_K_M", start, 3)))
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 3 || parts[0].Metadata.Arch() != "qwen3" {
			t.Fatalf("%d parts", len(parts))
		}
		sameTensors(t, whole, parts)
		for _, p := range parts {
			p.Close()
		}
	}
	// A lone part names the ones that are missing.
	dir := t.TempDir()
	raw, _ := os.ReadFile(filepath.Join("testdata", "split", SplitName("qwen3-Q4_K_M", 2, 3)))
	lone := filepath.Join(dir, SplitName("qwen3-Q4_K_M", 2, 3))
	_ = os.WriteFile(lone, raw, 0o644)
	_, err = OpenSplit(lone)
	if !errors.Is(err, ErrMissingParts) || !strings.Contains(err.Error(), "qwen3-Q4_K_M-00001-of-00003.gguf, qwen3-Q4_K_M-00003-of-00003.gguf") {
		t.Errorf("missing parts: %v", err)
	}
	// A part renamed out of the pattern cannot find its siblings.
	odd := filepath.Join(dir, "renamed.gguf")
	_ = os.WriteFile(odd, raw, 0o644)
	if _, err := OpenSplit(odd); err == nil || !strings.Contains(err.Error(), "split.count") {
		t.Errorf("renamed part: %v", err)
	}
}

// llamaCppTool finds a llama.cpp binary (RLX_LLAMA_CPP_BIN or the build
// used in development); tests that need one skip without it.
func llamaCppTool(t *testing.T, name string) string {
	dir := os.Getenv("RLX_LLAMA_CPP_BIN")
	if dir == "" {
		dir = "/work/llama.cpp/build/bin"
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available (set RLX_LLAMA_CPP_BIN)", name)
	}
	return p
}

// llama.cpp's strict C reader accepts what our writer makes, in both
// directions: it splits our file, and merges split parts we wrote.
func TestLlamaCppReadsWriterOutput(t *testing.T) {
	tool := llamaCppTool(t, "llama-gguf-split")
	dir := t.TempDir()
	src := filepath.Join(dir, "ours.gguf")
	if err := os.WriteFile(src, writeAllTypes(t, false), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "--split", "--split-max-tensors", "7", src, filepath.Join(dir, "theirs")).CombinedOutput()
	if err != nil {
		t.Fatalf("llama-gguf-split --split: %v\n%s", err, out)
	}
	whole, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	parts, err := OpenSplit(filepath.Join(dir, SplitName("theirs", 1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, whole, parts)
	for _, k := range whole.Metadata.Keys() {
		a, _ := whole.Metadata.Get(k)
		b, ok := parts[0].Metadata.Get(k)
		if !ok || a.String() != b.String() || a.Type() != b.Type() {
			t.Errorf("key %s: %s became %s", k, a, b)
		}
	}

	// Now we write the parts (as llama-gguf-split lays them out) and llama.cpp merges them.
	for i, p := range parts {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, p.Metadata, p.Tensors)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range p.Tensors {
			data, _ := p.Data(ti)
			if err := w.WriteTensor(ti.Name, data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, SplitName("ours", i+1, 3)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	merged := filepath.Join(dir, "merged.gguf")
	out, err = exec.Command(tool, "--merge", filepath.Join(dir, SplitName("ours", 1, 3)), merged).CombinedOutput()
	if err != nil {
		t.Fatalf("llama-gguf-split --merge: %v\n%s", err, out)
	}
	m, err := Open(merged)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sameTensors(t, whole, []*File{m})
}

// llama.cpp loads and runs a model our writer laid out differently from
// the original (alignment 64, keys and tensors in reverse order).
func TestLlamaCppRunsRewrittenModel(t *testing.T) {
	tool := llamaCppTool(t, "llama-bench")
	f, err := Open("testdata/qwen3-Q4_K_M.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md := &Metadata{}
	keys := f.Metadata.Keys()
	for i := len(keys) - 1; i >= 0; i-- {
		v, _ := f.Metadata.Get(keys[i])
		if err := md.Set(keys[i], v); err != nil {
			t.Fatal(err)
		}
	}
	_ = md.Set(KeyAlignment, uint32(64))
	var ts []TensorInfo
	for i := len(f.Tensors) - 1; i >= 0; i-- {
		ts = append(ts, f.Tensors[i])
	}
	path := filepath.Join(t.TempDir(), "rewritten.gguf")
	w, err := Create(path, md, ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		data, _ := f.Data(ti)
		if err := w.WriteTensor(ti.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-m", path, "-p", "8", "-n", "4", "-t", "1", "-r", "1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tg4") {
		t.Fatalf("llama-bench: %v\n%s", err, out)
	}
}
