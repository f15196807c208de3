package cuda_test

import (
	"errors"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/fallback"
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
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Silu", "Exp", "Tanh", "GeluTanh", "Softcap", "RMSNorm", "Softmax", "MatMul"} {
		if prep[op] == 0 {
			t.Errorf("no %s node ran on the GPU", op)
		}
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
