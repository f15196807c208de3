package llama

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "llama", Kind: models.LM,
		HFModelTypes:    []string{"llama", "mistral", "minicpm"},
		HFArchitectures: []string{"LlamaForCausalLM", "MistralForCausalLM", "MiniCPMForCausalLM"},
		GGUFArchs:       []string{"llama", "minicpm"}, Open: nn.OpenFunc(Open),
	})
}
