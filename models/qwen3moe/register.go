package qwen3moe

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "qwen3moe", Kind: models.LM,
		HFModelTypes:    []string{"qwen3_moe"},
		HFArchitectures: []string{"Qwen3MoeForCausalLM"},
		GGUFArchs:       []string{"qwen3moe"}, Open: nn.OpenFunc(Open),
	})
}
