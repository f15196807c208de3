package qwen2

import "github.com/rlx-go/rlx/weights"

// Names maps Qwen2's Hugging Face tensor names to llama.cpp's (the shared
// decoder names; biases carry over with their modules).
var Names = weights.DecoderNames
