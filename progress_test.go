package rlx_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx"
)

// TestWithProgress loads a quantized and an F32 model with a progress
// callback: it starts at 0, never goes back, stays within the total, ends
// at the total (the size of every tensor in the file), and sees the
// weights being prepared in between.
func TestWithProgress(t *testing.T) {
	for _, name := range []string{"qwen3-Q4_K_M.gguf", "llama-f32.gguf"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "gguf-lm", name)
			type call struct{ done, total int64 }
			var calls []call
			lm, err := rlx.OpenLM(path, rlx.WithProgress(func(done, total int64) {
				calls = append(calls, call{done, total})
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer lm.Close()
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) < 3 {
				t.Fatalf("%d calls, want the start, the weights and the end: %v", len(calls), calls)
			}
			total := calls[0].total
			if total <= 0 || total >= st.Size() || total < st.Size()/2 {
				t.Fatalf("total %d for a file of %d bytes", total, st.Size())
			}
			if calls[0].done != 0 || calls[len(calls)-1].done != total {
				t.Fatalf("first %v, last %v, want 0 and %d", calls[0], calls[len(calls)-1], total)
			}
			for i, c := range calls {
				if c.total != total || c.done < 0 || c.done > total {
					t.Fatalf("call %d: %v (total %d)", i, c, total)
				}
				if i > 0 && c.done <= calls[i-1].done {
					t.Fatalf("call %d did not move on: %v after %v", i, c, calls[i-1])
				}
			}
			// Between the ends the count moves weight by weight.
			mid := 0
			for _, c := range calls[1 : len(calls)-1] {
				if c.done > 0 && c.done < total {
					mid++
				}
			}
			if mid == 0 {
				t.Fatalf("no intermediate progress: %v", calls)
			}
		})
	}
}

// ExampleWithProgress prints how much of the weights OpenLM has prepared,
// as a terminal progress bar would draw it.
func ExampleWithProgress() {
	half := false
	lm, err := rlx.OpenLM(filepath.Join("testdata", "gguf-lm", "qwen3-Q4_K_M.gguf"),
		rlx.WithProgress(func(done, total int64) {
			switch {
			case done == 0:
				fmt.Println("preparing the weights")
			case done == total:
				fmt.Println("ready")
			case 2*done >= total && !half:
				fmt.Println("halfway")
				half = true
			}
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lm.Close()
	// Output:
	// preparing the weights
	// halfway
	// ready
}
