package parallel

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sizes covers the inline pool, the common 2-core case and more workers
// than cores (which must still be correct, only slower).
var sizes = []int{1, 2, 3, 8}

func TestForCoversRangeExactlyOnce(t *testing.T) {
	for _, size := range sizes {
		p := New(size)
		for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 4099} {
			for _, grain := range []int{-1, 0, 1, 3, 64, 5000} {
				hits := make([]int32, n)
				p.For(n, grain, func(lo, hi int) {
					if lo < 0 || hi > n || lo >= hi {
						t.Errorf("size %d n %d grain %d: bad chunk [%d,%d)", size, n, grain, lo, hi)
						return
					}
					if grain > 0 && hi-lo > grain {
						t.Errorf("size %d n %d grain %d: chunk [%d,%d) exceeds grain", size, n, grain, lo, hi)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("size %d n %d grain %d: element %d visited %d times", size, n, grain, i, h)
					}
				}
			}
		}
		p.Close()
	}
}

func TestRunTasksAndWorkers(t *testing.T) {
	for _, size := range sizes {
		p := New(size)
		if p.Size() != size {
			t.Fatalf("Size() = %d, want %d", p.Size(), size)
		}
		for _, tasks := range []int{0, 1, 2, 5, 100, 1001} {
			hits := make([]int32, tasks)
			// busy[w] counts tasks running as worker w right now; it must
			// never exceed one.
			busy := make([]int32, size)
			var workersSeen sync.Map
			p.Run(tasks, func(task, worker int) {
				if worker < 0 || worker >= size {
					t.Errorf("worker %d out of [0,%d)", worker, size)
					return
				}
				if atomic.AddInt32(&busy[worker], 1) != 1 {
					t.Errorf("two tasks share worker %d", worker)
				}
				workersSeen.Store(worker, true)
				atomic.AddInt32(&hits[task], 1)
				atomic.AddInt32(&busy[worker], -1)
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("size %d tasks %d: task %d ran %d times", size, tasks, i, h)
				}
			}
		}
		p.Close()
	}
}

// TestRunUsesWorkers checks that tasks really run in parallel: with every
// task blocking until all participants have arrived, a pool that ran them
// one after another would never finish (the test times out).
func TestRunUsesWorkers(t *testing.T) {
	for _, size := range []int{2, 3, 4} {
		p := New(size)
		var arrived atomic.Int32
		p.Run(size, func(task, worker int) {
			arrived.Add(1)
			deadline := time.Now().Add(10 * time.Second)
			for arrived.Load() < int32(size) {
				if time.Now().After(deadline) {
					t.Errorf("size %d: only %d of %d tasks ran at once", size, arrived.Load(), size)
					return
				}
				runtime.Gosched()
			}
		})
		p.Close()
	}
}

func TestNestedCallsRunInline(t *testing.T) {
	p := New(4)
	defer p.Close()
	var total atomic.Int64
	p.Run(8, func(task, worker int) {
		p.For(100, 7, func(lo, hi int) {
			p.Run(3, func(int, int) { total.Add(int64(hi - lo)) })
		})
	})
	if got, want := total.Load(), int64(8*100*3); got != want {
		t.Fatalf("nested total %d, want %d", got, want)
	}
}

func TestConcurrentCallers(t *testing.T) {
	p := New(3)
	defer p.Close()
	const callers, calls = 6, 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				n := 50 + (c*calls+i)%97
				var sum atomic.Int64
				p.For(n, 4, func(lo, hi int) {
					for j := lo; j < hi; j++ {
						sum.Add(int64(j))
					}
				})
				if want := int64(n * (n - 1) / 2); sum.Load() != want {
					errs <- fmt.Errorf("caller %d call %d: sum %d, want %d", c, i, sum.Load(), want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestWakeAfterPark lets workers park between calls, which exercises the
// wake-up handshake rather than the spinning fast path.
func TestWakeAfterPark(t *testing.T) {
	p := New(3)
	defer p.Close()
	for i := range 5 {
		time.Sleep(3 * spinFor)
		var count atomic.Int32
		p.Run(30, func(int, int) { count.Add(1) })
		if count.Load() != 30 {
			t.Fatalf("round %d: %d of 30 tasks ran", i, count.Load())
		}
	}
}

func TestPanicReachesCaller(t *testing.T) {
	p := New(4)
	defer p.Close()
	for round := range 3 {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("round %d: no panic", round)
				}
				if !strings.Contains(fmt.Sprint(r), "boom 13") {
					t.Fatalf("round %d: panic %v does not carry the task's value", round, r)
				}
			}()
			p.Run(64, func(task, _ int) {
				if task == 13 {
					panic("boom 13")
				}
			})
		}()
		// The pool must be usable again after a panic.
		var n atomic.Int32
		p.Run(10, func(int, int) { n.Add(1) })
		if n.Load() != 10 {
			t.Fatalf("after panic: %d of 10 tasks ran", n.Load())
		}
	}
}

func TestCloseThenInline(t *testing.T) {
	p := New(4)
	p.Close()
	p.Close() // idempotent
	var n atomic.Int32
	p.For(10, 1, func(lo, hi int) { n.Add(int32(hi - lo)) })
	p.Run(5, func(int, int) { n.Add(1) })
	if n.Load() != 15 {
		t.Fatalf("after Close: %d of 15", n.Load())
	}
}

func TestDefault(t *testing.T) {
	if a, b := Default(), Default(); a != b {
		t.Fatal("Default returns different pools")
	}
	if Default().Size() != runtime.GOMAXPROCS(0) {
		t.Fatalf("Default().Size() = %d, want GOMAXPROCS %d", Default().Size(), runtime.GOMAXPROCS(0))
	}
	if New(0).Size() != runtime.GOMAXPROCS(0) {
		t.Fatal("New(0) is not sized to GOMAXPROCS")
	}
}

func TestDispatchDoesNotAllocate(t *testing.T) {
	p := New(2)
	defer p.Close()
	var sink atomic.Int64
	forFn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	runFn := func(task, _ int) { sink.Add(int64(task)) }
	allocs := testing.AllocsPerRun(200, func() {
		p.For(1000, 100, forFn)
		p.Run(8, runFn)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per dispatch, want 0", allocs)
	}
}

func BenchmarkDispatch(b *testing.B) {
	for _, size := range []int{1, 2, 4} {
		p := New(size)
		var sink atomic.Int64
		fn := func(task, _ int) { sink.Add(1) }
		b.Run(fmt.Sprintf("Run/size=%d", size), func(b *testing.B) {
			for b.Loop() {
				p.Run(size, fn)
			}
		})
		forFn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
		b.Run(fmt.Sprintf("For/size=%d", size), func(b *testing.B) {
			for b.Loop() {
				p.For(1024, 0, forFn)
			}
		})
		p.Close()
	}
	// The alternative the pool replaces: a goroutine per chunk.
	b.Run("goroutines+WaitGroup/n=2", func(b *testing.B) {
		var sink atomic.Int64
		for b.Loop() {
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() { sink.Add(1) })
			}
			wg.Wait()
		}
	})
}

// TestCallerParks makes the workers outlast the caller's polling, so the
// caller sleeps and must be woken by the last worker.
func TestCallerParks(t *testing.T) {
	p := New(3)
	defer p.Close()
	for round := range 20 {
		var n atomic.Int32
		p.Run(3, func(task, worker int) {
			if worker != 0 {
				time.Sleep(2 * time.Millisecond)
			}
			n.Add(1)
		})
		if n.Load() != 3 {
			t.Fatalf("round %d: %d of 3 tasks ran before Run returned", round, n.Load())
		}
	}
}

// spinWork burns about n·1 ns of CPU without touching memory.
func spinWork(n int) int {
	x := 1
	for i := range n {
		x = x*31 + i
	}
	return x
}

// BenchmarkDecodePattern is the shape of a decode step: a call of 32
// short chunks (a GEMV's rows), then a little serial work on the caller
// (a norm, an activation quantization) before the next call. The time per
// op is the work plus what the pool's wake-ups and joins add to it;
// "serial-ns" is the same work on the caller alone, for reference.
func BenchmarkDecodePattern(b *testing.B) {
	const chunks, chunkWork, gapWork = 32, 1500, 2000
	var sink atomic.Int64
	fn := func(lo, hi int) {
		s := 0
		for range hi - lo {
			s += spinWork(chunkWork)
		}
		sink.Add(int64(s))
	}
	t0 := time.Now()
	for range 200 {
		fn(0, chunks)
		sink.Add(int64(spinWork(gapWork)))
	}
	serial := float64(time.Since(t0).Nanoseconds()) / 200
	p := New(2)
	defer p.Close()
	for b.Loop() {
		p.For(chunks, 1, fn)
		sink.Add(int64(spinWork(gapWork)))
	}
	b.ReportMetric(serial, "serial-ns")
}
