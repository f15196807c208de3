package gemma

import "github.com/rlx-go/rlx/weights"

// Names maps Gemma's Hugging Face tensor names to llama.cpp's (the shared
// decoder names).
var Names = weights.DecoderNames
