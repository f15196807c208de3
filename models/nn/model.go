package nn

import (
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/weights"
)

// Source is what a family's Open reads: the checkpoint and, for
// safetensors, its config.json.
type Source struct {
	Weights  *weights.Map
	HFConfig []byte // nil for GGUF (its metadata is in Weights)
}

// Model is a decoder-only model over one checkpoint: its configuration, its
// parameters, and the function that writes its graph.
type Model struct {
	Config *Config
	Params *Params
	Graph  func(GraphOptions) (*ir.Graph, error)
}

// OpenFunc is the type of a decoder family's Open, registered in
// models.Family.Open.
type OpenFunc func(Source) (*Model, error)

// GraphFunc is the type of a decoder family's Graph: it writes the model
// of configuration c over parameters p.
type GraphFunc func(c *Config, p *Params, o GraphOptions) (*ir.Graph, error)

// ReadConfig reads src's configuration with the family's readers: fromHF
// for a safetensors checkpoint's config.json, fromGGUF for a GGUF file's
// metadata.
func ReadConfig(src Source, fromHF func([]byte) (*Config, error), fromGGUF func(*gguf.Metadata) (*Config, error)) (*Config, error) {
	if src.HFConfig != nil {
		return fromHF(src.HFConfig)
	}
	return fromGGUF(src.Weights.GGUF())
}

// NewModel is the Model of configuration c and parameters p whose graphs
// graph writes.
func NewModel(c *Config, p *Params, graph GraphFunc) *Model {
	return &Model{Config: c, Params: p, Graph: func(o GraphOptions) (*ir.Graph, error) { return graph(c, p, o) }}
}
