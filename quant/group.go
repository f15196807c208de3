package quant

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// MaxGroup is the most matrices one MatMulGroup call takes.
const MaxGroup = 8

// MatMulGroup computes ys[i] = x·ms[i]ᵀ for matrices that read the same
// input (a layer's query, key and value projections; its gate and up
// projections) in one parallel call. The input is quantized once per
// activation format rather than once per matrix, and the workers claim row
// chunks across all the matrices, so the group costs one fork/join where
// separate MatMul calls cost one each. Every matrix must have the same
// Cols(), and ys[i] holds M×ms[i].Rows() values for x of M×Cols(). The
// results are those of separate MatMul calls, bit for bit.
func MatMulGroup(p *parallel.Pool, ms []*Matrix, ys [][]float32, x []float32) error {
	if len(ms) != len(ys) || len(ms) > MaxGroup {
		return fmt.Errorf("quant: matmul group of %d matrices and %d outputs (at most %d)", len(ms), len(ys), MaxGroup)
	}
	if len(ms) == 0 {
		return nil
	}
	K := ms[0].cols
	if len(x) == 0 || len(x)%K != 0 {
		return fmt.Errorf("quant: matmul group: input of %d values is not a whole number of rows of %d", len(x), K)
	}
	M := len(x) / K
	generic := false
	for i, m := range ms {
		if m.cols != K {
			return fmt.Errorf("quant: matmul group: matrix %d is %v %d×%d, the first has %d columns", i, m.dtype, m.rows, m.cols, K)
		}
		if len(ys[i]) != M*m.rows {
			return fmt.Errorf("quant: matmul group: output %d has %d values, want %d×%d", i, len(ys[i]), M, m.rows)
		}
		generic = generic || m.kind == kindGeneric
	}
	if p == nil {
		p = parallel.Default()
	}
	if generic || len(ms) == 1 {
		for i, m := range ms {
			if err := m.MatMul(p, ys[i], x); err != nil {
				return err
			}
		}
		return nil
	}
	g, _ := groupPool.Get().(*group)
	if g == nil {
		g = &group{}
		g.run = g.chunks // bound once: the pool call allocates nothing
	}
	g.n, g.M = len(ms), M
	var owned [MaxGroup]*act // the activations this call took from the pool
	for i, m := range ms {
		g.ms[i], g.ys[i] = m, ys[i]
		g.dot[i], g.dot4[i] = dotFuncs[m.kind], nil
		if M >= 4 {
			g.dot4[i] = dot4Func(m.kind)
		}
		// Matrices of one kind share the quantized input.
		g.act[i] = nil
		for j := range i {
			if ms[j].kind == m.kind {
				g.act[i] = g.act[j]
				break
			}
		}
		if g.act[i] == nil {
			a := getAct(m.kind, M, K)
			owned[i] = a
			if M*K <= 1<<14 {
				a.quantize(serial, x) // as in MatMul: cheaper than a wake-up
			} else {
				a.quantize(p, x)
			}
			g.act[i] = a
		}
		// The same chunk size as MatMul for this matrix alone: for a GEMV
		// four long chunks per thread, so that each thread's prefetch
		// stream runs through long contiguous ranges (1.02–1.06x over
		// ≤ 64-row chunks, in-process A/B, Llama-1B q/k/v and gate/up).
		g.grain[i] = max(1, min(64, m.rows/(8*p.Size())))
		if M == 1 {
			g.grain[i] = max(1, (m.rows+4*p.Size()-1)/(4*p.Size()))
		}
		g.first[i+1] = g.first[i] + (m.rows+g.grain[i]-1)/g.grain[i]
	}
	p.For(g.first[g.n], 1, g.run)
	runtime.KeepAlive(ms) // as in MatMul: the kernels hold raw pointers
	for i, a := range owned[:g.n] {
		if a != nil {
			putAct(a)
		}
		g.ms[i], g.ys[i], g.act[i] = nil, nil, nil
	}
	groupPool.Put(g)
	return nil
}

// groupPool recycles MatMulGroup's call state between decode steps.
var groupPool sync.Pool

// group is one MatMulGroup call: chunk c of the combined list is chunk
// c-first[i] of matrix i, for the i with first[i] ≤ c < first[i+1].
type group struct {
	run   func(lo, hi int) // g.chunks
	n, M  int
	ms    [MaxGroup]*Matrix
	ys    [MaxGroup][]float32
	act   [MaxGroup]*act
	dot   [MaxGroup]dotFunc
	dot4  [MaxGroup]func(m *Matrix, a *act, r, lo, hi int, y []float32)
	grain [MaxGroup]int
	first [MaxGroup + 1]int
}

func (g *group) chunks(lo, hi int) {
	i := 0
	for c := lo; c < hi; c++ {
		for c >= g.first[i+1] {
			i++
		}
		m, a, y := g.ms[i], g.act[i], g.ys[i]
		r0 := (c - g.first[i]) * g.grain[i]
		r1 := min(r0+g.grain[i], m.rows)
		r := 0
		if dot4 := g.dot4[i]; dot4 != nil {
			for ; r+4 <= g.M; r += 4 {
				dot4(m, a, r, r0, r1, y)
			}
		}
		for ; r < g.M; r++ {
			g.dot[i](m, a, r, r0, r1, y[r*m.rows:(r+1)*m.rows])
		}
	}
}
