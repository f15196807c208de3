package cublaslt

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/tensor"
)

func open(t testing.TB) (*driver.Context, *Handle) {
	t.Helper()
	if err := driver.Init(); err != nil {
		t.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		t.Skipf("no CUDA device (%v)", err)
	}
	if err := Load(); err != nil {
		t.Skipf("no cuBLASLt: %v", err)
	}
	c, err := driver.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
		c.Close()
	})
	return c, h
}

// encode rounds v to t in place and returns its bytes.
func encode(t DType, v []float64) []byte {
	b := make([]byte, len(v)*t.Size())
	for i, x := range v {
		switch t {
		case F32:
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
			v[i] = float64(float32(x))
		case F16:
			h := tensor.F32ToF16(float32(x))
			binary.LittleEndian.PutUint16(b[2*i:], h)
			v[i] = float64(tensor.F16ToF32(h))
		case BF16:
			h := tensor.F32ToBF16(float32(x))
			binary.LittleEndian.PutUint16(b[2*i:], h)
			v[i] = float64(tensor.BF16ToF32(h))
		}
	}
	return b
}

func decode(t DType, b []byte) []float64 {
	v := make([]float64, len(b)/t.Size())
	for i := range v {
		switch t {
		case F32:
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		case F16:
			v[i] = float64(tensor.F16ToF32(binary.LittleEndian.Uint16(b[2*i:])))
		case BF16:
			v[i] = float64(tensor.BF16ToF32(binary.LittleEndian.Uint16(b[2*i:])))
		}
	}
	return v
}

func upload(t testing.TB, c *driver.Context, b []byte) driver.Ptr {
	p, err := c.Alloc(int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Free(p) })
	if err := c.CopyHtoD(p, b); err != nil {
		t.Fatal(err)
	}
	return p
}

func randn(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// tolerance of one output element relative to Σ|a·b| over its dot product.
func tolerance(g GEMM) float64 {
	switch {
	case g.Compute == ComputeTF32:
		return 2e-3
	case g.Out == F16:
		return 2e-3
	case g.Out == BF16:
		return 1e-2
	}
	return 1e-5
}

func TestMatMulT(t *testing.T) {
	c, h := open(t)
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][4]int{{1, 1, 1, 1}, {3, 5, 7, 1}, {1, 257, 129, 1}, {17, 31, 1031, 1}, {64, 1000, 257, 1}, {5, 7, 9, 3}, {2, 33, 65, 4}}
	types := []GEMM{
		{In: F32, Out: F32, Compute: ComputeF32},
		{In: F32, Out: F32, Compute: ComputeTF32},
		{In: F16, Out: F32, Compute: ComputeF32},
		{In: F16, Out: F16, Compute: ComputeF32},
		{In: BF16, Out: F32, Compute: ComputeF32},
		{In: BF16, Out: BF16, Compute: ComputeF32},
	}
	for _, ty := range types {
		for _, sh := range shapes {
			for variant := range 8 {
				for _, acc := range []bool{false, true} {
					g := ty
					g.M, g.N, g.K, g.Batch, g.Accumulate = sh[0], sh[1], sh[2], sh[3], acc
					g.AKM, g.BKN = variant&1 != 0, variant&2 != 0
					switch variant >> 2 {
					case 1:
						g.SharedB = true
						if variant&1 != 0 {
							g.SharedA, g.SharedB = true, false
						}
					}
					if (g.SharedA || g.SharedB) && g.Batch == 1 {
						continue
					}
					t.Run(fmt.Sprintf("%v_%v_c%d_%dx%dx%d_b%d_akm%v_bkn%v_sa%v_sb%v_acc%v", g.In, g.Out, g.Compute, g.M, g.N, g.K, g.Batch, g.AKM, g.BKN, g.SharedA, g.SharedB, acc), func(t *testing.T) {
						testGEMM(t, c, h, rng, g)
					})
				}
			}
		}
	}
}

// TestMatMulTUnaligned runs GEMMs on matrices that start one element past
// an allocation, as views into a planned arena may.
func TestMatMulTUnaligned(t *testing.T) {
	c, h := open(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, ty := range []GEMM{{In: F32, Out: F32, Compute: ComputeF32}, {In: F16, Out: F32, Compute: ComputeF32}, {In: BF16, Out: BF16, Compute: ComputeF32}} {
		for _, sh := range [][3]int{{3, 8, 16}, {33, 64, 128}} {
			g := ty
			g.M, g.N, g.K = sh[0], sh[1], sh[2]
			t.Run(fmt.Sprintf("%v_%v_%dx%dx%d", g.In, g.Out, g.M, g.N, g.K), func(t *testing.T) {
				testGEMMAt(t, c, h, rng, g, 1)
			})
		}
	}
}

// TestMatMulTTuned runs GEMMs large enough to be tuned (every candidate
// algorithm timed, the fastest kept) against float64, and the same kinds
// with tuning off (other shapes, so that they make plans of their own);
// one of each accumulates and is batched.
func TestMatMulTTuned(t *testing.T) {
	c, h := open(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, on := range []bool{true, false} {
		was := h.SetTuning(on)
		types := []GEMM{{In: F16, Out: F32, Compute: ComputeF32}, {In: BF16, Out: F32, Compute: ComputeF32}, {In: F32, Out: F32, Compute: ComputeTF32}}
		if !on {
			types = types[:1]
		}
		for _, ty := range types {
			for i, sh := range [][4]int{{259, 771, 1024, 1}, {130, 520, 1030, 3}} {
				g := ty
				g.M, g.N, g.K, g.Batch, g.Accumulate = sh[0], sh[1], sh[2], sh[3], i == 1
				if !on {
					g.M++
				}
				if !tunable(g) {
					t.Fatalf("%+v is not large enough to be tuned", g)
				}
				t.Run(fmt.Sprintf("tune%v_%v_c%d_%dx%dx%d_b%d_acc%v", on, g.In, g.Compute, g.M, g.N, g.K, g.Batch, g.Accumulate), func(t *testing.T) {
					testGEMM(t, c, h, rng, g)
				})
			}
		}
		h.SetTuning(was)
	}
}

func testGEMM(t *testing.T, c *driver.Context, h *Handle, rng *rand.Rand, g GEMM) {
	testGEMMAt(t, c, h, rng, g, 0)
}

// testGEMMAt places every matrix skip elements into its allocation.
func testGEMMAt(t *testing.T, c *driver.Context, h *Handle, rng *rand.Rand, g GEMM, skip int) {
	nb := g.Batch
	ab, bb := nb, nb
	if g.SharedA {
		ab = 1
	}
	if g.SharedB {
		bb = 1
	}
	a, b, c0 := randn(rng, ab*g.M*g.K), randn(rng, bb*g.N*g.K), randn(rng, nb*g.M*g.N)
	pad := func(t DType, b []byte) []byte { return append(make([]byte, skip*t.Size()), b...) }
	pa, pb := upload(t, c, pad(g.In, encode(g.In, a))), upload(t, c, pad(g.In, encode(g.In, b)))
	pc := upload(t, c, pad(g.Out, encode(g.Out, c0)))
	pa, pb, pc = pa.Add(int64(skip*g.In.Size())), pb.Add(int64(skip*g.In.Size())), pc.Add(int64(skip*g.Out.Size()))
	if err := h.MatMulT(g, pa, pb, pc, 0); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, nb*g.M*g.N*g.Out.Size())
	if err := c.CopyDtoH(out, pc); err != nil {
		t.Fatal(err)
	}
	got := decode(g.Out, out)
	tol := tolerance(g)
	// element (i, k) of A and (j, k) of B in batch z, whatever the storage.
	at := func(z, i, k int) float64 {
		if g.SharedA {
			z = 0
		}
		if g.AKM {
			return a[(z*g.K+k)*g.M+i]
		}
		return a[(z*g.M+i)*g.K+k]
	}
	bt := func(z, j, k int) float64 {
		if g.SharedB {
			z = 0
		}
		if g.BKN {
			return b[(z*g.K+k)*g.N+j]
		}
		return b[(z*g.N+j)*g.K+k]
	}
	for z := range nb {
		for i := range g.M {
			for j := range g.N {
				var s, mag float64
				for k := range g.K {
					p := at(z, i, k) * bt(z, j, k)
					s += p
					mag += math.Abs(p)
				}
				o := (z*g.M+i)*g.N + j
				if g.Accumulate {
					s += c0[o]
					mag += math.Abs(c0[o])
				}
				if d := math.Abs(got[o] - s); !(d <= tol*(mag+1e-30)+1e-30) {
					t.Fatalf("C[%d][%d,%d] = %v, want %v (|diff| %.3g > %.3g·Σ|ab| %.3g)", z, i, j, got[o], s, d, tol, mag)
				}
			}
		}
	}
}

func TestBadGEMM(t *testing.T) {
	_, h := open(t)
	for _, g := range []GEMM{
		{M: 0, N: 1, K: 1, In: F32, Out: F32, Compute: ComputeF32},
		{M: 1, N: 1, K: 1, In: F16, Out: BF16, Compute: ComputeF32},
		{M: 1, N: 1, K: 1, In: F16, Out: F16, Compute: ComputeTF32},
		{M: 1, N: 1, K: 1, In: F32, Out: F32, Compute: 12345},
	} {
		if err := h.MatMulT(g, 0, 0, 0, 0); err == nil {
			t.Errorf("%+v accepted", g)
		}
	}
}

// BenchmarkMatMulT reports the throughput of a Linear layer of Qwen3-0.6B's
// MLP (1024→3072) at prefill (512 rows) and decode (1 row).
func BenchmarkMatMulT(b *testing.B) {
	c, h := open(b)
	for _, m := range []int{1, 512} {
		for _, ty := range []GEMM{{In: F32, Out: F32, Compute: ComputeTF32}, {In: BF16, Out: F32, Compute: ComputeF32}, {In: F16, Out: F32, Compute: ComputeF32}} {
			g := ty
			g.M, g.N, g.K = m, 3072, 1024
			b.Run(fmt.Sprintf("%v_c%d_M%d", g.In, g.Compute, m), func(b *testing.B) {
				pa, err := c.Alloc(int64(g.M * g.K * g.In.Size()))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Free(pa)
				pb, _ := c.Alloc(int64(g.N * g.K * g.In.Size()))
				defer c.Free(pb)
				pc, _ := c.Alloc(int64(g.M * g.N * g.Out.Size()))
				defer c.Free(pc)
				if err := h.MatMulT(g, pa, pb, pc, 0); err != nil {
					b.Fatal(err)
				}
				c.Synchronize()
				b.ResetTimer()
				for b.Loop() {
					if err := h.MatMulT(g, pa, pb, pc, 0); err != nil {
						b.Fatal(err)
					}
				}
				if err := c.Synchronize(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(2*float64(g.M*g.N*g.K)*float64(b.N)/b.Elapsed().Seconds()/1e12, "TFLOP/s")
				b.ReportMetric(float64(g.N*g.K*g.In.Size())*float64(b.N)/b.Elapsed().Seconds()/1e9, "weightGB/s")
			})
		}
	}
}
