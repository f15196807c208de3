package synth_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rlx-go/rlx/synth"
)

// Write a random-weight model with Qwen3's layout (two small layers) as a
// Q8_0 GGUF file, the mix llama-quantize makes.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "synth")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	spec, err := synth.Preset("qwen3", "tiny") // or "0.6b" for Qwen3-0.6B's shapes
	if err != nil {
		panic(err)
	}
	ft, err := synth.FileType("Q8_0")
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "qwen3-tiny-Q8_0.gguf")
	if err := synth.Write(context.Background(), path, spec, synth.Options{Type: ft, Seed: 1}); err != nil {
		panic(err)
	}
	fmt.Println(spec.Arch, spec.Layers, "layers,", spec.Params(), "parameters")
	// Output: qwen3 2 layers, 1312256 parameters
}

func ExamplePresets() {
	for _, arch := range synth.Archs {
		fmt.Println(arch, synth.Presets(arch))
	}
	// Output:
	// qwen3 [tiny 0.6b 1.7b]
	// llama [tiny 1b 3b]
	// qwen2 [tiny 0.5b]
	// gemma [tiny 2b]
	// gemma2 [tiny 2b]
	// gemma3 [tiny 1b]
	// qwen3moe [tiny small]
}
