package llama

import "github.com/rlx-go/rlx/weights"

// Names maps Llama's Hugging Face tensor names to llama.cpp's (the shared
// decoder names; rope_freqs.weight is GGUF-only and read by its own name).
var Names = weights.DecoderNames
