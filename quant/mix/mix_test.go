package mix

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/internal/gztest"
)

// testdata/llama-quantize.json holds, per model and mix, the SHA-256 and
// tensor types of the file llama-quantize wrote (scripts/refgen/mix_testdata.py).
type refEntry struct {
	SHA256 string            `json:"sha256"`
	Size   int               `json:"size"`
	Types  map[string]string `json:"types"`
}

func loadRef(t *testing.T) map[string]refEntry {
	b, err := os.ReadFile("testdata/llama-quantize.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]refEntry
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestQuantizeFileMatchesLlamaQuantize(t *testing.T) {
	ref := loadRef(t)
	if len(ref) < 28 {
		t.Fatalf("reference has %d entries", len(ref))
	}
	dir := t.TempDir()
	for key, want := range ref {
		model, mixName, _ := strings.Cut(key, "/")
		t.Run(key, func(t *testing.T) {
			ft, ok := gguf.ParseFileType(mixName)
			if !ok {
				t.Fatalf("unknown mix %q", mixName)
			}
			out := filepath.Join(dir, model+"-"+mixName+".gguf")
			rep, err := QuantizeFile(context.Background(), filepath.Join("testdata", model+".f32.gguf"), out, ft, Options{Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(got)
			if hex.EncodeToString(sum[:]) == want.SHA256 {
				return
			}
			// Explain the difference: types first, then bytes.
			f, err := gguf.Parse(out, got)
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range f.Tensors {
				if w := want.Types[ti.Name]; !strings.EqualFold(w, ti.Type.String()) {
					t.Errorf("%s: type %s, llama-quantize %s", ti.Name, ti.Type, w)
				}
			}
			t.Errorf("output (%d bytes, %d tensors quantized) differs from llama-quantize's (%d bytes)", len(got), rep.Quantized, want.Size)
			if mixName == "Q4_K_M" {
				diffAgainst(t, got, "testdata/"+model+"-Q4_K_M.gguf.gz")
			}
		})
	}
}

func diffAgainst(t *testing.T, got []byte, gz string) {
	want := gztest.Read(t, gz)
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("first differing byte at %d of %d", i, len(want))
			return
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("lengths %d vs %d", len(got), len(want))
	}
}

func TestFallback(t *testing.T) {
	ti := func(cols uint64) gguf.TensorInfo {
		return gguf.TensorInfo{Name: "blk.0.ffn_down.weight", Dims: []uint64{cols, 4}}
	}
	cases := []struct {
		cols     uint64
		in, want gguf.GGMLType
	}{
		{512, gguf.TypeQ4_K, gguf.TypeQ4_K},
		{288, gguf.TypeQ4_K, gguf.TypeQ5_0},
		{288, gguf.TypeQ5_K, gguf.TypeQ5_1},
		{288, gguf.TypeQ6_K, gguf.TypeQ8_0},
		{288, gguf.TypeQ2_K, gguf.TypeQ4_0},
		{100, gguf.TypeQ3_K, gguf.TypeF16},
	}
	for _, c := range cases {
		got, err := fallback(ti(c.cols), c.in)
		if err != nil || got != c.want {
			t.Errorf("fallback(%d, %s) = %s, %v; want %s", c.cols, c.in, got, err, c.want)
		}
	}
	if _, err := fallback(ti(100), gguf.TypeQ4_0); err == nil {
		t.Error("Q4_0 on rows of 100 should fail, as in llama.cpp")
	}
}

func TestSortOrder(t *testing.T) {
	ts := []gguf.TensorInfo{{Name: "blk.10.a"}, {Name: "blk.2.b"}, {Name: "output.weight"}, {Name: "blk.2.a"}, {Name: "token_embd.weight"}}
	Sort(ts)
	var names []string
	for _, x := range ts {
		names = append(names, x.Name)
	}
	want := "output.weight token_embd.weight blk.2.a blk.2.b blk.10.a"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestQuantizeFileErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := QuantizeFile(ctx, "testdata/nope.gguf", filepath.Join(dir, "o.gguf"), 15, Options{Log: quiet}); err == nil {
		t.Error("missing input accepted")
	}
	if _, err := QuantizeFile(ctx, "testdata/llama4.f32.gguf", filepath.Join(dir, "o.gguf"), 30, Options{Log: quiet}); err == nil {
		t.Error("IQ4_XS mix accepted")
	}
	// requantizing a quantized file is refused, naming the tensor
	q := filepath.Join(dir, "q.gguf")
	if _, err := QuantizeFile(ctx, "testdata/llama4.f32.gguf", q, 7, Options{Log: quiet}); err != nil {
		t.Fatal(err)
	}
	_, err := QuantizeFile(ctx, q, filepath.Join(dir, "o.gguf"), 15, Options{Log: quiet})
	if err == nil || !strings.Contains(err.Error(), "requantiz") {
		t.Errorf("requantize: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "o.gguf")); err == nil {
		t.Error("failed run left its output behind")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := QuantizeFile(cctx, "testdata/llama4.f32.gguf", filepath.Join(dir, "c.gguf"), 15, Options{Log: quiet}); err == nil {
		t.Error("cancelled context ignored")
	}
}
