package compile_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/tensor"
)

// TestPrepareAndSharedPlans checks that a session prepared for one-token
// steps, and a second session that takes its plans from the program, give
// the same logits bit for bit as a session that plans as it goes, over a
// prompt and decode steps (with repeated bindings, which reuse the last
// launches); and that the plan of a binding is shared between sessions.
func TestPrepareAndSharedPlans(t *testing.T) {
	c := toyConfig{vocab: 61, dim: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 48, layers: 2, maxSeq: 64, wdt: tensor.F32, cacheDT: tensor.F16}
	g, err := buildToy(c)
	if err != nil {
		t.Fatal(err)
	}
	params := toyWeights(rand.New(rand.NewPCG(5, 6)), g)
	run := func(p *compile.Program, prepare bool) ([][]float32, *compile.Plan) {
		s := p.NewSession()
		defer s.Close()
		if prepare {
			if err := s.Prepare(map[string][]int{"ids": {1, 1}}, map[string]int{"past": 0}); err != nil {
				t.Fatal(err)
			}
			if s.LastPlan() == nil {
				t.Fatal("Prepare made no plan")
			}
		}
		ctx := context.Background()
		var outs [][]float32
		var decodePlan *compile.Plan
		past := 0
		for step, ids := range [][]int32{{1}, {3, 14, 15, 9}, {7}, {7}, {8}} {
			out, err := s.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(ids, 1, len(ids))}, map[string]int{"past": past})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if step == 0 {
				decodePlan = s.LastPlan()
			}
			outs = append(outs, out["logits"].F32())
			// Steps 2 and 3 repeat a binding (past stays 5): the second
			// runs the launches of the first.
			if step != 2 {
				past += len(ids)
			}
		}
		return outs, decodePlan
	}
	build := func() *compile.Program {
		p, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), params, compile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want, _ := run(build(), false)
	p := build()
	got1, plan1 := run(p, true)
	got2, plan2 := run(p, false)
	if plan1 != plan2 {
		t.Error("two sessions of one program planned the same binding twice")
	}
	for _, got := range [][][]float32{got1, got2} {
		for step := range want {
			for i := range want[step] {
				if math.Float32bits(got[step][i]) != math.Float32bits(want[step][i]) {
					t.Fatalf("step %d: logit %d = %g, want %g", step, i, got[step][i], want[step][i])
				}
			}
		}
	}
	s := p.NewSession()
	defer s.Close()
	if err := s.Prepare(map[string][]int{"nope": {1}}, nil); err == nil {
		t.Error("Prepare accepted an unknown input")
	}
	if err := s.Prepare(map[string][]int{"ids": {1, 1}}, nil); err == nil {
		t.Error("Prepare accepted a binding without past")
	}
}
