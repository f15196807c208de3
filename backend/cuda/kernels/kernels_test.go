package kernels

import (
	"encoding/binary"
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
