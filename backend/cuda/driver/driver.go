// Package driver binds the parts of the CUDA driver API (libcuda.so.1) that
// rlx uses: devices, primary contexts, streams, memory, modules, launches and
// events. The library is opened at run time, so a binary built without cgo
// and without the CUDA toolkit runs everywhere and uses a GPU where one is.
//
// Driver API calls act on the context current on the calling OS thread, and
// goroutines move between threads, so every method of Context locks its
// goroutine to a thread and makes the context current for the call.
package driver

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/rlx-go/rlx/backend/cuda/internal/dl"
)

// ErrNoDriver is wrapped by the error of Init when libcuda cannot be loaded
// or initialized.
var ErrNoDriver = errors.New("no NVIDIA driver found")

var (
	initOnce sync.Once
	initErr  error
	// fns holds the entry points by name once the library is bound.
	fns map[string]uintptr
	// fnSetCurrent is looked up once: every call binds the context.
	fnSetCurrent uintptr
)

// names of every entry point used; all are resolved by Init so that a
// missing one is reported once, up front.
var names = []string{
	"cuInit", "cuDriverGetVersion", "cuGetErrorString", "cuGetErrorName",
	"cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceTotalMem_v2", "cuDeviceGetAttribute",
	"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize",
	"cuMemGetInfo_v2",
	"cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize",
	"cuMemAlloc_v2", "cuMemFree_v2", "cuMemsetD8_v2", "cuMemsetD8Async",
	"cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2",
	"cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2",
	"cuMemAllocHost_v2", "cuMemFreeHost",
	"cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction", "cuLaunchKernel",
	"cuOccupancyMaxActiveBlocksPerMultiprocessor",
	"cuEventCreate", "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime", "cuEventDestroy_v2",
}

// Init loads libcuda.so.1 and initializes the driver. It is safe to call
// many times; the first result is kept.
func Init() error {
	initOnce.Do(func() {
		// libcuda comes with the driver, not the toolkit: the linker's path
		// is the one place to look.
		var err error
		_, fns, err = dl.Bind(dl.Library{
			Candidates: []string{"libcuda.so.1", "libcuda.so"},
			Required:   names,
			// Entry points that only some features need (CUDA graphs,
			// programmatic dependent launch): a driver without them still
			// runs everything else.
			Optional:   append(optionalNames, pdlNames...),
			NotFound:   ErrNoDriver,
			OldRelease: "driver too old?",
		})
		if err != nil {
			initErr = err
			return
		}
		fnSetCurrent = fns["cuCtxSetCurrent"]
		if err := check("cuInit", call("cuInit", 0)); err != nil {
			initErr = fmt.Errorf("%w: %v", ErrNoDriver, err)
		}
	})
	return initErr
}

// Pointer arguments are converted with uintptr(unsafe.Pointer(p)) in the
// call expression, so uintptrescapes moves their targets to the heap: a
// goroutine stack that grows before the C call cannot leave them stale.
//
//go:uintptrescapes
func call(name string, args ...uintptr) uintptr {
	return dl.Call(fns[name], args...)
}

// Error is a failed driver call.
type Error struct {
	Call string // the driver function, e.g. "cuMemAlloc_v2"
	Code int    // the CUresult
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Msg  string // the driver's description
}

func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (%d): %s", e.Call, e.Name, e.Code, e.Msg)
}

// check turns a CUresult into an error naming the call.
func check(name string, r uintptr) error {
	code := int(int32(r))
	if code == 0 {
		return nil
	}
	e := &Error{Call: name, Code: code, Name: "CUDA_ERROR_UNKNOWN", Msg: "unknown error"}
	var s uintptr
	if int32(dl.Call(fns["cuGetErrorString"], r, uintptr(unsafe.Pointer(&s)))) == 0 {
		e.Msg = dl.GoString(s)
	}
	if int32(dl.Call(fns["cuGetErrorName"], r, uintptr(unsafe.Pointer(&s)))) == 0 {
		e.Name = dl.GoString(s)
	}
	return e
}

// Version returns the driver's CUDA version as major*1000 + minor*10
// (12040 is CUDA 12.4).
func Version() (int, error) {
	if err := Init(); err != nil {
		return 0, err
	}
	var v int32
	err := check("cuDriverGetVersion", call("cuDriverGetVersion", uintptr(unsafe.Pointer(&v))))
	return int(v), err
}

// DeviceCount returns the number of CUDA devices.
func DeviceCount() (int, error) {
	if err := Init(); err != nil {
		return 0, err
	}
	var n int32
	err := check("cuDeviceGetCount", call("cuDeviceGetCount", uintptr(unsafe.Pointer(&n))))
	return int(n), err
}

// Device describes one GPU.
type Device struct {
	Ordinal  int
	Name     string
	TotalMem int64
	Major    int // compute capability
	Minor    int
	SMs      int // multiprocessors
	handle   int32
}

// Arch is the compute capability as NVRTC spells it ("sm_90").
func (d *Device) Arch() string { return fmt.Sprintf("sm_%d%d", d.Major, d.Minor) }

// device attributes (CUdevice_attribute).
const (
	attrMultiprocessorCount = 16
	attrCCMajor             = 75
	attrCCMinor             = 76
)

// GetDevice describes device ordinal.
func GetDevice(ordinal int) (*Device, error) {
	n, err := DeviceCount()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d does not exist (%d devices)", ordinal, n)
	}
	d := &Device{Ordinal: ordinal}
	if err := check("cuDeviceGet", call("cuDeviceGet", uintptr(unsafe.Pointer(&d.handle)), uintptr(ordinal))); err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	if err := check("cuDeviceGetName", call("cuDeviceGetName", uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), uintptr(d.handle))); err != nil {
		return nil, err
	}
	d.Name = dl.GoString(uintptr(unsafe.Pointer(&name[0])))
	runtime.KeepAlive(name)
	var mem uint64
	if err := check("cuDeviceTotalMem_v2", call("cuDeviceTotalMem_v2", uintptr(unsafe.Pointer(&mem)), uintptr(d.handle))); err != nil {
		return nil, err
	}
	d.TotalMem = int64(mem)
	for _, a := range []struct {
		attr int
		dst  *int
	}{{attrCCMajor, &d.Major}, {attrCCMinor, &d.Minor}, {attrMultiprocessorCount, &d.SMs}} {
		var v int32
		if err := check("cuDeviceGetAttribute", call("cuDeviceGetAttribute", uintptr(unsafe.Pointer(&v)), uintptr(a.attr), uintptr(d.handle))); err != nil {
			return nil, err
		}
		*a.dst = int(v)
	}
	return d, nil
}
