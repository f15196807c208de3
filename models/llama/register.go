package llama

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "llama", Kind: models.LM,
		HFModelTypes:    []string{"llama", "mistral"},
		HFArchitectures: []string{"LlamaForCausalLM", "MistralForCausalLM"},
		GGUFArchs:       []string{"llama"}, Open: nn.OpenFunc(Open),
	})
}
