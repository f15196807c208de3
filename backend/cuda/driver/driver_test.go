package driver

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// open returns device 0 or skips the test, saying why.
func open(t *testing.T) *Context {
	t.Helper()
	if err := Init(); err != nil {
		t.Skipf("no CUDA: %v", err)
	}
	n, err := DeviceCount()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skip("no CUDA device")
	}
	c, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func TestInitErrorIsClear(t *testing.T) {
	err := Init()
	if err == nil {
		t.Skip("a driver is present")
	}
	if !errors.Is(err, ErrNoDriver) && err.Error() != "CUDA is only supported on linux" {
		t.Fatalf("Init error %q neither names the missing driver nor the OS", err)
	}
	if _, err := DeviceCount(); err == nil {
		t.Fatal("DeviceCount succeeded without a driver")
	}
	if _, err := GetDevice(0); err == nil {
		t.Fatal("GetDevice succeeded without a driver")
	}
	t.Logf("without a driver: %v", err)
}

func TestDevice(t *testing.T) {
	c := open(t)
	d := c.Device
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device 0: %s, %d MiB, %s, %d SMs, driver CUDA %d.%d", d.Name, d.TotalMem>>20, d.Arch(), d.SMs, v/1000, v%1000/10)
	if d.Name == "" || d.TotalMem <= 0 || d.Major < 3 || d.SMs <= 0 || v < 10000 {
		t.Fatalf("implausible device %+v, driver %d", d, v)
	}
	free, total, err := c.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	if free <= 0 || free > total || total != d.TotalMem {
		t.Fatalf("MemInfo free=%d total=%d, device total %d", free, total, d.TotalMem)
	}
	n, _ := DeviceCount()
	if _, err := GetDevice(n); err == nil {
		t.Fatal("GetDevice past the last device succeeded")
	}
}

func TestMemory(t *testing.T) {
	c := open(t)
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer c.DestroyStream(s)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 4093, 1<<20 + 3} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		a, err := c.Alloc(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Alloc(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CopyHtoD(a, src); err != nil {
			t.Fatal(err)
		}
		if err := c.CopyDtoD(b, a, int64(n)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if err := c.CopyDtoH(got, b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("n=%d: sync round trip differs", n)
		}
		// async: memset the tail, copy the head over on a stream.
		if err := c.MemsetAsync(a, 0xA5, int64(n), s); err != nil {
			t.Fatal(err)
		}
		half := n / 2
		if err := c.CopyHtoDAsync(a, src[:half], s); err != nil {
			t.Fatal(err)
		}
		if err := c.CopyDtoDAsync(b, a, int64(n), s); err != nil {
			t.Fatal(err)
		}
		got2 := make([]byte, n)
		if err := c.CopyDtoHAsync(got2, b, s); err != nil {
			t.Fatal(err)
		}
		if err := c.SyncStream(s); err != nil {
			t.Fatal(err)
		}
		for i := range got2 {
			want := byte(0xA5)
			if i < half {
				want = src[i]
			}
			if got2[i] != want {
				t.Fatalf("n=%d: async byte %d = %#x, want %#x", n, i, got2[i], want)
			}
		}
		if err := c.Free(a); err != nil {
			t.Fatal(err)
		}
		if err := c.Free(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestErrors(t *testing.T) {
	c := open(t)
	_, err := c.Alloc(1 << 62)
	var e *Error
	if !errors.As(err, &e) || e.Call != "cuMemAlloc_v2" || e.Name == "" || e.Msg == "" {
		t.Fatalf("huge alloc: got %v, want a cuMemAlloc_v2 error with name and message", err)
	}
	t.Logf("huge alloc: %v", err)
	if _, err := c.LoadModule([]byte("not a module\x00")); err == nil {
		t.Fatal("loading garbage as a module succeeded")
	} else {
		t.Logf("garbage module: %v", err)
	}
	if err := c.Launch(0, Dim3{X: 1}, Dim3{X: 1}, 0, 0, "bad"); err == nil {
		t.Fatal("launch with a string argument succeeded")
	}
}

func TestEvents(t *testing.T) {
	c := open(t)
	a, err := c.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Alloc(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(p)
	if err := c.Record(a, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.MemsetAsync(p, 1, 64<<20, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Record(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncEvent(b); err != nil {
		t.Fatal(err)
	}
	ms, err := c.Elapsed(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if ms <= 0 || ms > 1000 {
		t.Fatalf("64 MiB memset took %v ms", ms)
	}
	t.Logf("64 MiB memset: %.3f ms (%.0f GB/s)", ms, 64<<20/float64(ms)/1e6)
	c.DestroyEvent(a)
	c.DestroyEvent(b)
}
