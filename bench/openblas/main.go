//go:build openblas

// Command openblas times OpenBLAS cblas_sgemm on the shapes `rlx bench
// gemm` measures, printing the same line format, so the two can be run
// interleaved by bench/gemm-vs-openblas.sh. It links the system OpenBLAS
// through cgo and is built only with -tags openblas:
//
//	go build -tags openblas -o /tmp/openblas-bench ./bench/openblas
//	OPENBLAS_CORETYPE=SkylakeX /tmp/openblas-bench -m 1024 -k 1024 -n 1024 -threads 2
package main

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cpuSeconds is CPU time per thread: the calling thread's for one thread
// (OpenBLAS then runs on it), the process's divided by threads otherwise.
func cpuSeconds(threads int) float64 {
	clock := int32(unix.CLOCK_THREAD_CPUTIME_ID)
	if threads > 1 {
		clock = unix.CLOCK_PROCESS_CPUTIME_ID
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		panic(err)
	}
	return (float64(ts.Sec) + float64(ts.Nsec)*1e-9) / float64(max(threads, 1))
}

func main() {
	m := flag.Int("m", 1024, "rows of A and C")
	k := flag.Int("k", 1024, "reduction depth")
	n := flag.Int("n", 1024, "columns of C")
	layout := flag.String("layout", "kn", "B layout: kn (B[K,N]) or nk (B[N,K], multiplied transposed)")
	threads := flag.Int("threads", 2, "OpenBLAS threads")
	runs := flag.Int("r", 10, "timed runs (after 2 warm-ups)")
	asJSON := flag.Bool("json", false, "print JSON")
	cpuTime := flag.Bool("cputime", false, "divide by CPU time per thread instead of wall time (less sensitive to a busy host)")
	flag.Parse()
	if *m <= 0 || *n <= 0 || *k <= 0 || *runs <= 0 {
		fmt.Fprintln(os.Stderr, "openblas: sizes and runs must be positive")
		os.Exit(2)
	}
	trans := uint32(C.CblasNoTrans)
	ldb := *n
	switch *layout {
	case "kn":
	case "nk":
		trans, ldb = C.CblasTrans, *k
	default:
		fmt.Fprintln(os.Stderr, "openblas: -layout must be kn or nk")
		os.Exit(2)
	}
	C.openblas_set_num_threads(C.int(*threads))
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return v
	}
	a, b, c := rnd(*m**k), rnd(*k**n), make([]float32, *m**n)
	call := func() {
		C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, trans, C.int(*m), C.int(*n), C.int(*k), 1,
			(*C.float)(unsafe.Pointer(&a[0])), C.int(*k), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), 0,
			(*C.float)(unsafe.Pointer(&c[0])), C.int(*n))
	}
	call()
	call()
	flop := 2 * float64(*m) * float64(*n) * float64(*k)
	gf := make([]float64, *runs)
	for i := range gf {
		if *cpuTime {
			runtime.LockOSThread()
			c0 := cpuSeconds(*threads)
			call()
			gf[i] = flop / (cpuSeconds(*threads) - c0) / 1e9
			continue
		}
		t0 := time.Now()
		call()
		gf[i] = flop / time.Since(t0).Seconds() / 1e9
	}
	slices.Sort(gf)
	med := gf[len(gf)/2]
	if len(gf)%2 == 0 {
		med = (gf[len(gf)/2-1] + gf[len(gf)/2]) / 2
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(map[string]any{
			"impl": "openblas", "m": *m, "n": *n, "k": *k, "layout": *layout, "threads": *threads,
			"runs": *runs, "gflops_median": med, "gflops_min": gf[0], "gflops_max": gf[len(gf)-1],
		})
		return
	}
	fmt.Printf("openblas %dx%dx%d %s threads=%d: median %.1f GFLOP/s (min %.1f, max %.1f, %d runs)\n",
		*m, *n, *k, *layout, *threads, med, gf[0], gf[len(gf)-1], *runs)
}
