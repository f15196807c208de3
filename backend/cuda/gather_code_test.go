package cuda

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/kernels"
	"github.com/rlx-go/rlx/tensor"
)

// TestStoredGatherCodes checks the type codes the host passes to
// gather_stored against the #defines the kernel switches on, so that the
// two sides cannot drift apart unnoticed on a machine without a GPU.
func TestStoredGatherCodes(t *testing.T) {
	src, err := kernels.Source("gatherq.cu")
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.DType{tensor.Q4_0, tensor.Q8_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K, tensor.I32, tensor.I64} {
		code, ok := storedGather(dt)
		if !ok {
			t.Errorf("%v is not a stored gather type", dt)
			continue
		}
		if def := fmt.Sprintf("#define GQ_%v %d\n", dt, code); !strings.Contains(src, def) {
			t.Errorf("%v: code %d, but gatherq.cu lacks %q", dt, code, def)
		}
	}
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q4_1, tensor.Q2_K} {
		if code, ok := storedGather(dt); ok {
			t.Errorf("%v has stored gather code %d; it goes to gather_rows or is not supported", dt, code)
		}
	}
}
