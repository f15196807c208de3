package kernels

import (
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/nvrtc"
)

// pdlSource is a chain link for TestDependentLaunch: it reads the buffer the
// previous launch wrote and writes the other one, after a spin that keeps
// every block busy. It lets its successor launch at once, so a successor
// that read before its RLX_GRID_WAIT() returned would see stale values.
const pdlSource = `
extern "C" __global__ void pdl_step(const float* in, float* out, int n, long long spin, float add) {
    RLX_GRID_WAIT();
    RLX_GRID_LAUNCH_DEPENDENTS();
    const long long t0 = clock64();
    while (clock64() - t0 < spin) { }
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = in[i] * 0.5f + add;
}
`

// TestDependentLaunch runs a chain of dependent launches queued with
// LaunchDependent, plainly and as a captured graph replayed twice, with PDL
// on and off, and checks every element against the host's chain (the
// arithmetic is exact in f32 either way: ·0.5 then one rounding).
func TestDependentLaunch(t *testing.T) {
	c, _ := open(t)
	ver, err := driver.Version()
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := nvrtc.CompileCached(Prelude+pdlSource, "pdl_test.cu", nvrtc.Options{Arch: c.Device.Arch(), Flags: Flags}, ver)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.LoadModule(img)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Unload(m)
	f, err := c.Function(m, "pdl_step")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer c.DestroyStream(s)
	t.Logf("PDL available: %v (%s)", c.PDL(), c.Device.Arch())

	const n, steps = 100003, 48
	init := make([]float32, n)
	for i := range init {
		init[i] = float32(i%977) - 300
	}
	want := append([]float32(nil), init...)
	for st := range steps {
		for i := range want {
			want[i] = want[i]*0.5 + float32(st+1)
		}
	}
	bufs := [2]driver.Ptr{upload(t, c, init), upload(t, c, make([]float32, n))}
	queue := func() error {
		for st := range steps {
			if err := c.LaunchDependent(f, driver.Dim3{X: 64}, driver.Dim3{X: 256}, 0, s,
				bufs[st%2], bufs[(st+1)%2], n, int64(20000), float32(st+1)); err != nil {
				return err
			}
		}
		return nil
	}
	check := func(what string) {
		t.Helper()
		if err := c.SyncStream(s); err != nil {
			t.Fatal(err)
		}
		got := download(t, c, bufs[steps%2], n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
			}
		}
	}
	reset := func() {
		if err := c.CopyDtoD(bufs[0], upload(t, c, init), 4*n); err != nil {
			t.Fatal(err)
		}
	}
	for _, on := range []bool{true, false} {
		was := driver.SetPDL(on)
		reset()
		if err := queue(); err != nil {
			t.Fatal(err)
		}
		check("plain")
		if driver.HasGraphs() {
			if err := c.BeginCapture(s); err != nil {
				t.Fatal(err)
			}
			if err := queue(); err != nil {
				c.EndCapture(s)
				t.Fatal(err)
			}
			g, err := c.EndCapture(s)
			if err != nil {
				t.Fatal(err)
			}
			for r := range 2 {
				reset()
				if err := c.LaunchGraph(g, s); err != nil {
					t.Fatal(err)
				}
				check("graph replay " + string(rune('1'+r)))
			}
			c.DestroyGraph(g)
		}
		driver.SetPDL(was)
	}
}
