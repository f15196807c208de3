package driver

import (
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Programmatic dependent launch (PDL, compute capability 9.0 and later).
//
// A kernel queued with LaunchDependent may be scheduled before the kernel
// ahead of it in the stream has finished: its blocks start, run whatever
// comes before the device-side wait (griddepcontrol.wait, the kernels
// package's RLX_GRID_WAIT()), and that wait returns once the previous
// grid has completed and its memory writes are visible. A kernel that
// calls RLX_GRID_LAUNCH_DEPENDENTS() (griddepcontrol.launch_dependents)
// lets the next dependent launch be scheduled before it finishes itself.
// What is saved is the gap between two dependent kernels (launch
// processing, block scheduling and the kernel's prologue), a few µs for
// the small kernels of a decode step.
//
// The contract: a kernel launched with LaunchDependent must execute the
// wait before it reads or writes any global memory that earlier work in
// the stream writes or reads. Kernels that do not call it must be queued
// with Launch. The launch attribute only relaxes kernel-to-kernel order;
// copies, memsets and event records keep full stream order. Stream
// capture records the relaxed edge as a programmatic dependency of the
// graph, so captured graphs keep the overlap.

// pdlNames are optional entry points (CUDA 12.0+); without them
// LaunchDependent is Launch.
var pdlNames = []string{"cuLaunchKernelEx"}

// launch attribute enums of cuda.h.
const (
	launchAttrProgrammaticStreamSerialization = 6 // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
)

// launchAttribute is CUlaunchAttribute: an id, padding to 8 bytes and a
// 64-byte value union.
type launchAttribute struct {
	id    uint32
	_     uint32
	value [64]byte
}

// launchConfig is CUlaunchConfig.
type launchConfig struct {
	gridX, gridY, gridZ    uint32
	blockX, blockY, blockZ uint32
	shared                 uint32
	_                      uint32
	stream                 uintptr
	attrs                  *launchAttribute
	numAttrs               uint32
	_                      uint32
}

// pdlLaunch keeps a config and its one attribute in one allocation, so that
// the attribute lives as long as the config handed to the driver.
type pdlLaunch struct {
	cfg  launchConfig
	attr launchAttribute
}

// pdlEnv is false when RLX_CUDA_PDL=0: every launch is a plain one.
var pdlEnv = os.Getenv("RLX_CUDA_PDL") != "0"

// pdlOff turns LaunchDependent into Launch process-wide (SetPDL).
var pdlOff atomic.Bool

// PDL reports whether LaunchDependent on c really relaxes the order: the
// driver has cuLaunchKernelEx, the device is sm_90 or newer, and neither
// RLX_CUDA_PDL=0 nor SetPDL(false) turned it off.
func (c *Context) PDL() bool {
	return pdlEnv && !pdlOff.Load() && fns["cuLaunchKernelEx"] != 0 && c.Device != nil && c.Device.Major >= 9
}

// SetPDL turns programmatic dependent launch on or off for the whole
// process (A/B measurements, tests) and returns the previous setting. On
// has no effect where PDL is unavailable or RLX_CUDA_PDL=0.
func SetPDL(on bool) (was bool) { return !pdlOff.Swap(!on) }

// LaunchDependent queues kernel f on s as Launch does, but lets it start
// before the previous kernel in s has completed (see the contract above:
// f must call RLX_GRID_WAIT() before touching memory that earlier work
// uses). Where PDL is unavailable or off it is Launch.
func (c *Context) LaunchDependent(f Function, grid, block Dim3, shared int, s Stream, args ...any) error {
	if !c.PDL() {
		return c.Launch(f, grid, block, shared, s, args...)
	}
	vals, ptrs, err := packArgs(args)
	if err != nil {
		return err
	}
	grid, block = fillDims(grid), fillDims(block)
	l := &pdlLaunch{cfg: launchConfig{
		gridX: uint32(grid.X), gridY: uint32(grid.Y), gridZ: uint32(grid.Z),
		blockX: uint32(block.X), blockY: uint32(block.Y), blockZ: uint32(block.Z),
		shared: uint32(shared), stream: uintptr(s), numAttrs: 1,
	}}
	l.attr.id = launchAttrProgrammaticStreamSerialization
	l.attr.value[0] = 1 // programmaticStreamSerializationAllowed (an int)
	l.cfg.attrs = &l.attr
	err = c.do("cuLaunchKernelEx", uintptr(unsafe.Pointer(&l.cfg)), uintptr(f), uintptr(unsafe.Pointer(&ptrs[0])), 0)
	runtime.KeepAlive(l)
	runtime.KeepAlive(vals)
	runtime.KeepAlive(ptrs)
	runtime.KeepAlive(args)
	return err
}
