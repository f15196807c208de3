// Package kernels holds rlx's CUDA C kernels (embedded *.cu files) and
// builds them for a device: NVRTC compiles each file for the GPU's
// architecture on first use, the result is cached on disk, and the module
// is loaded into the device's context.
package kernels

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/nvrtc"
)

//go:embed *.cu
var sources embed.FS

// Files lists the embedded kernel sources.
func Files() []string {
	m, _ := fs.Glob(sources, "*.cu")
	sort.Strings(m)
	return m
}

// Source returns an embedded kernel source.
func Source(file string) (string, error) {
	b, err := sources.ReadFile(file)
	return string(b), err
}

// Prelude is prepended to every kernel source (and belongs at the top of
// generated ones): the device side of programmatic dependent launch
// (driver.Context.LaunchDependent, sm_90 and newer), rlx_block_sum,
// rlx_sq_sum and rlx_prefetch_l2.
//
// RLX_GRID_WAIT() returns once the grid ahead of this one in the stream has
// completed and its writes are visible. A kernel launched with
// LaunchDependent must call it before it reads or writes global memory
// that earlier work uses; launched plainly, or before sm_90, it costs
// nothing. RLX_GRID_LAUNCH_DEPENDENTS() lets the next dependent launch be
// scheduled before this grid finishes (that launch still waits for all of
// this grid in its own RLX_GRID_WAIT()); calling it is always safe.
const Prelude = `// rlx kernel prelude (kernels.Prelude)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define RLX_GRID_WAIT() asm volatile("griddepcontrol.wait;" ::: "memory")
#define RLX_GRID_LAUNCH_DEPENDENTS() asm volatile("griddepcontrol.launch_dependents;" ::: "memory")
#else
#define RLX_GRID_WAIT() do { } while (0)
#define RLX_GRID_LAUNCH_DEPENDENTS() do { } while (0)
#endif

// Sum over the block; every thread gets the total. blockDim.x must be a
// multiple of 32 and at most 1024. Every norm computes its scale with this
// one function, so that fused kernels reproduce the bits of the unfused ones.
__device__ float rlx_block_sum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();  // partial may be reused by the next call
    return v;
}

// This thread's share of the sum of squares of row[0, n): elements
// threadIdx.x, threadIdx.x + blockDim.x, … added in that order, as every
// norm sums them before rlx_block_sum, but eight loads at a time in
// flight instead of one (a loop that adds each load as it comes waits a
// memory round trip per element). The zeros past n add nothing.
__device__ __forceinline__ float rlx_sq_sum(const float* row, int n) {
    float ss = 0.0f;
    for (int i0 = threadIdx.x; i0 < n; i0 += 8 * blockDim.x) {
        float v[8];
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int i = i0 + j * blockDim.x;
            v[j] = i < n ? row[i] : 0.0f;
        }
#pragma unroll
        for (int j = 0; j < 8; j++) ss += v[j] * v[j];
    }
    return ss;
}

// Asks the L2 cache to fetch [p, p + n) from device memory, one 128-byte
// line per thread of the block, without waiting for it. A dependent
// launch calls it for its weights before RLX_GRID_WAIT(): weights do not
// depend on the kernel ahead, so their fetch overlaps that kernel's tail
// instead of following it. Compiled out with -DRLX_PREFETCH=0
// (RLX_CUDA_PREFETCH=0).
#ifndef RLX_PREFETCH
#define RLX_PREFETCH 1
#endif
__device__ __forceinline__ void rlx_prefetch_l2(const void* p, long long n) {
#if RLX_PREFETCH
    // Rounding down to the line stays inside p's page, which is mapped.
    const unsigned long long a = (unsigned long long)p & ~127ull, e = (unsigned long long)p + n;
    for (unsigned long long q = a + 128ull * threadIdx.x; q < e; q += 128ull * blockDim.x)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(q));
#endif
}
`

// Flags are the NVRTC options every kernel is compiled with. For A/B
// runs: RLX_CUDA_PREFETCH=0 compiles rlx_prefetch_l2 out, and
// RLX_CUDA_DEFINES="A=1,B" adds -DA=1 -DB (the kernels' #ifndef knobs).
var Flags = flags(os.Getenv("RLX_CUDA_PREFETCH"), os.Getenv("RLX_CUDA_DEFINES"))

func flags(prefetch, defines string) []string {
	f := []string{"--std=c++17", "-default-device"}
	if prefetch == "0" {
		f = append(f, "-DRLX_PREFETCH=0")
	}
	for _, d := range strings.Split(defines, ",") {
		if d = strings.TrimSpace(d); d != "" {
			f = append(f, "-D"+d)
		}
	}
	return f
}

// Build reports how one source file was built.
type Build struct {
	File   string
	Cached bool // the image came from the on-disk cache
	Bytes  int  // size of the CUBIN
}

// Set is the kernels loaded into one context.
type Set struct {
	ctx     *driver.Context
	modules []driver.Module
	fns     map[string]driver.Function
	// Builds lists every compiled file.
	Builds []Build
}

// Load builds every embedded source for c's device and loads it.
func Load(c *driver.Context) (*Set, error) {
	ver, err := driver.Version()
	if err != nil {
		return nil, err
	}
	s := &Set{ctx: c, fns: map[string]driver.Function{}}
	opts := nvrtc.Options{Arch: c.Device.Arch(), Flags: Flags}
	for _, f := range Files() {
		src, err := Source(f)
		if err != nil {
			return nil, err
		}
		img, hit, err := nvrtc.CompileCached(Prelude+src, f, opts, ver)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("cuda kernels: %w", err)
		}
		m, err := c.LoadModule(img)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("cuda kernels: loading %s for %s: %w", f, opts.Arch, err)
		}
		s.modules = append(s.modules, m)
		s.Builds = append(s.Builds, Build{File: f, Cached: hit, Bytes: len(img)})
	}
	return s, nil
}

// Func returns the kernel name, looking it up in the loaded modules once.
func (s *Set) Func(name string) (driver.Function, error) {
	if f, ok := s.fns[name]; ok {
		return f, nil
	}
	var firstErr error
	for _, m := range s.modules {
		f, err := s.ctx.Function(m, name)
		if err == nil {
			s.fns[name] = f
			return f, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return 0, fmt.Errorf("cuda kernels: no kernel %s: %w", name, firstErr)
}

// Close unloads the modules.
func (s *Set) Close() error {
	var first error
	for _, m := range s.modules {
		if err := s.ctx.Unload(m); err != nil && first == nil {
			first = err
		}
	}
	s.modules = nil
	return first
}
