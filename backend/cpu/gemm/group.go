package gemm

import (
	"fmt"
	"runtime"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// MaxGroup is the most weights one MatMulGroup call takes.
const MaxGroup = 4

// MatMulGroup computes C_i = A·B_i for packed weights B_i that share A (a
// layer's q/k/v projections, its gate and up projections). When A has few
// rows (decode) and every weight has a strip GEMV, the strips of all the
// weights are handed out in one parallel call: one fork/join instead of
// one per weight, and the small weights (k and v: one or two chunks each)
// no longer end in a join where one worker waits for the other. The
// results are bit-identical to separate MatMul calls. Otherwise each weight
// runs its own MatMul.
func MatMulGroup(p *parallel.Pool, ws []*PackedB, cs []Matrix, a Matrix, m int) error {
	if len(ws) != len(cs) || len(ws) > MaxGroup {
		return fmt.Errorf("%w: group of %d weights and %d outputs (at most %d)", ErrShape, len(ws), len(cs), MaxGroup)
	}
	if p == nil {
		p = parallel.Default()
	}
	grouped := m <= gemvMaxM && len(ws) > 1
	var prs [MaxGroup]*problem
	var first [MaxGroup + 1]int // strip index where weight i starts
	for i, pb := range ws {
		if pb.k != ws[0].k {
			return fmt.Errorf("%w: group weights of depth %d and %d", ErrShape, ws[0].k, pb.k)
		}
		pr, err := checkAC(1, cs[i], 0, a, 0, m, pb.n, pb.k)
		if err != nil {
			return err
		}
		prs[i] = pr
		grouped = grouped && pb.hasStripGEMV() && pb.n > 0
		first[i+1] = first[i] + pb.strips
	}
	if !grouped || m == 0 || ws[0].k == 0 {
		for i, pb := range ws {
			if err := pb.MatMul(p, cs[i], a, m, false); err != nil {
				return err
			}
		}
		return nil
	}
	total := first[len(ws)]
	grain := max(1, (total+4*p.Size()-1)/(4*p.Size()))
	p.For(total, grain, func(lo, hi int) {
		i := 0
		for s := lo; s < hi; s++ {
			for s >= first[i+1] {
				i++
			}
			pr := prs[i]
			ws[i].gemvStrip(s-first[i], pr.c, pr.ldc, pr.a, pr.lda, m, false)
		}
	})
	// The strips may live outside the Go heap, freed when their PackedB
	// is collected: keep the weights alive until the kernels are done.
	runtime.KeepAlive(ws)
	return nil
}
