package gemm

import (
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// gemv computes C[0:m, 0:n] (+)= A[0:m, 0:k]·Bᵀ for an NK-layout B and a
// few rows of A (decode): every weight row is read straight from where it
// is stored and dotted with up to gemvMaxM rows of A at once. Workers take
// contiguous ranges of weight rows, so each streams its own part of B. For
// m > gemvMaxM (a small decode batch) the rows of A go in groups over the
// same range, which is then sized to stay in L2 between the groups: the
// weights still come from memory once.
func gemv(p *parallel.Pool, t *tier, c []float32, ldc int, a []float32, lda int, b *B, ldb, m, n, k int, accumulate bool) {
	// Chunks of at least 64 rows (≥ 64 KiB of f16 weights at K=512) keep the
	// dispatch cost small next to the streaming; 4 per worker balance
	// the busy-host case where one core runs slower.
	grain := max(64, roundUp((n+4*p.Size()-1)/(4*p.Size()), 16))
	if m > gemvMaxM {
		eb := 4
		if b.DType != tensor.F32 {
			eb = 2
		}
		grain = min(grain, max(16, (256<<10)/max(1, k*eb)/16*16))
	}
	f := t.gemv
	if f == nil {
		f = gemvGo
	}
	p.For(n, grain, func(lo, hi int) {
		for i := 0; i < m; i += gemvMaxM {
			f(c[i*ldc:], ldc, a[i*lda:], lda, b, ldb, min(gemvMaxM, m-i), lo, hi, k, accumulate)
		}
	})
}

// gemvGo is the pure-Go GEMV twin.
func gemvGo(y []float32, ldy int, x []float32, ldx int, b *B, ldb, m, n0, n1, k int, accumulate bool) {
	var row []float32
	if b.DType == tensor.F16 || b.DType == tensor.BF16 {
		row = make([]float32, k)
	}
	for j := n0; j < n1; j++ {
		off := j * ldb
		switch b.DType {
		case tensor.F16:
			for p, h := range b.U16[off : off+k] {
				row[p] = tensor.F16ToF32(h)
			}
		case tensor.BF16:
			for p, h := range b.U16[off : off+k] {
				row[p] = tensor.BF16ToF32(h)
			}
		default:
			row = b.F32[off : off+k]
		}
		for i := range m {
			s := dot(x[i*ldx:i*ldx+k], row)
			if accumulate {
				y[i*ldy+j] += s
			} else {
				y[i*ldy+j] = s
			}
		}
	}
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
