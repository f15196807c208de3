package gemm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// TestMatMulGroup checks that a group gives exactly the results of
// separate MatMul calls, for strip GEMVs (m ≤ gemvMaxM, partial last
// strips, small weights that are one chunk) and the fallback (m above).
func TestMatMulGroup(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	p := parallel.New(3)
	defer p.Close()
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16, tensor.F32} {
		for _, k := range []int{1, 37, 200} {
			for _, ns := range [][]int{{5, 100, 100}, {97, 16, 16, 49}, {48, 1}, {300}} {
				for _, m := range []int{1, 2, 4, 5} {
					name := fmt.Sprintf("%v/k=%d/n=%v/m=%d", dt, k, ns, m)
					ws := make([]*PackedB, len(ns))
					for i, n := range ns {
						b := B{Layout: NK, DType: dt}
						if dt == tensor.F32 {
							b.F32 = randF32(r, n*k)
						} else {
							b.U16 = make([]uint16, n*k)
							for j := range b.U16 {
								b.U16[j] = uint16(r.Uint32()) & 0xbbff
							}
						}
						var err error
						if dt == tensor.F32 {
							ws[i], err = Pack(p, b, n, k)
						} else {
							ws[i], err = PackHalf(p, b, n, k)
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					a := randF32(r, m*(k+1))
					cs := make([]Matrix, len(ns))
					for i, n := range ns {
						cs[i] = Matrix{Data: randF32(r, m*(n+2)), Stride: n + 2} // stale values must be overwritten
					}
					if err := MatMulGroup(p, ws, cs, Matrix{Data: a, Stride: k + 1}, m); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for i, n := range ns {
						want := make([]float32, m*(n+2))
						copy(want, cs[i].Data)
						if err := ws[i].MatMul(p, Matrix{Data: want, Stride: n + 2}, Matrix{Data: a, Stride: k + 1}, m, false); err != nil {
							t.Fatal(err)
						}
						for x := range want {
							if want[x] != cs[i].Data[x] {
								t.Fatalf("%s: weight %d element %d = %v, separate MatMul %v", name, i, x, cs[i].Data[x], want[x])
							}
						}
					}
				}
			}
		}
	}
}

func TestMatMulGroupErrors(t *testing.T) {
	p := parallel.New(2)
	defer p.Close()
	mk := func(n, k int) *PackedB {
		pb, err := PackHalf(p, B{Layout: NK, DType: tensor.F16, U16: make([]uint16, n*k)}, n, k)
		if err != nil {
			t.Fatal(err)
		}
		return pb
	}
	a := Matrix{Data: make([]float32, 64)}
	if err := MatMulGroup(p, []*PackedB{mk(4, 8), mk(4, 16)}, []Matrix{{Data: make([]float32, 4)}, {Data: make([]float32, 4)}}, a, 1); !errors.Is(err, ErrShape) {
		t.Fatalf("different depths: %v, want ErrShape", err)
	}
	if err := MatMulGroup(p, []*PackedB{mk(4, 8), mk(4, 8)}, []Matrix{{Data: make([]float32, 4)}, {Data: make([]float32, 3)}}, a, 1); !errors.Is(err, ErrShape) {
		t.Fatalf("short C: %v, want ErrShape", err)
	}
	if err := MatMulGroup(p, []*PackedB{mk(4, 8)}, nil, a, 1); !errors.Is(err, ErrShape) {
		t.Fatalf("missing output: %v, want ErrShape", err)
	}
}
