package compile_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
)

// FuzzCompile builds random graphs (chosen by the fuzzer's seed), compiles
// them with every pass and poisoned frees, and checks the results against
// the float64 reference interpreter. The seed corpus is in
// testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	f.Add(uint64(1), uint8(10), false)
	f.Add(uint64(42), uint8(40), true)
	f.Fuzz(func(t *testing.T, seed uint64, nodes uint8, unfused bool) {
		r := rand.New(rand.NewPCG(seed, seed>>7|1))
		g, inputs := randomGraph(r, 1+int(nodes)%48)
		opt := compile.Options{}
		if unfused {
			opt = compile.Options{NoFusion: true, NoPatterns: true}
		}
		c := backendtest.Case{Name: "fuzz", Graph: g, Steps: []backendtest.Step{{Inputs: inputs}}, Tol: 1e-4, Atol: 1e-5}
		if _, err := backendtest.Run(context.Background(), cpu.New(cpu.Options{Poison: true}), c, opt); err != nil {
			t.Fatalf("%v\n%s", err, g.Dump())
		}
	})
}
