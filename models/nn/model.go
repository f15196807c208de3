package nn

import (
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
