package cuda_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/fallback"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// graphProgram is gather → linear → silu · x, and optionally a Conv1D (no
// device kernel: it runs on the host inside the list).
func graphProgram(t *testing.T, be *cuda.Backend, withHost bool) (*compile.Program, *fallback.Backend) {
	t.Helper()
	rng := rand.New(rand.NewPCG(8, 9))
	b := ir.NewBuilder()
	ids := b.Input("ids", tensor.I32, ir.N(3))
	x := b.Gather(b.Param("emb", tensor.F32, ir.N(11), ir.N(96)), ids)
	h := b.Mul(b.Silu(b.Linear(x, b.Param("w", tensor.F32, ir.N(96), ir.N(96)), ir.Value{})), x)
	if withHost {
		c := b.Conv1D(b.Reshape(h, ir.N(1), ir.N(3), ir.N(96)), b.Param("k", tensor.F32, ir.N(3), ir.N(3), ir.N(5)), ir.Value{}, ir.ConvOptions{})
		h = b.Add(b.Reshape(c, ir.N(3), ir.N(92)), b.Reshape(b.Slice(b.Reshape(h, ir.N(288)), 0, ir.N(0), ir.N(276)), ir.N(3), ir.N(92)))
	}
	b.Output("y", h)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	fb := fallback.New(be, cpu.New(cpu.Options{}))
	prog, err := compile.Compile(g, fb, ir.MapParams{"emb": randT(rng, 11, 96), "w": randT(rng, 96, 96), "k": randT(rng, 3, 3, 5)}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog, fb
}

// TestGraphExecute runs one program's launch list again and again with new
// inputs: with graphs on, the second run is captured and later runs replay,
// and every output equals the plain launches' bits; a bad gather id is
// still reported from a replay; a list with a host node is not captured.
func TestGraphExecute(t *testing.T) {
	be := open(t, cuda.Options{})
	ctx := context.Background()
	idSets := [][]int32{{0, 5, 10}, {3, 3, 1}, {7, 2, 9}, {10, 0, 4}, {6, 8, 1}}
	for _, withHost := range []bool{false, true} {
		prog, _ := graphProgram(t, be, withHost)
		run := func(graphs bool) ([][]float32, cuda.GraphStats) {
			be.SetGraphs(graphs)
			before := be.Graphs()
			sess := prog.NewSession()
			defer sess.Close()
			var outs [][]float32
			for _, ids := range idSets {
				out, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(ids, 3)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, slices.Clone(out["y"].F32()))
			}
			if graphs && !withHost {
				_, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{1, 11, 2}, 3)}, nil)
				if !errors.Is(err, cuda.ErrBadIndex) {
					t.Errorf("a bad id in a replayed list: %v, want ErrBadIndex", err)
				}
			}
			after := be.Graphs()
			return outs, cuda.GraphStats{Captured: after.Captured - before.Captured, Replayed: after.Replayed - before.Replayed,
				Failed: after.Failed - before.Failed, Plain: after.Plain - before.Plain}
		}
		plain, ps := run(false)
		replay, gs := run(true)
		t.Logf("host node %v: graphs off %+v, on %+v", withHost, ps, gs)
		switch {
		case ps.Replayed != 0:
			t.Errorf("graphs off replayed: %+v", ps)
		case !withHost && (gs.Captured != 1 || gs.Replayed != len(idSets)):
			t.Errorf("graphs on: %+v, want 1 capture and %d replays", gs, len(idSets))
		case withHost && (gs.Captured != 0 || gs.Failed != 1 || gs.Plain != len(idSets)):
			t.Errorf("graphs on with a host node: %+v, want one failed capture and plain runs", gs)
		}
		for i := range plain {
			if !slices.Equal(plain[i], replay[i]) {
				t.Fatalf("host node %v, run %d: replayed output differs from plain launches", withHost, i)
			}
		}
	}
}

// TestProfile checks that the device-time profile counts every node of
// every run under its binding, but the first (plans are built then).
func TestProfile(t *testing.T) {
	be := open(t, cuda.Options{})
	prog, _ := graphProgram(t, be, false)
	if err := be.SetProfile(true); err != nil {
		t.Fatal(err)
	}
	defer be.SetProfile(false)
	sess := prog.NewSession()
	defer sess.Close()
	for range 3 {
		if _, err := sess.Run(context.Background(), map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{1, 2, 3}, 3)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ps := be.Profile()
	if len(ps) != 1 || ps[0].Runs != 2 || ps[0].Total <= 0 || len(ps[0].Ops) == 0 {
		t.Fatalf("profile %+v", ps)
	}
	t.Log(ps[0])
	for _, o := range ps[0].Ops {
		if o.Launches%2 != 0 || o.Total <= 0 {
			t.Errorf("op %+v", o)
		}
	}
	if g := be.Graphs(); g.Replayed != 0 {
		t.Errorf("profiled runs replayed graphs: %+v", g)
	}
}
