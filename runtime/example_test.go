package runtime_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/models/qwen3"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/weights"
)

func ExampleSession() {
	// A tiny random-weight Qwen3 checkpoint.
	w, err := weights.Open("../models/qwen3/testdata/hf/model.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	cfg, _ := os.ReadFile("../models/qwen3/testdata/hf/config.json")
	model, err := qwen3.Open(nn.Source{Weights: w, HFConfig: cfg})
	if err != nil {
		fmt.Println(err)
		return
	}
	lm, err := runtime.New(model, cpu.New(cpu.Options{}), runtime.Options{MaxSeq: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lm.Close()

	// A session is one KV cache: append the prompt, then one token at a time.
	s, _ := lm.NewSession()
	defer s.Close()
	ctx := context.Background()
	logits, err := s.Append(ctx, []int32{73, 92, 479, 386, 330, 199, 509, 327, 208, 454, 219, 321})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out []int32
	for range 3 {
		next := runtime.ArgMax(logits)
		out = append(out, next)
		if logits, err = s.Append(ctx, []int32{next}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(out, s.Len())
	// Output: [154 203 483] 15
}
