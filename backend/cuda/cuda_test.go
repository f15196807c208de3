package cuda_test

import (
	"context"
	"errors"
	"testing"

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
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Silu", "Exp", "Tanh", "GeluTanh", "Softcap", "RMSNorm", "Softmax", "Gather", "MatMul"} {
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
