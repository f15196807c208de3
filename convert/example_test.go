package convert_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rlx-go/rlx/convert"
	"github.com/rlx-go/rlx/format/gguf"
)

// Convert a Hugging Face checkpoint folder to a Q4_K_M GGUF file.
func ExampleToGGUF() {
	dir, err := os.MkdirTemp("", "convert")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "qwen3-Q4_K_M.gguf")
	ft, _ := gguf.ParseFileType("Q4_K_M")
	rep, err := convert.ToGGUF(context.Background(), "../models/qwen3/testdata/hf", out, convert.Options{
		Type: ft,
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Arch, rep.Tensors, rep.Quantize.Quantized)
	// Output: qwen3 24 15
}
