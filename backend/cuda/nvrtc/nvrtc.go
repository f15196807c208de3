// Package nvrtc compiles CUDA C to device code at run time through NVIDIA's
// runtime compiler (libnvrtc), loaded without cgo, and caches the results on
// disk so that a program compiles its kernels once per driver and GPU.
package nvrtc

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/rlx-go/rlx/backend/cuda/internal/dl"
)

// ErrNotFound is wrapped by errors of Load when no libnvrtc can be opened.
var ErrNotFound = errors.New("no NVRTC library found (install the CUDA toolkit or set CUDA_HOME or RLX_NVRTC)")

var (
	loadOnce sync.Once
	loadErr  error
	libPath  string
	// fns holds the entry points by name once Load has succeeded.
	fns map[string]uintptr
)

var names = []string{
	"nvrtcVersion", "nvrtcGetErrorString", "nvrtcCreateProgram", "nvrtcDestroyProgram",
	"nvrtcCompileProgram", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog",
	"nvrtcGetPTXSize", "nvrtcGetPTX", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
}

// candidates lists where libnvrtc may be: RLX_NVRTC (a file), the dynamic
// linker's path, then CUDA_HOME, CUDA_PATH and /usr/local/cuda.
func candidates() []string {
	return dl.ToolkitCandidates("RLX_NVRTC", "libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2")
}

// Load opens libnvrtc. It is safe to call many times; the first result is
// kept.
func Load() error {
	loadOnce.Do(func() {
		libPath, fns, loadErr = dl.Bind(dl.Library{
			Candidates: candidates(),
			Required:   names,
			NotFound:   ErrNotFound,
			OldRelease: "NVRTC older than 11.1?",
		})
	})
	return loadErr
}

// Path returns the library Load opened.
func Path() string { return libPath }

// Pointer arguments are converted with uintptr(unsafe.Pointer(p)) in the
// call expression, so uintptrescapes moves their targets to the heap: a
// goroutine stack that grows before the C call cannot leave them stale.
//
//go:uintptrescapes
func call(name string, args ...uintptr) uintptr { return dl.Call(fns[name], args...) }

// check turns an nvrtcResult into an error naming the call.
func check(name string, r uintptr) error {
	if int32(r) == 0 {
		return nil
	}
	return fmt.Errorf("nvrtc: %s: %s (%d)", name, dl.GoString(call("nvrtcGetErrorString", r)), int32(r))
}

// Version returns NVRTC's CUDA version.
func Version() (major, minor int, err error) {
	if err := Load(); err != nil {
		return 0, 0, err
	}
	var a, b int32
	err = check("nvrtcVersion", call("nvrtcVersion", uintptr(unsafe.Pointer(&a)), uintptr(unsafe.Pointer(&b))))
	return int(a), int(b), err
}

// Options controls one compilation.
type Options struct {
	// Arch is the target: "sm_90" gives a CUBIN for that GPU, "compute_90"
	// gives PTX that the driver compiles when it loads it.
	Arch string
	// Flags are further NVRTC options ("-default-device", "--use_fast_math").
	Flags []string
}

func (o Options) args() []string {
	return append([]string{"--gpu-architecture=" + o.Arch}, o.Flags...)
}

// CompileError is a compilation that NVRTC rejected; Log holds its messages.
type CompileError struct {
	Name string
	Err  error
	Log  string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("nvrtc: compiling %s: %v\n%s", e.Name, e.Err, strings.TrimSpace(e.Log))
}

func (e *CompileError) Unwrap() error { return e.Err }

// Compile compiles the CUDA C source src (named name in messages) and
// returns a CUBIN when opts.Arch is "sm_XX", PTX (NUL-terminated, as
// cuModuleLoadData wants it) when it is "compute_XX".
func Compile(src, name string, opts Options) ([]byte, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	cubin := strings.HasPrefix(opts.Arch, "sm_")
	if !cubin && !strings.HasPrefix(opts.Arch, "compute_") {
		return nil, fmt.Errorf("nvrtc: compiling %s: architecture %q is neither sm_XX nor compute_XX", name, opts.Arch)
	}
	csrc, cname := dl.CString(src), dl.CString(name)
	var prog uintptr
	if err := check("nvrtcCreateProgram", call("nvrtcCreateProgram", uintptr(unsafe.Pointer(&prog)),
		uintptr(unsafe.Pointer(&csrc[0])), uintptr(unsafe.Pointer(&cname[0])), 0, 0, 0)); err != nil {
		return nil, err
	}
	runtime.KeepAlive(csrc)
	runtime.KeepAlive(cname)
	defer call("nvrtcDestroyProgram", uintptr(unsafe.Pointer(&prog)))

	args := opts.args()
	cargs := make([][]byte, len(args))
	ptrs := make([]uintptr, len(args))
	for i, a := range args {
		cargs[i] = dl.CString(a)
		ptrs[i] = uintptr(unsafe.Pointer(&cargs[i][0]))
	}
	r := call("nvrtcCompileProgram", prog, uintptr(len(ptrs)), uintptr(unsafe.Pointer(&ptrs[0])))
	runtime.KeepAlive(cargs)
	runtime.KeepAlive(ptrs)
	log := programLog(prog)
	if err := check("nvrtcCompileProgram", r); err != nil {
		return nil, &CompileError{Name: name, Err: err, Log: log}
	}
	sizeFn, getFn := "nvrtcGetPTXSize", "nvrtcGetPTX"
	if cubin {
		sizeFn, getFn = "nvrtcGetCUBINSize", "nvrtcGetCUBIN"
	}
	var n uint64
	if err := check(sizeFn, call(sizeFn, prog, uintptr(unsafe.Pointer(&n)))); err != nil {
		return nil, err
	}
	if n == 0 || n > 1<<30 {
		return nil, fmt.Errorf("nvrtc: compiling %s: implausible output size %d", name, n)
	}
	out := make([]byte, n)
	if err := check(getFn, call(getFn, prog, uintptr(unsafe.Pointer(&out[0])))); err != nil {
		return nil, err
	}
	return out, nil
}

func programLog(prog uintptr) string {
	var n uint64
	if call("nvrtcGetProgramLogSize", prog, uintptr(unsafe.Pointer(&n))) != 0 || n <= 1 || n > 1<<26 {
		return ""
	}
	b := make([]byte, n)
	if call("nvrtcGetProgramLog", prog, uintptr(unsafe.Pointer(&b[0]))) != 0 {
		return ""
	}
	return strings.TrimRight(string(b), "\x00")
}
