//go:build ignore

// Command addvocab copies a GGUF file with a 512-token SentencePiece-style
// vocabulary added (see README.md).
package main

import (
	"fmt"
	"os"

	"github.com/rlx-go/rlx/format/gguf"
)

func main() {
	in, err := gguf.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	md := in.Metadata.Clone()
	n := 512
	toks := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	for i := range toks {
		switch {
		case i == 0:
			toks[i], types[i] = "<unk>", 2
		case i == 1:
			toks[i], types[i] = "<s>", 3
		case i == 2:
			toks[i], types[i] = "</s>", 3
		case i < 259:
			toks[i], types[i] = fmt.Sprintf("<0x%02X>", i-3), 6
		default:
			toks[i], types[i] = fmt.Sprintf("t%d", i), 1
		}
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(md.Set("tokenizer.ggml.model", "llama"))
	must(md.Set("tokenizer.ggml.tokens", toks))
	must(md.Set("tokenizer.ggml.scores", scores))
	must(md.Set("tokenizer.ggml.token_type", types))
	must(md.Set("tokenizer.ggml.bos_token_id", uint32(1)))
	must(md.Set("tokenizer.ggml.eos_token_id", uint32(2)))
	var infos []gguf.TensorInfo
	for _, t := range in.Tensors {
		infos = append(infos, gguf.TensorInfo{Name: t.Name, Type: t.Type, Dims: t.Dims})
	}
	w, err := gguf.Create(os.Args[2], md, infos)
	must(err)
	for _, t := range in.Tensors {
		b, err := in.Data(t)
		must(err)
		must(w.WriteTensor(t.Name, b))
	}
	must(w.Close())
}
