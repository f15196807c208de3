package bert

import (
	"fmt"

	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/weights"
)

// Open loads a BertModel checkpoint: a safetensors folder (hfConfig is its
// config.json; the encoder may sit under "bert.") or a GGUF file of
// architecture "bert" (hfConfig nil).
func Open(m *weights.Map, hfConfig []byte) (*Model, error) {
	var (
		c   *Config
		err error
	)
	names := HFNames
	if md := m.GGUF(); md != nil {
		if c, err = ParseGGUF(md); err != nil {
			return nil, err
		}
		c.Biases = true
		// llama.cpp evaluates BERT's GELU in its tanh form (through an F16
		// table); following it keeps GGUF files within 1e-4 of llama.cpp,
		// where the exact erf form drifts just past that.
		c.Act = GeluTanh
	} else {
		if c, err = ParseHF(hfConfig); err != nil {
			return nil, err
		}
		if _, ok := m.Lookup("bert." + HFNames.Word + ".weight"); ok {
			names = names.WithPrefix("bert.")
		}
	}
	return finish(&Model{Config: c, Names: names, Params: nn.NewParams(m, GGUFRules), Family: "bert"})
}

// finish fills what the tensors say (token type count, pooler), then
// checks every tensor against the configuration.
func finish(md *Model) (*Model, error) {
	c := md.Config
	if md.Names.TokenType != "" {
		if t, ok := md.Params.Find(md.Names.TokenType + ".weight"); ok && len(t.Shape) == 2 {
			c.TypeVocab = int(t.Shape[0])
		} else {
			c.TypeVocab = 0
		}
	}
	if md.Names.Pooler != "" {
		_, c.Pooler = md.Params.Find(md.Names.Pooler + ".weight")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := md.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", md.Params.Map().Resolved.Path, err)
	}
	return md, nil
}

// Finish completes a Model assembled by another family that reuses this
// encoder (NomicBERT): it reads the token-type and pooler tensors and
// checks every tensor's shape.
func Finish(md *Model) (*Model, error) { return finish(md) }
