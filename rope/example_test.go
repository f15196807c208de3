package rope_test

import (
	"fmt"

	"github.com/rlx-go/rlx/rope"
)

func ExampleInvFreq() {
	// Llama 3.2: rope_theta 500000, head_dim 64, llama3 scaling.
	inv, att, err := rope.InvFreq(rope.Scaling{
		Type: "llama3", Theta: 500000, Dim: 64, Factor: 32,
		LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192,
	}, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(inv), inv[0], att)
	// Output: 32 1 1
}

func ExampleInvFreq_errors() {
	// An odd rotary dimension has no pairs to rotate.
	_, _, err := rope.InvFreq(rope.Scaling{Theta: 10000, Dim: 63}, 0)
	fmt.Println(err != nil)
	// Output: true
}
