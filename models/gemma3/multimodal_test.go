package gemma3

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/models/internal/lmtest"
	"github.com/rlx-go/rlx/weights"
)

// A Gemma3ForConditionalGeneration checkpoint keeps the text model under
// model.language_model and its config under text_config: the same weights
// laid out that way give the same logits.
func TestMultimodalLayout(t *testing.T) {
	src, err := weights.Open("testdata/hf/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	var infos []safetensors.TensorInfo
	data := map[string][]byte{}
	for _, n := range src.Names() {
		tn, _ := src.Tensor(n)
		nn := strings.Replace(n, "model.", "model.language_model.", 1)
		infos = append(infos, safetensors.TensorInfo{Name: nn, DType: tn.DType, Shape: tn.Shape})
		data[nn] = tn.Data
	}
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if err := w.WriteTensor(in.Name, data[in.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile("testdata/hf/config.json")
	cfg := `{"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","text_config":` + string(text) + `}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := []int32{5, 9, 42, 100, 7, 300, 77}
	ctx := context.Background()
	a, err := lmtest.NewLM(t, lmtest.OpenHF(t, "testdata/hf", Open), 16).PredictLogits(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	b, err := lmtest.NewLM(t, lmtest.OpenHF(t, dir, Open), 16).PredictLogits(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatalf("logit %d: %v vs %v", i, a.Data[i], b.Data[i])
		}
	}
}
