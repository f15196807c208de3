package cuda_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/fallback"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

func open(t *testing.T, o cuda.Options) *cuda.Backend {
	t.Helper()
	if err := driver.Init(); err != nil {
		t.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		t.Skipf("no CUDA device (%v)", err)
	}
	be, err := cuda.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := be.Close(); err != nil {
			t.Error(err)
		}
	})
	return be
}

// TestConformance runs the whole conformance suite on the GPU, with the
// ops it lacks on the host, and checks that the implemented ops really ran
// on the device.
func TestConformance(t *testing.T) {
	be := open(t, cuda.Options{})
	fb := fallback.New(be, cpu.New(cpu.Options{}))
	backendtest.Suite(t, fb, 11)
	prep := be.Prepared()
	t.Logf("on the GPU: %v", prep)
	t.Logf("on the host: %v", fb.Fallbacks())
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Silu", "Exp", "Tanh", "GeluTanh", "Softcap", "RMSNorm", "Softmax", "Gather", "MatMul", "Fused", "RoPE",
		"Attention", "Concat", "Permute", "Expand", "Pad", "Cast", "Where", "Less", "ReduceSum", "ReduceMax", "ArgMax",
		"LayerNorm", "TopK", "Range", "RoPETable", "MoE"} {
		if prep[op] == 0 {
			t.Errorf("no %s node ran on the GPU", op)
		}
	}
}

// TestGatherBadID checks that an embedding id outside the table is an
// error of the run (the kernel flags it; Sync and Read report it), not
// silent garbage.
func TestGatherBadID(t *testing.T) {
	be := open(t, cuda.Options{})
	b := ir.NewBuilder()
	ids := b.Input("ids", tensor.I32, ir.Sym("n"))
	b.Output("y", b.Gather(b.Param("emb", tensor.F32, ir.N(5), ir.N(3)), ids))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	table := make([]float32, 15)
	for i := range table {
		table[i] = float32(i)
	}
	prog, err := compile.Compile(g, be, ir.MapParams{"emb": tensor.FromF32(table, 5, 3)}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	sess := prog.NewSession()
	defer sess.Close()
	ctx := context.Background()
	out, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{4, 0, 2}, 3)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{12, 13, 14, 0, 1, 2, 6, 7, 8}
	for i, v := range out["y"].F32() {
		if v != want[i] {
			t.Fatalf("y = %v, want %v", out["y"].F32(), want)
		}
	}
	for _, bad := range [][]int32{{1, 5}, {-1}} {
		_, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(bad, len(bad))}, nil)
		if !errors.Is(err, cuda.ErrBadIndex) {
			t.Fatalf("ids %v: got %v, want ErrBadIndex", bad, err)
		}
	}
	// The flag is cleared: a good run afterwards succeeds.
	if _, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32([]int32{3}, 1)}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestFusedChains compiles elementwise chains that the compiler fuses into
// generated kernels (broadcast operands, softcap, scalars; the BOOL
// comparison feeding the where stays a separate node, on the host for now)
// and compares them with the float64 reference at awkward sizes.
func TestFusedChains(t *testing.T) {
	be := open(t, cuda.Options{})
	fb := fallback.New(be, cpu.New(cpu.Options{}))
	rng := rand.New(rand.NewPCG(21, 22))
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {37, 1031}} {
		rows, cols := sh[0], sh[1]
		b := ir.NewBuilder()
		x := b.Input("x", tensor.F32, ir.N(rows), ir.N(cols))
		y := b.Input("y", tensor.F32, ir.N(rows), ir.N(cols))
		bias := b.Input("bias", tensor.F32, ir.N(cols))
		col := b.Input("col", tensor.F32, ir.N(rows), ir.N(1))
		h := b.Add(b.Mul(x, y), bias)
		b.Output("swiglu", b.Mul(b.Silu(h), b.Sigmoid(col)))
		b.Output("where", b.Where(b.Less(x, y), b.Softcap(b.Scale(x, 3), 2.5), b.AddScalar(b.Tanh(y), 0.5)))
		b.Output("gelu", b.Div(b.GeluTanh(b.Sub(x, col)), b.AddScalar(b.Exp(b.Neg(b.Square(y))), 1)))
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		rnd := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 2)
			}
			return v
		}
		c := backendtest.Case{
			Name: "fused", Graph: g, Tol: 1e-5, Atol: 1e-6,
			Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{
				"x": tensor.FromF32(rnd(rows*cols), rows, cols), "y": tensor.FromF32(rnd(rows*cols), rows, cols),
				"bias": tensor.FromF32(rnd(cols), cols), "col": tensor.FromF32(rnd(rows), rows, 1),
			}}},
		}
		before := be.Prepared()["Fused"]
		res, err := backendtest.Run(context.Background(), fb, c, compile.Options{})
		if err != nil {
			t.Fatalf("%dx%d: %v", rows, cols, err)
		}
		if be.Prepared()["Fused"] == before {
			t.Fatalf("%dx%d: the chains were not fused (%v)", rows, cols, be.Prepared())
		}
		t.Logf("%dx%d: max error %.3g (%s)", rows, cols, res.MaxErr, res.Output)
	}
}

func TestNewWithoutGPU(t *testing.T) {
	if err := driver.Init(); err == nil {
		t.Skip("a driver is present")
	}
	be, err := cuda.New(cuda.Options{})
	if err == nil || be != nil {
		t.Fatalf("New without a driver: %v, %v", be, err)
	}
	if !errors.Is(err, driver.ErrNoDriver) && err.Error() != "CUDA is only supported on linux" {
		t.Fatalf("unclear error: %v", err)
	}
}

// TestStagedWrites checks small writes queued through the page-locked
// staging ring: many writes of awkward sizes, more bytes than the ring
// holds, with no Sync between them and each source slice overwritten as
// soon as Write returns, then a rewrite of the same places, all read back
// intact. A large write (the synchronous path) in between keeps its order.
func TestStagedWrites(t *testing.T) {
	be := open(t, cuda.Options{})
	const total = 3 << 20
	buf, err := be.Alloc(total)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Free(buf)
	want := make([]byte, total)
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 2 {
		off := 0
		for off < total {
			n := min(1+rng.IntN(9000), total-off)
			if round == 1 && rng.IntN(40) == 0 {
				n = min(100<<10, total-off)
			}
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			copy(want[off:], src)
			v := backend.Tensor{Buf: buf, Off: int64(off), DType: tensor.U8, Shape: []int{n}}
			if err := be.Write(v, src); err != nil {
				t.Fatal(err)
			}
			clear(src) // the write must have taken its own copy
			off += n
		}
	}
	got := make([]byte, total)
	if err := be.Read(backend.Tensor{Buf: buf, DType: tensor.U8, Shape: []int{total}}, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("byte %d: got %d, want %d", i, got[i], want[i])
		}
	}
}
