package qwen2

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "qwen2", Kind: models.LM,
		HFModelTypes:    []string{"qwen2"},
		HFArchitectures: []string{"Qwen2ForCausalLM"},
		GGUFArchs:       []string{"qwen2"}, Open: nn.OpenFunc(Open),
	})
}
