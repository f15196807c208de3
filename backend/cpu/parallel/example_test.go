package parallel_test

import (
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

func ExamplePool_For() {
	p := parallel.Default()
	xs := make([]float64, 1000)
	// Chunks of 128 elements are claimed by whichever participant is free.
	p.For(len(xs), 128, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xs[i] = float64(i) * 0.5
		}
	})
	fmt.Println(xs[999])
	// Output: 499.5
}

func ExamplePool_Run() {
	p := parallel.New(2)
	defer p.Close()
	// worker indexes per-call scratch: no two running tasks share it.
	partial := make([]int, p.Size())
	p.Run(10, func(task, worker int) { partial[worker] += task })
	total := 0
	for _, s := range partial {
		total += s
	}
	fmt.Println(total)
	// Output: 45
}
