package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/nvrtc"
)

func open(t *testing.T) (*driver.Context, *Set) {
	t.Helper()
	if err := driver.Init(); err != nil {
		t.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		t.Skipf("no CUDA device (%v)", err)
	}
	if err := nvrtc.Load(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	c, err := driver.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	return c, s
}

func upload(t *testing.T, c *driver.Context, v []float32) driver.Ptr {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
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

func download(t *testing.T, c *driver.Context, p driver.Ptr, n int) []float32 {
	t.Helper()
	b := make([]byte, 4*n)
	if err := c.CopyDtoH(b, p); err != nil {
		t.Fatal(err)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func close32(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func TestElementwise(t *testing.T) {
	c, s := open(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 1021, 1<<20 + 7} {
		a, b := randn(rng, n, 1), randn(rng, n, 8)
		if n > 2 {
			b[0], b[1] = -200, 200 // silu far in the tails
		}
		pa, pb, po := upload(t, c, a), upload(t, c, b), upload(t, c, make([]float32, n))
		grid := driver.Dim3{X: min((n+255)/256, 1024)} // grid-stride covers the rest
		for _, k := range []struct {
			name string
			args []any
			ref  func(i int) float64
		}{
			{"add_f32", []any{pa, pb, po, int64(n)}, func(i int) float64 { return float64(a[i]) + float64(b[i]) }},
			{"mul_f32", []any{pa, pb, po, int64(n)}, func(i int) float64 { return float64(a[i]) * float64(b[i]) }},
			{"silu_f32", []any{pb, po, int64(n)}, func(i int) float64 { x := float64(b[i]); return x / (1 + math.Exp(-x)) }},
		} {
			f, err := s.Func(k.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Launch(f, grid, driver.Dim3{X: 256}, 0, 0, k.args...); err != nil {
				t.Fatal(err)
			}
			got := download(t, c, po, n)
			want := make([]float64, n)
			for i := range want {
				want[i] = k.ref(i)
			}
			close32(t, k.name, got, want, 1e-6)
		}
	}
}

func TestRMSNorm(t *testing.T) {
	c, s := open(t)
	f, err := s.Func("rmsnorm_f32")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {2, 33}, {5, 4099}, {17, 1024}} {
		rows, cols := sh[0], sh[1]
		x, w := randn(rng, rows*cols, 3), randn(rng, cols, 1)
		px, pw, po := upload(t, c, x), upload(t, c, w), upload(t, c, make([]float32, rows*cols))
		const eps = 1e-5
		for _, threads := range []int{32, 256, 1024} {
			if err := c.Launch(f, driver.Dim3{X: rows}, driver.Dim3{X: threads}, 0, 0, px, pw, po, cols, float32(eps)); err != nil {
				t.Fatal(err)
			}
			got := download(t, c, po, rows*cols)
			want := make([]float64, rows*cols)
			for r := range rows {
				var ss float64
				for _, v := range x[r*cols : (r+1)*cols] {
					ss += float64(v) * float64(v)
				}
				scale := 1 / math.Sqrt(ss/float64(cols)+eps)
				for i := range cols {
					want[r*cols+i] = float64(x[r*cols+i]) * scale * float64(w[i])
				}
			}
			close32(t, "rmsnorm_f32", got, want, 1e-5)
		}
	}
}

func TestLoadUsesCache(t *testing.T) {
	t.Setenv("RLX_CUDA_CACHE", t.TempDir())
	c, s := open(t)
	for _, b := range s.Builds {
		if b.Cached {
			t.Fatalf("%s came from an empty cache", b.File)
		}
	}
	s2, err := Load(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, b := range s2.Builds {
		if !b.Cached {
			t.Fatalf("%s was compiled again", b.File)
		}
	}
	if _, err := s2.Func("no_such_kernel"); err == nil {
		t.Fatal("a missing kernel was found")
	}
	t.Logf("builds: %+v", s.Builds)
}

// decodeBroadcast reads Broadcast's encoding back.
func decodeBroadcast(b []byte) (dims, sa, sb []int64) {
	r := int(binary.LittleEndian.Uint32(b[3*MaxRank*8:]))
	for i := range r {
		dims = append(dims, int64(binary.LittleEndian.Uint64(b[8*i:])))
		sa = append(sa, int64(binary.LittleEndian.Uint64(b[8*(MaxRank+i):])))
		sb = append(sb, int64(binary.LittleEndian.Uint64(b[8*(2*MaxRank+i):])))
	}
	return
}

// index is what binary_f32 computes for element i.
func index(i int64, dims, sa, sb []int64) (int64, int64) {
	var ia, ib int64
	for d := len(dims) - 1; d >= 0; d-- {
		c := i % dims[d]
		i /= dims[d]
		ia += c * sa[d]
		ib += c * sb[d]
	}
	return ia, ib
}

// naiveIndex maps output element i to operand offsets by NumPy's rules.
func naiveIndex(i int, out, s []int) int {
	coord := make([]int, len(out))
	for d := len(out) - 1; d >= 0; d-- {
		coord[d] = i % out[d]
		i /= out[d]
	}
	off, stride := 0, 1
	for j := len(s) - 1; j >= 0; j-- {
		c := coord[j+len(out)-len(s)]
		if s[j] == 1 {
			c = 0
		}
		off += c * stride
		stride *= s[j]
	}
	return off
}

func TestBroadcastEncoding(t *testing.T) {
	for _, c := range [][3][]int{
		{{5}, {5}, {5}},
		{{1}, {1}, {}},
		{{2, 3, 4}, {2, 3, 4}, {4}},
		{{2, 3, 4}, {2, 1, 4}, {3, 1}},
		{{7, 1, 5, 3}, {1, 1, 5, 3}, {7, 1, 1, 3}},
		{{2, 3, 5, 7, 11, 13, 2}, {2, 3, 5, 7, 11, 13, 2}, {1}},
		{{3, 1, 4}, {4}, {3, 1, 1}},
	} {
		out, a, b := c[0], c[1], c[2]
		enc, err := Broadcast(out, a, b)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		dims, sa, sb := decodeBroadcast(enc)
		n := 1
		for _, d := range out {
			n *= d
		}
		for i := range n {
			ia, ib := index(int64(i), dims, sa, sb)
			if int(ia) != naiveIndex(i, out, a) || int(ib) != naiveIndex(i, out, b) {
				t.Fatalf("%v: element %d maps to %d,%d, want %d,%d (dims %v sa %v sb %v)", c, i, ia, ib, naiveIndex(i, out, a), naiveIndex(i, out, b), dims, sa, sb)
			}
		}
	}
	if _, err := Broadcast([]int{2, 3}, []int{3, 3}, []int{3}); err == nil {
		t.Fatal("incompatible shapes accepted")
	}
	// Alternating broadcast axes cannot merge past MaxRank.
	out := []int{2, 2, 2, 2, 2, 2, 2, 2}
	a := []int{2, 1, 2, 1, 2, 1, 2, 1}
	b := []int{1, 2, 1, 2, 1, 2, 1, 2}
	if _, err := Broadcast(out, a, b); err == nil {
		t.Fatal("rank 8 broadcast accepted")
	}
}

func TestGeneric(t *testing.T) {
	c, s := open(t)
	un, err := s.Func("unary_f32")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := s.Func("binary_f32")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 13))
	unaryRef := []func(x float64) float64{
		func(x float64) float64 { return -x }, math.Abs, math.Exp, math.Log, math.Sqrt,
		func(x float64) float64 { return 1 / math.Sqrt(x) }, func(x float64) float64 { return 1 / x },
		func(x float64) float64 { return x * x }, math.Tanh,
		func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, func(x float64) float64 { return x / (1 + math.Exp(-x)) },
		func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))) },
		func(x float64) float64 { return math.Max(x, 0) }, func(x float64) float64 { return 30 * math.Tanh(x/30) },
		math.Sin, math.Cos, math.Erf,
	}
	if len(unaryRef) != UnaryErf+1 {
		t.Fatalf("%d references for %d unary ops", len(unaryRef), UnaryErf+1)
	}
	for _, n := range []int{1, 13, 100003} {
		x := randn(rng, n, 3)
		pos := make([]float32, n) // for log, sqrt, rsqrt
		for i, v := range x {
			pos[i] = float32(math.Abs(float64(v))) + 1e-3
		}
		px, pp, po := upload(t, c, x), upload(t, c, pos), upload(t, c, make([]float32, n))
		for op, ref := range unaryRef {
			in, src := px, x
			if op == UnaryLog || op == UnarySqrt || op == UnaryRsqrt {
				in, src = pp, pos
			}
			if err := c.Launch(un, grid(n), driver.Dim3{X: 256}, 0, 0, in, po, int64(n), op, float32(30)); err != nil {
				t.Fatal(err)
			}
			got := download(t, c, po, n)
			want := make([]float64, n)
			for i := range want {
				want[i] = ref(float64(src[i]))
			}
			close32(t, fmt.Sprintf("unary op %d", op), got, want, 4e-6)
		}
	}
	binaryRef := []func(a, b float64) float64{
		func(a, b float64) float64 { return a + b }, func(a, b float64) float64 { return a - b },
		func(a, b float64) float64 { return a * b }, func(a, b float64) float64 { return a / b },
		math.Pow, math.Max, math.Min,
	}
	for _, sh := range [][3][]int{{{1}, {1}, {1}}, {{3, 7}, {3, 7}, {7}}, {{5, 1, 33}, {5, 1, 33}, {1}}, {{4, 3, 129}, {4, 1, 129}, {3, 1}}, {{257, 1031}, {257, 1031}, {257, 1}}} {
		out, as, bs := sh[0], sh[1], sh[2]
		enc, err := Broadcast(out, as, bs)
		if err != nil {
			t.Fatal(err)
		}
		na, nb, n := prod(as), prod(bs), prod(out)
		a, b := randn(rng, na, 2), randn(rng, nb, 2)
		for i := range a {
			a[i] = float32(math.Abs(float64(a[i]))) + 0.1 // pow of a positive base
		}
		pa, pb, po := upload(t, c, a), upload(t, c, b), upload(t, c, make([]float32, n))
		for op, ref := range binaryRef {
			if err := c.Launch(bin, grid(n), driver.Dim3{X: 256}, 0, 0, pa, pb, po, int64(n), op, enc); err != nil {
				t.Fatal(err)
			}
			got := download(t, c, po, n)
			want := make([]float64, n)
			for i := range want {
				want[i] = ref(float64(a[naiveIndex(i, out, as)]), float64(b[naiveIndex(i, out, bs)]))
			}
			close32(t, fmt.Sprintf("binary op %d %v", op, sh), got, want, 4e-6)
		}
	}
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func grid(n int) driver.Dim3 { return driver.Dim3{X: min((n+255)/256, 4096)} }
