package gguf_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/rlx-go/rlx/format/gguf"
)

func ExampleOpen() {
	f, err := gguf.Open("testdata/qwen3-Q4_K_M.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	md := f.Metadata
	layers, _ := md.Uint32(md.ArchKey("block_count"))
	ft, _ := md.FileType()
	fmt.Println(md.Arch(), layers, "layers,", len(f.Tensors), "tensors,", ft)

	t, _ := f.Tensor("token_embd.weight")
	data, _ := f.Data(t) // zero-copy view of the mapped file
	fmt.Println(t.Type, "dims (ggml order)", t.Dims, "shape", t.Shape(), len(data), "bytes")
	// Output:
	// qwen3 2 layers, 24 tensors, Q4_K_M
	// Q6_K dims (ggml order) [256 512] shape [512 256] 107520 bytes
}

func ExampleNewWriter() {
	md := &gguf.Metadata{}
	_ = md.Set(gguf.KeyArchitecture, "llama")
	_ = md.Set("llama.block_count", uint32(1))
	_ = md.Set("tokenizer.ggml.tokens", []string{"<s>", "</s>", "hi"})

	// Declare every tensor first (ggml order: innermost dimension first),
	// then stream their bytes in the same order.
	tensors := []gguf.TensorInfo{
		{Name: "token_embd.weight", Type: gguf.TypeF32, Dims: []uint64{4, 3}},
		{Name: "output_norm.weight", Type: gguf.TypeF32, Dims: []uint64{4}},
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, md, tensors)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range w.Tensors() {
		if err := w.WriteTensor(t.Name, make([]byte, t.Size)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := gguf.Parse("in-memory", buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	toks, _ := f.Metadata.Strings("tokenizer.ggml.tokens")
	fmt.Println(f.Metadata.Arch(), len(f.Tensors), toks)
	// Output: llama 2 [<s> </s> hi]
}
