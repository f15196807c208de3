package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// closeTo compares an assembly result with its Go twin: they differ only
// by FMA rounding and summation order.
func closeTo(t *testing.T, what string, got, want []float32, mag float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*mag || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: [%d] = %g, Go twin %g", what, i, got[i], want[i])
		}
	}
}

func TestMicroKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tr := range allTiers() {
		for rows := 1; rows <= tr.mr; rows++ {
			if tr.kernels[rows] == nil {
				continue
			}
			for _, k := range []int{1, 2, 3, 4, 5, 17, 256} {
				for _, acc := range []bool{false, true} {
					a := randF32(r, k*rows)
					b := randF32(r, k*tr.nr)
					ldc := tr.nr + 3
					c0 := randF32(r, rows*ldc)
					got := append([]float32(nil), c0...)
					want := append([]float32(nil), c0...)
					tr.kernels[rows](k, a, b, got, ldc, acc)
					microGo(rows, tr.nr, k, a, b, want, ldc, acc)
					closeTo(t, fmt.Sprintf("%v %dx%d k=%d acc=%v", tr.level, rows, tr.nr, k, acc), got, want, float64(k)+1)
					for v := 1; v < tr.nr/tr.lanes; v++ {
						w := v * tr.lanes
						if tr.edge[v][rows] == nil {
							continue
						}
						copy(got, c0)
						copy(want, c0)
						tr.edge[v][rows](k, a, b[:k*w], got, ldc, acc)
						microGo(rows, w, k, a, b[:k*w], want, ldc, acc)
						closeTo(t, fmt.Sprintf("%v %dx%d edge k=%d acc=%v", tr.level, rows, w, k, acc), got, want, float64(k)+1)
					}
					closeTo(t, fmt.Sprintf("%v %dx%d k=%d acc=%v", tr.level, rows, tr.nr, k, acc), got, want, float64(k)+1)
				}
			}
		}
	}
}

func TestPackNKMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tr := range allTiers() {
		if tr.packNK == nil {
			continue
		}
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			for _, s := range []struct{ nw, kb int }{{tr.nr, 256}, {tr.nr, 37}, {17, 16}, {5, 100}, {tr.nr - 1, 15}, {33, 64}} {
				s.nw = min(s.nw, tr.nr)
				o := newOperands(r, 1, 64, 300, NK, dt, false)
				got := make([]float32, s.kb*tr.nr)
				want := make([]float32, s.kb*tr.nr)
				for i := range got {
					got[i] = float32(math.NaN()) // every element must be written
				}
				tr.packNK(got, &o.b, o.b.Stride, 3, s.nw, 7, s.kb, tr.nr)
				packNKGo(want, &o.b, o.b.Stride, 3, s.nw, 7, s.kb, tr.nr)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v %v nw=%d kb=%d: [%d] = %g, Go twin %g", tr.level, dt, s.nw, s.kb, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestGEMVMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tr := range allTiers() {
		if tr.gemv == nil {
			continue
		}
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			for m := 1; m <= gemvMaxM; m++ {
				for _, k := range []int{1, 15, 16, 17, 31, 48, 63, 64, 65, 100, 143, 1000, 2048} {
					for _, acc := range []bool{false, true} {
						o := newOperands(r, m, 23, k, NK, dt, acc)
						got := append([]float32(nil), o.c0...)
						want := append([]float32(nil), o.c0...)
						tr.gemv(got, o.ldc, o.a, o.lda, &o.b, o.b.Stride, m, 2, 23, k, acc)
						gemvGo(want, o.ldc, o.a, o.lda, &o.b, o.b.Stride, m, 2, 23, k, acc)
						closeTo(t, fmt.Sprintf("%v %v m=%d k=%d acc=%v", tr.level, dt, m, k, acc), got, want, 4*math.Sqrt(float64(k))+1)
					}
				}
			}
		}
	}
}

func TestPackAMatchesGo(t *testing.T) {
	if packA8 == nil {
		t.Skip("no assembly A packer on this CPU")
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, kb := range []int{16, 17, 31, 32, 100, 512} {
		lda := kb + 5
		a := randF32(r, 8*lda)
		got := make([]float32, 8*kb)
		want := make([]float32, 8*kb)
		packA(got, a, lda, 8, kb)
		packAGo(want, a, lda, 8, kb)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("kb=%d: [%d] = %g, Go twin %g", kb, i, got[i], want[i])
			}
		}
	}
}

func TestHalfKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, tr := range allTiers() {
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			if tr.half[dt] == nil {
				continue
			}
			conv := tensor.F32ToF16
			if dt == tensor.BF16 {
				conv = tensor.F32ToBF16
			}
			for _, k := range []int{1, 2, 3, 4, 5, 7, 64, 333} {
				for v := 1; v*tr.lanes <= tr.nr; v++ {
					w := v * tr.lanes
					b := make([]uint16, k*w)
					for i := range b {
						b[i] = conv(float32(r.NormFloat64()))
					}
					for rows := 1; rows <= tr.mr; rows++ {
						for _, acc := range []bool{false, true} {
							a := randF32(r, k*rows)
							ldc := w + 3
							c0 := randF32(r, rows*ldc)
							got := append([]float32(nil), c0...)
							want := append([]float32(nil), c0...)
							tr.microHalf(dt, rows, w, k, a, b, got, ldc, acc)
							microHalfGo(dt, rows, w, k, a, b, want, ldc, acc)
							closeTo(t, fmt.Sprintf("%v micro %v %dx%d k=%d acc=%v", tr.level, dt, rows, w, k, acc), got, want, 4*math.Sqrt(float64(k))+1)
						}
					}
					for m := 1; m <= gemvMaxM; m++ {
						for _, acc := range []bool{false, true} {
							ldx, ldy := k+5, w+7
							x := randF32(r, m*ldx)
							y0 := randF32(r, m*ldy)
							got := append([]float32(nil), y0...)
							want := append([]float32(nil), y0...)
							tr.gemvPanel(dt, m, w, k, got, ldy, x, ldx, b, acc)
							gemvPanelGo(dt, m, w, k, want, ldy, x, ldx, b, acc)
							closeTo(t, fmt.Sprintf("%v panel gemv %v m=%d w=%d k=%d acc=%v", tr.level, dt, m, w, k, acc), got, want, 4*math.Sqrt(float64(k))+1)
						}
					}
				}
			}
		}
	}
}

// TestPackHalfMatchesGo checks the narrowing packer bit for bit against
// moving the 16-bit values, on every bit pattern class (denormals,
// infinities, negative zero) and ragged strips.
func TestPackHalfMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, tr := range allTiers() {
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			for _, s := range []struct{ nw, w, k int }{{48, 48, 600}, {5, 16, 17}, {33, 48, 1}, {16, 16, 1025}} {
				ldb := s.k + 3
				u := make([]uint16, s.nw*ldb)
				for i := range u {
					u[i] = uint16(r.Uint32())
					if dt == tensor.F16 && u[i]&0x7c00 == 0x7c00 && u[i]&0x3ff != 0 {
						u[i] &^= 0x3ff // NaNs may come back quieted
					}
					if dt == tensor.BF16 && u[i]&0x7f80 == 0x7f80 && u[i]&0x7f != 0 {
						u[i] &^= 0x7f
					}
				}
				b := &B{Layout: NK, DType: dt, U16: u}
				got := make([]uint16, s.k*s.w)
				want := make([]uint16, s.k*s.w)
				packHalfStrip(tr, got, b, ldb, 0, s.nw, s.w, s.k)
				packHalfStripGo(want, u, ldb, 0, s.nw, s.w, s.k)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v %v %+v: [%d] = %#04x, want %#04x", tr.level, dt, s, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestStripGEMVF32MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, tr := range allTiers() {
		if tr.stripF32 == nil {
			continue
		}
		for _, k := range []int{1, 2, 3, 5, 64, 333} {
			for v := 1; v*tr.lanes <= tr.nr; v++ {
				w := v * tr.lanes
				s := randF32(r, k*w)
				for m := 1; m <= gemvMaxM; m++ {
					for _, acc := range []bool{false, true} {
						ldx, ldy := k+5, w+7
						x := randF32(r, m*ldx)
						y0 := randF32(r, m*ldy)
						got := append([]float32(nil), y0...)
						want := append([]float32(nil), y0...)
						tr.gemvPanelF32(m, w, k, got, ldy, x, ldx, s, acc)
						gemvPanelF32Go(m, w, k, want, ldy, x, ldx, s, acc)
						closeTo(t, fmt.Sprintf("%v f32 strip gemv m=%d w=%d k=%d acc=%v", tr.level, m, w, k, acc), got, want, 4*math.Sqrt(float64(k))+1)
					}
				}
			}
		}
	}
}

// TestKernelTablesFull checks that every tier with strip kernels has one
// for every shape the drivers ask for, so the twin tests above compare
// assembly with Go rather than Go with itself.
func TestKernelTablesFull(t *testing.T) {
	for _, tr := range allTiers() {
		for dt, ks := range tr.half {
			for v := 1; v*tr.lanes <= tr.nr; v++ {
				for rows := 1; rows <= tr.mr; rows++ {
					if ks[v][rows] == nil {
						t.Errorf("%v %v: no %d×%d micro-kernel", tr.level, dt, rows, v*tr.lanes)
					}
				}
			}
			g := tr.halfGEMV[dt]
			if g == nil {
				t.Errorf("%v %v: micro-kernels but no strip GEMV", tr.level, dt)
				continue
			}
			for m := 1; m <= gemvMaxM; m++ {
				for v := 1; v*tr.lanes <= tr.nr; v++ {
					if g[m][v] == nil {
						t.Errorf("%v %v: no strip GEMV m=%d w=%d", tr.level, dt, m, v*tr.lanes)
					}
				}
			}
		}
		if tr.stripF32 != nil {
			for m := 1; m <= gemvMaxM; m++ {
				for v := 1; v*tr.lanes <= tr.nr; v++ {
					if tr.stripF32[m][v] == nil {
						t.Errorf("%v: no f32 strip GEMV m=%d w=%d", tr.level, m, v*tr.lanes)
					}
				}
			}
		}
	}
}
