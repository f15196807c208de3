package gemma2

import (
	"github.com/rlx-go/rlx/models"
	"github.com/rlx-go/rlx/models/nn"
)

func init() {
	models.Register(models.Family{
		Name: "gemma2", Kind: models.LM,
		HFModelTypes:    []string{"gemma2"},
		HFArchitectures: []string{"Gemma2ForCausalLM"},
		GGUFArchs:       []string{"gemma2"}, Open: nn.OpenFunc(Open),
	})
}
