package gemma3

import "github.com/rlx-go/rlx/weights"

// Names maps Gemma 3 (text)'s Hugging Face tensor names to llama.cpp's:
// the sandwich-norm names, whose four norms per layer differ from Llama's.
var Names = weights.SandwichNormNames
