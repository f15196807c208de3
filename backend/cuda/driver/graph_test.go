package driver

import (
	"bytes"
	"testing"
)

// TestGraphReplay captures a memset and a copy on a stream, replays the
// graph twice (the copy re-reads its source each time) and checks that a
// synchronizing call during a capture fails instead of running.
func TestGraphReplay(t *testing.T) {
	c := open(t)
	if !hasGraphs() {
		t.Skip(ErrNoGraphs)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer c.DestroyStream(s)
	const n = 4099
	src, err := c.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(src)
	dst, err := c.Alloc(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(dst)
	if err := c.Memset(src, 7, n); err != nil {
		t.Fatal(err)
	}
	if err := c.BeginCapture(s); err != nil {
		t.Fatal(err)
	}
	if on, err := c.Capturing(s); err != nil || !on {
		t.Fatalf("capturing = %v, %v", on, err)
	}
	if err := c.MemsetAsync(dst, 1, 2*n, s); err != nil {
		t.Fatal(err)
	}
	if err := c.CopyDtoDAsync(dst.Add(n), src, n, s); err != nil {
		t.Fatal(err)
	}
	g, err := c.EndCapture(s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DestroyGraph(g)
	got := make([]byte, 2*n)
	for round, v := range []byte{7, 9} {
		if round > 0 {
			if err := c.Memset(src, v, n); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.LaunchGraph(g, s); err != nil {
			t.Fatal(err)
		}
		if err := c.SyncStream(s); err != nil {
			t.Fatal(err)
		}
		if err := c.CopyDtoH(got, dst); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:n], bytes.Repeat([]byte{1}, n)) || !bytes.Equal(got[n:], bytes.Repeat([]byte{v}, n)) {
			t.Fatalf("replay %d: dst = %v … %v", round, got[:4], got[n:n+4])
		}
	}
	// A synchronization inside a capture is refused and invalidates it.
	if err := c.BeginCapture(s); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncStream(s); err == nil {
		t.Error("cuStreamSynchronize during a capture succeeded")
	}
	if _, err := c.EndCapture(s); err == nil {
		t.Error("EndCapture of an invalidated capture succeeded")
	}
	if on, err := c.Capturing(s); err != nil || on {
		t.Fatalf("after the failed capture: capturing = %v, %v", on, err)
	}
}

// TestHostAlloc round-trips 1 MiB + 3 bytes through page-locked memory.
func TestHostAlloc(t *testing.T) {
	c := open(t)
	const n = 1<<20 + 3
	h, err := c.HostAlloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.HostFree(h)
	if len(h) != n {
		t.Fatalf("len %d", len(h))
	}
	d, err := c.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(d)
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(i*7 + i>>9)
	}
	if err := c.CopyHtoD(d, want); err != nil {
		t.Fatal(err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer c.DestroyStream(s)
	if err := c.CopyDtoHAsync(h, d, s); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncStream(s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h, want) {
		t.Fatal("page-locked copy differs")
	}
}
