package qwen3

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "qwen3", Kind: models.LM,
		HFModelTypes: []string{"qwen3"}, HFArchitectures: []string{"Qwen3ForCausalLM"},
		GGUFArchs: []string{"qwen3"}, Open: nn.OpenFunc(Open),
	})
}
