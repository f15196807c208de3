package gemma3

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "gemma3", Kind: models.LM,
		HFModelTypes:    []string{"gemma3_text", "gemma3"},
		HFArchitectures: []string{"Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"},
		GGUFArchs:       []string{"gemma3"}, Open: nn.OpenFunc(Open),
	})
}
