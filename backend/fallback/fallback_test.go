package fallback_test

import (
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/fallback"
	"github.com/rlx-go/rlx/ir"
)

// partial is a device that lacks some ops: a CPU backend whose capability
// query rejects them.
type partial struct {
	*cpu.Backend
	deny map[ir.Op]bool
}

func (p partial) Supports(n *ir.Node) error {
	if p.deny[n.Op] {
		return backend.Unsupported("partial", n, "not implemented on this device")
	}
	return p.Backend.Supports(n)
}

// TestFallbackConformance runs the whole conformance suite on a device that
// cannot run norms, softmax, attention (cached too), gathers, state
// assignment, convolutions or fused chains: those run on the host through
// transfers, and every result must still match the reference.
func TestFallbackConformance(t *testing.T) {
	dev := partial{cpu.New(cpu.Options{Poison: true}), map[ir.Op]bool{
		ir.OpRMSNorm: true, ir.OpLayerNorm: true, ir.OpSoftmax: true, ir.OpAttention: true, ir.OpGather: true,
		ir.OpAssign: true, ir.OpConv1D: true, ir.OpFused: true, ir.OpTopK: true, ir.OpMoE: true, ir.OpRoPE: true,
	}}
	fb := fallback.New(dev, cpu.New(cpu.Options{}))
	backendtest.Suite(t, fb, 3)
	got := fb.Fallbacks()
	for _, op := range []string{"RMSNorm", "Softmax", "Attention", "Gather", "Assign", "Conv1D", "Fused", "MoE", "RoPE"} {
		if got[op] == 0 {
			t.Errorf("no %s node fell back to the host: %v", op, got)
		}
	}
}
