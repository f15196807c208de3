package embed_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// rewrite copies the HF BERT fixture's weights into a new folder, renaming
// every tensor with prefix and storing it as dt (F32, F16 or BF16).
func rewrite(t *testing.T, prefix string, dt tensor.DType) string {
	t.Helper()
	const src = "testdata/hf-bert"
	m, err := weights.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	names := m.Names()
	slices.Sort(names)
	var infos []safetensors.TensorInfo
	data := map[string][]byte{}
	for _, n := range names {
		w, _ := m.Lookup(n)
		f, err := w.Float32()
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, x := range f {
			switch dt {
			case tensor.F16:
				b = binary.LittleEndian.AppendUint16(b, tensor.F32ToF16(x))
			case tensor.BF16:
				b = binary.LittleEndian.AppendUint16(b, tensor.F32ToBF16(x))
			default:
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
		infos = append(infos, safetensors.TensorInfo{Name: prefix + n, DType: dt, Shape: w.Shape})
		data[prefix+n] = b
	}
	// A masked-LM head the encoder must ignore.
	infos = append(infos, safetensors.TensorInfo{Name: prefix + "cls.predictions.bias", DType: dt, Shape: []int64{2}})
	data[prefix+"cls.predictions.bias"] = make([]byte, len(data[infos[0].Name])/int(infos[0].Elements())*2)
	wr, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if err := wr.WriteTensor(in.Name, data[in.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"reference.safetensors", "reference.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Weights under "bert." (BertForMaskedLM and friends) and in half
// precision give the same model: exactly, and within the rounding of the
// weights.
func TestBertVariants(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		dt     tensor.DType
		tol    float64
	}{{"bert.", tensor.F32, 0}, {"", tensor.F16, 3e-3}, {"bert.", tensor.BF16, 3e-2}} {
		dir := rewrite(t, tc.prefix, tc.dt)
		model := openModel(t, dir, bert.Open)
		if model.Names.Word != tc.prefix+bert.HFNames.Word {
			t.Fatalf("%q: names %q", tc.prefix, model.Names.Word)
		}
		f := loadHF(t, dir)
		if tc.tol > 0 {
			f.tol = tc.tol
		}
		checkHF(t, model, f, 2)
	}
}
