// Package parallel is the CPU backend's persistent worker pool.
//
// A Pool owns Size()-1 goroutines that are started once and live as long as
// the pool; the goroutine that calls For or Run is the remaining participant,
// so a call on a pool of size n keeps n cores busy and never starts a
// goroutine. Kernels are short (microseconds for a decode-step GEMV), so the
// cost of waking workers matters: after a call, workers poll for the next
// call for a short while (plain loads of a word on its own cache line, with
// a Go scheduler yield every few hundred polls), and only then park on a
// channel. Dispatching a call allocates nothing and, on
// the 2-core development machine, costs 0.35–0.9 µs from call to return
// with every participant having run (BenchmarkDispatch, size 2; a goroutine
// per chunk plus a WaitGroup measured 0.6–4.5 µs at the same times).
//
// One call runs on a pool at a time. A call made while the pool is busy —
// from another goroutine, or from inside one of the pool's own tasks (a
// kernel that calls another kernel) — does not wait: it runs inline on the
// calling goroutine. That can never deadlock, and on a machine whose cores
// are already all working it loses nothing.
package parallel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long an idle worker keeps polling for the next call before
// it parks. Between the kernels of one forward pass the gap is usually a few
// microseconds, so a worker that is still spinning starts at once, where a
// parked one costs a futex wake-up (tens of microseconds on a busy VM).
const spinFor = 50 * time.Microsecond

// pollsPerYield is how many times a spinning worker or a joining caller
// looks at the shared word between Go scheduler yields: a few hundred
// nanoseconds of plain loads, so a waiting goroutine still lets the
// others on its thread run often.
const pollsPerYield = 256

// Worker states, for the wake-up handshake between a dispatching caller and
// a worker that is about to park.
const (
	awake int32 = iota
	parked
)

// activeBits is the width of the participant count packed into a ticket.
const activeBits = 16

// quit, as a ticket's participant count, tells workers to exit.
const quit = 1<<activeBits - 1

// maxSize bounds New's argument so a ticket can name every participant.
const maxSize = quit - 1

// Pool is a fixed set of workers that run the tasks of one call at a time.
// The zero value is not usable; make pools with New or use Default.
type Pool struct {
	size int

	// mu is held for the whole of a call that uses the workers; a call that
	// cannot take it runs inline.
	mu     sync.Mutex
	closed bool

	// ticket announces a call to the workers: generation<<activeBits |
	// participants (caller included). Workers with index < participants
	// take part; the rest only note the generation. Idle workers poll it,
	// so it has a cache line of its own: the atomics of a call in progress
	// (next, pending) must not invalidate the pollers' copies.
	_      [64]byte
	ticket atomic.Uint64
	_      [56]byte

	// The current call, written by the caller before the ticket is
	// published and read by participating workers until they report done.
	run      func(task, worker int)
	forFn    func(lo, hi int)
	n, grain int
	tasks    int
	_        [64]byte
	next     atomic.Int64 // next task to claim
	_        [56]byte
	pending  atomic.Int32 // participating workers not yet finished
	_        [60]byte
	// callerParked is the generation of the call whose caller sleeps on
	// done waiting for the workers, 0 when none does. A generation, not a
	// flag: a worker of an earlier call that was descheduled between its
	// last decrement of pending and its look at callerParked must not wake
	// the caller of a later call (which would then return while that call's
	// chunks may still be claimed).
	callerParked atomic.Uint64
	done         chan struct{}
	panicked     atomic.Pointer[taskPanic]

	state []atomic.Int32  // per worker: awake or parked
	wake  []chan struct{} // per worker, buffered 1
	stop  sync.WaitGroup  // workers still running, for Close
}

// taskPanic carries a panic from a worker goroutine to the caller, which
// re-raises it once every participant has stopped.
type taskPanic struct {
	value any
	stack []byte
}

// Error makes the re-raised panic print the worker's stack, which the
// caller's own trace would not show.
func (p *taskPanic) Error() string {
	return fmt.Sprintf("parallel: task panicked: %v\n\nworker stack:\n%s", p.value, p.stack)
}

// New returns a pool of n participants: the calling goroutine plus n-1
// workers started now. n <= 0 means runtime.GOMAXPROCS(0). A pool of size 1
// starts no goroutines and runs every call inline.
func New(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	n = min(n, maxSize)
	p := &Pool{
		size:  n,
		done:  make(chan struct{}, 1),
		state: make([]atomic.Int32, n),
		wake:  make([]chan struct{}, n),
	}
	for w := 1; w < n; w++ {
		p.wake[w] = make(chan struct{}, 1)
		p.stop.Add(1)
		go p.worker(w)
	}
	return p
}

var defaultPool = sync.OnceValue(func() *Pool { return New(0) })

// Default returns the process-wide pool, sized to GOMAXPROCS at first use.
// Kernels use it unless they are handed a pool of their own.
func Default() *Pool { return defaultPool() }

// Size is the number of participants a call can use, the caller included.
func (p *Pool) Size() int { return p.size }

// Close stops the pool's workers and waits for them to exit. Calls made
// after Close run inline. Close must not be called from inside a task.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.publish(quit)
	p.stop.Wait()
}

// For calls fn on consecutive chunks [lo, hi) that cover [0, n), in
// parallel. Chunks hold grain elements (the last one may hold fewer, none
// holds more, also when the call runs inline); grain <= 0 splits n into
// Size() nearly equal chunks. Chunks are claimed
// dynamically, so a grain smaller than n/Size() balances uneven work. For
// returns when every chunk is done; if fn panics, For panics after the other
// chunks in flight have finished.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain <= 0 {
		grain = (n + p.size - 1) / p.size
	}
	chunks := (n + grain - 1) / grain
	if chunks == 1 || p.size == 1 || !p.mu.TryLock() {
		forInline(n, grain, fn)
		return
	}
	if p.closed {
		p.mu.Unlock()
		forInline(n, grain, fn)
		return
	}
	p.forFn, p.n, p.grain, p.tasks = fn, n, grain, chunks
	p.dispatch(chunks)
}

// forInline is For on the calling goroutine alone; chunks keep their size
// so callers may size scratch space by grain.
func forInline(n, grain int, fn func(lo, hi int)) {
	for lo := 0; lo < n; lo += grain {
		fn(lo, min(lo+grain, n))
	}
}

// Run calls fn(task, worker) for every task in [0, tasks), in parallel, and
// returns when all have finished. Tasks are claimed dynamically. worker is in
// [0, Size()) and no two tasks running at the same time within this call
// share it, so it may index per-call scratch space; it says nothing about
// other calls (a nested or concurrent call that runs inline reports worker
// 0). If fn panics, Run panics after the other tasks in flight have finished.
func (p *Pool) Run(tasks int, fn func(task, worker int)) {
	if tasks <= 0 {
		return
	}
	if tasks == 1 || p.size == 1 || !p.mu.TryLock() {
		for t := range tasks {
			fn(t, 0)
		}
		return
	}
	if p.closed {
		p.mu.Unlock()
		for t := range tasks {
			fn(t, 0)
		}
		return
	}
	p.run, p.tasks = fn, tasks
	p.dispatch(tasks)
}

// dispatch runs the call set up in p's fields on min(tasks, size)
// participants. p.mu is held on entry and released on return.
func (p *Pool) dispatch(tasks int) {
	active := min(tasks, p.size)
	p.next.Store(0)
	p.pending.Store(int32(active - 1))
	gen := p.publish(active)

	p.work(0)

	p.join(gen)

	p.run, p.forFn = nil, nil
	tp := p.panicked.Swap(nil)
	p.mu.Unlock()
	if tp != nil {
		panic(tp)
	}
}

// join waits for the participating workers. They usually finish within a
// few hundred nanoseconds of the caller, so it polls for a while before
// parking on p.done, with the same handshake as a parking worker: the
// caller announces it is parked, then looks once more.
func (p *Pool) join(gen uint64) {
	var start time.Time
	for i := 1; ; i++ {
		if p.pending.Load() == 0 {
			return
		}
		if i%pollsPerYield == 0 {
			// Time is read only here: most joins end within the first
			// few hundred polls.
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	p.callerParked.Store(gen)
	if p.pending.Load() == 0 && p.callerParked.CompareAndSwap(gen, 0) {
		return
	}
	<-p.done
}

// publish starts a new generation with the given participant count,
// wakes the parked workers that take part in it and returns the
// generation as workers read it from the ticket.
func (p *Pool) publish(active int) uint64 {
	t := (p.ticket.Load()>>activeBits + 1) << activeBits
	p.ticket.Store(t | uint64(active))
	limit := active
	if active == quit {
		limit = p.size
	}
	for w := 1; w < limit; w++ {
		// A worker that parked after seeing the old ticket needs a token;
		// one that is still spinning will see the new ticket by itself
		// (the plain load first keeps its state's cache line shared).
		if p.state[w].Load() == parked && p.state[w].CompareAndSwap(parked, awake) {
			p.wake[w] <- struct{}{}
		}
	}
	return t >> activeBits
}

// worker is the body of worker goroutine w (w >= 1).
func (p *Pool) worker(w int) {
	defer p.stop.Done()
	// Not p.ticket.Load(): a call may already have been published before
	// this goroutine first ran, and it must take part in that one.
	var seen uint64
	for {
		t := p.waitTicket(w, seen)
		seen = t
		active := int(t & (1<<activeBits - 1))
		if active == quit {
			return
		}
		if w >= active {
			continue
		}
		p.work(w)
		// The last worker out wakes the caller if it went to sleep.
		if p.pending.Add(-1) == 0 && p.callerParked.CompareAndSwap(t>>activeBits, 0) {
			p.done <- struct{}{}
		}
	}
}

// waitTicket returns the first ticket different from seen: spinning for a
// while, then parked until a caller hands worker w a wake-up token.
func (p *Pool) waitTicket(w int, seen uint64) uint64 {
	// Poll with plain loads (the ticket's cache line stays shared until a
	// caller writes it, so this costs the caller nothing) and yield to the
	// Go scheduler only now and then: a Gosched per poll goes through the
	// scheduler's global run queue lock, which the caller's join contends
	// for too, and delays noticing the ticket by a scheduling round trip.
	start := time.Now()
	for i := 1; ; i++ {
		if t := p.ticket.Load(); t != seen {
			return t
		}
		if i%pollsPerYield == 0 {
			if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		p.state[w].Store(parked)
		// A caller may have published between our last look and the
		// store above without seeing us parked: look again.
		if t := p.ticket.Load(); t != seen {
			if p.state[w].CompareAndSwap(parked, awake) {
				return t
			}
			// The caller saw us parked and is sending a token: take it so
			// the channel is empty for the next time.
			<-p.wake[w]
			return t
		}
		<-p.wake[w]
		if t := p.ticket.Load(); t != seen {
			return t
		}
		// A token for a generation that workers with our index skip
		// cannot happen (publish only wakes participants), but stay safe.
	}
}

// work runs tasks of the current call as participant w until none are
// left, recording the first panic instead of letting it kill the process.
func (p *Pool) work(w int) {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			p.panicked.CompareAndSwap(nil, &taskPanic{value: r, stack: buf})
			// Stop handing out tasks so the call ends soon.
			p.next.Store(int64(p.tasks))
		}
	}()
	if fn := p.forFn; fn != nil {
		n, grain, chunks := p.n, p.grain, int64(p.tasks)
		for {
			c := p.next.Add(1) - 1
			if c >= chunks {
				return
			}
			lo := int(c) * grain
			fn(lo, min(lo+grain, n))
		}
	}
	fn, tasks := p.run, int64(p.tasks)
	for {
		t := p.next.Add(1) - 1
		if t >= tasks {
			return
		}
		fn(int(t), w)
	}
}
