package gemma

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "gemma", Kind: models.LM,
		HFModelTypes:    []string{"gemma"},
		HFArchitectures: []string{"GemmaForCausalLM"},
		GGUFArchs:       []string{"gemma"}, Open: nn.OpenFunc(Open),
	})
}
