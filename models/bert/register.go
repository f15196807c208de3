// Package bert is the BERT encoder family (BertModel: MiniLM, BGE, E5,
// all-MiniLM-L6-v2 and the like): absolute positions, token types, GELU,
// post-norm blocks. Its graph builder also serves families that share the
// block shape (models/nomicbert: rotary positions, SwiGLU, no biases).
//
// The graph returns last_hidden_state (and optionally BERT's pooler
// output); pooling into sentence embeddings is runtime/embed's job.
package bert

import "github.com/rlx-go/rlx/models"

func init() {
	models.Register(models.Family{
		Name:            "bert",
		Kind:            models.Embedder,
		HFModelTypes:    []string{"bert"},
		HFArchitectures: []string{"BertModel", "BertForMaskedLM", "BertForPreTraining"},
		GGUFArchs:       []string{"bert"},
		Open:            OpenFunc(Open),
	})
}
