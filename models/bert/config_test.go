package bert_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/models/bert"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/weights"
)

const fixture = "../../runtime/embed/testdata/hf-bert/"

func TestParseHF(t *testing.T) {
	data, err := os.ReadFile(fixture + "config.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := bert.ParseHF(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 64 || c.Layers != 2 || c.Heads != 4 || c.Intermediate != 128 || c.Vocab != 512 ||
		c.MaxPositions != 64 || c.TypeVocab != 2 || c.Eps != 1e-12 || c.Act != bert.GeluErf || !c.Biases || c.Rotary {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []string{
		`{`,
		`{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 5, "intermediate_size": 8, "vocab_size": 9, "max_position_embeddings": 8}`,
		`{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9, "max_position_embeddings": 8, "hidden_act": "mish"}`,
		`{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9, "max_position_embeddings": 8, "position_embedding_type": "relative_key"}`,
		`{"hidden_size": 64, "num_hidden_layers": 0, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9, "max_position_embeddings": 8}`,
		`{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9}`,
	} {
		if _, err := bert.ParseHF([]byte(bad)); !errors.Is(err, bert.ErrConfig) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// A configuration that disagrees with the tensors fails at Open, naming
// the tensor.
func TestOpenShapeMismatch(t *testing.T) {
	m, err := weights.Open(fixture + "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data, err := os.ReadFile(fixture + "config.json")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(data), `"intermediate_size": 128`, `"intermediate_size": 96`, 1)
	_, err = bert.Open(m, []byte(wrong))
	if !errors.Is(err, nn.ErrShape) || !strings.Contains(err.Error(), "intermediate.dense") {
		t.Fatalf("%v", err)
	}
	model, err := bert.Open(m, data)
	if err != nil {
		t.Fatal(err)
	}
	if !model.Config.Pooler || model.Config.TypeVocab != 2 {
		t.Fatalf("%+v", model.Config)
	}
}

func FuzzParseHF(f *testing.F) {
	if data, err := os.ReadFile(fixture + "config.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "vocab_size": 3, "max_position_embeddings": 2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := bert.ParseHF(data)
		if err == nil && c.Validate() != nil {
			t.Fatal("accepted an invalid configuration")
		}
	})
}
