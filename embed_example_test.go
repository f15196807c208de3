package rlx_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/rlx-go/rlx"
)

func ExampleOpenEmbedder() {
	// A tiny NomicBERT GGUF from the tests; a sentence-transformers folder
	// ("all-MiniLM-L6-v2/") or a Hugging Face folder opens the same way.
	e, err := rlx.OpenEmbedder("runtime/embed/testdata/gguf-nomic_bert/nomic-bert-f32.gguf",
		rlx.WithNormalize(true), rlx.WithBatchSize(16), rlx.WithThreads(2))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	vecs, err := e.Embed(context.Background(), []string{"wf wg wh", "wi", ""})
	if err != nil {
		log.Fatal(err)
	}
	var dot float64
	for i := range vecs[0] {
		dot += float64(vecs[0][i]) * float64(vecs[0][i])
	}
	fmt.Println(len(vecs), e.Dim(), e.Pooling(), math.Round(dot*1000)/1000)
	// Output: 3 64 mean 1
}
