package qwen3

import "github.com/rlx-go/rlx/weights"

// Names maps Qwen3's Hugging Face tensor names to llama.cpp's: the shared
// decoder names cover them all (q_norm/k_norm included).
var Names = weights.DecoderNames
