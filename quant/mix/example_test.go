package mix_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant/mix"
)

// Which types does Q4_K_M give the tensors of a model?
func ExamplePlan() {
	f, err := gguf.Open("testdata/llama4.f32.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tensors := append([]gguf.TensorInfo(nil), f.Tensors...)
	mix.Sort(tensors) // the order llama-quantize writes (and counts) tensors in
	q4km, _ := gguf.ParseFileType("Q4_K_M")
	types, err := mix.Plan(f.Metadata, tensors, q4km)
	if err != nil {
		log.Fatal(err)
	}
	for i, t := range tensors {
		if t.Name == "output.weight" || strings.HasSuffix(t.Name, "ffn_down.weight") {
			fmt.Println(t.Name, types[i])
		}
	}
	// Output:
	// output.weight Q6_K
	// blk.0.ffn_down.weight Q5_0
	// blk.1.ffn_down.weight Q5_0
	// blk.2.ffn_down.weight Q8_0
	// blk.3.ffn_down.weight Q8_0
}
