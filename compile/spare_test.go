package compile_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// countingBackend counts allocations and frees.
type countingBackend struct {
	backend.Backend
	allocs, frees int
}

func (c *countingBackend) Alloc(n int64) (backend.Buffer, error) {
	c.allocs++
	return c.Backend.Alloc(n)
}

func (c *countingBackend) Free(b backend.Buffer) {
	c.frees++
	c.Backend.Free(b)
}

// TestClosedSessionMemoryIsReused: a session started after another closed
// takes over its activation arena and state buffers instead of allocating,
// and finds the state zeroed as a new session must.
func TestClosedSessionMemoryIsReused(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(64))
		acc := b.State("acc", tensor.F32, n(64))
		y := b.Add(b.Mul(x, x), acc)
		b.Assign(acc, y)
		b.Output("y", b.Exp(b.Neg(y)))
	})
	be := &countingBackend{Backend: newCPU()}
	p, err := compile.Compile(g, be, nil, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i) / 64
	}
	in := map[string]*tensor.Tensor{"x": tensor.FromF32(x, 64)}
	run := func(s *compile.Session) []float32 {
		t.Helper()
		out, err := s.Run(context.Background(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(out["y"].F32())
	}
	s := p.NewSession()
	first := run(s)
	if second := run(s); slices.Equal(first, second) {
		t.Fatal("the state did not carry over between runs")
	}
	s.Close()
	before := be.allocs
	for i := range 3 {
		s = p.NewSession()
		if got := run(s); !slices.Equal(got, first) {
			t.Fatalf("session %d after a closed one: %v, want %v (a zeroed state)", i+2, got[:4], first[:4])
		}
		s.Close()
	}
	if be.allocs != before {
		t.Errorf("sessions after a closed one allocated %d buffers, want 0 (reuse)", be.allocs-before)
	}
	frees := be.frees
	p.Close()
	if be.frees == frees {
		t.Error("Program.Close freed none of the spare buffers")
	}
}
