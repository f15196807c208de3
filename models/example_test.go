package models_test

import (
	"fmt"

	"github.com/rlx-go/rlx/models"
)

func ExampleRegister() {
	// A family package registers itself from init.
	models.Register(models.Family{
		Name:            "tinylm",
		Kind:            models.LM,
		HFModelTypes:    []string{"tinylm"},
		HFArchitectures: []string{"TinyLMForCausalLM"},
		GGUFArchs:       []string{"tinylm"},
	})

	f, ok := models.ByGGUF("tinylm")
	fmt.Println(f.Name, f.Kind, ok)
	k, ok := models.KnownByGGUF("qwen3moe") // known, not (yet) registered
	fmt.Println(k.Family, k.Kind, ok)
	// Output:
	// tinylm LM true
	// qwen3moe LM true
}
