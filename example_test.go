package rlx_test

import (
	"context"
	"fmt"

	"github.com/rlx-go/rlx"
)

func ExampleOpenLM() {
	// A tiny random-weight Qwen3 checkpoint (config.json + model.safetensors,
	// no tokenizer); real checkpoints take text prompts with Generate.
	lm, err := rlx.OpenLM("models/qwen3/testdata/hf", rlx.WithMaxSeq(64), rlx.WithPrecision("f32"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lm.Close()
	res, err := lm.GenerateIDs(context.Background(), []int32{73, 92, 479, 386, 330, 199, 509, 327, 208, 454, 219, 321},
		rlx.Greedy(), rlx.MaxTokens(8))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(lm.Family(), res.IDs, res.Stop)
	// Output: qwen3 [154 203 483 483 483 483 483 483] length
}
