package driver

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/rlx-go/rlx/backend/cuda/internal/dl"
)

// Context is a device's primary context: the one context the driver shares
// with every other user of the device in this process (cuBLASLt included).
type Context struct {
	Device *Device
	ctx    uintptr
}

// Open retains the primary context of device ordinal.
func Open(ordinal int) (*Context, error) {
	d, err := GetDevice(ordinal)
	if err != nil {
		return nil, err
	}
	c := &Context{Device: d}
	if err := check("cuDevicePrimaryCtxRetain", call("cuDevicePrimaryCtxRetain", uintptr(unsafe.Pointer(&c.ctx)), uintptr(d.handle))); err != nil {
		return nil, err
	}
	return c, nil
}

// Close releases the primary context.
func (c *Context) Close() error {
	if c.ctx == 0 {
		return nil
	}
	c.ctx = 0
	return check("cuDevicePrimaryCtxRelease_v2", call("cuDevicePrimaryCtxRelease_v2", uintptr(c.Device.handle)))
}

// Do runs f on a locked OS thread with c current, for callers (cuBLASLt)
// that make driver-level calls of their own.
func (c *Context) Do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := check("cuCtxSetCurrent", call("cuCtxSetCurrent", c.ctx)); err != nil {
		return err
	}
	return f()
}

// do makes one call with c current and checks its result.
//
// Pointer arguments are converted with uintptr(unsafe.Pointer(p)) in the
// call expression, so uintptrescapes moves their targets to the heap: a
// goroutine stack that grows before the C call cannot leave them stale.
//
//go:uintptrescapes
func (c *Context) do(name string, args ...uintptr) error {
	// Do's work, without a closure per call (launches are hot).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := check("cuCtxSetCurrent", dl.Call(fnSetCurrent, c.ctx)); err != nil {
		return err
	}
	return check(name, call(name, args...))
}

// Synchronize waits for all work on the context.
func (c *Context) Synchronize() error { return c.do("cuCtxSynchronize") }

// MemInfo returns free and total device memory in bytes.
func (c *Context) MemInfo() (free, total int64, err error) {
	var f, t uint64
	err = c.do("cuMemGetInfo_v2", uintptr(unsafe.Pointer(&f)), uintptr(unsafe.Pointer(&t)))
	return int64(f), int64(t), err
}

// Ptr is a device address.
type Ptr uintptr

// Add offsets p by n bytes.
func (p Ptr) Add(n int64) Ptr { return p + Ptr(n) }

// Stream is a queue of device work. The zero Stream is the legacy default
// stream.
type Stream uintptr

// NewStream creates a non-blocking stream (it does not synchronize with the
// default stream).
func (c *Context) NewStream() (Stream, error) {
	var s uintptr
	const nonBlocking = 1
	err := c.do("cuStreamCreate", uintptr(unsafe.Pointer(&s)), nonBlocking)
	return Stream(s), err
}

// DestroyStream destroys s after its work completes.
func (c *Context) DestroyStream(s Stream) error { return c.do("cuStreamDestroy_v2", uintptr(s)) }

// SyncStream waits for the work queued on s.
func (c *Context) SyncStream(s Stream) error { return c.do("cuStreamSynchronize", uintptr(s)) }

// Alloc allocates n bytes of device memory (uninitialized).
func (c *Context) Alloc(n int64) (Ptr, error) {
	if n <= 0 {
		return 0, fmt.Errorf("cuda: alloc of %d bytes", n)
	}
	var p uintptr
	if err := c.do("cuMemAlloc_v2", uintptr(unsafe.Pointer(&p)), uintptr(n)); err != nil {
		return 0, fmt.Errorf("alloc %d bytes: %w", n, err)
	}
	return Ptr(p), nil
}

// HostAlloc allocates n bytes of page-locked host memory, which the GPU
// copies to and from at full speed (pageable memory goes through the
// driver's staging buffers). Free it with HostFree; it is not Go memory.
func (c *Context) HostAlloc(n int64) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("cuda: host alloc of %d bytes", n)
	}
	var p uintptr
	if err := c.do("cuMemAllocHost_v2", uintptr(unsafe.Pointer(&p)), uintptr(n)); err != nil {
		return nil, fmt.Errorf("page-locked alloc %d bytes: %w", n, err)
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), p)), n), nil
}

// HostFree releases memory from HostAlloc.
func (c *Context) HostFree(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return c.do("cuMemFreeHost", uintptr(unsafe.Pointer(&b[0])))
}

// Free releases memory from Alloc.
func (c *Context) Free(p Ptr) error { return c.do("cuMemFree_v2", uintptr(p)) }

// Memset sets n bytes at p to v.
func (c *Context) Memset(p Ptr, v byte, n int64) error {
	return c.do("cuMemsetD8_v2", uintptr(p), uintptr(v), uintptr(n))
}

// MemsetAsync queues a Memset on s.
func (c *Context) MemsetAsync(p Ptr, v byte, n int64, s Stream) error {
	return c.do("cuMemsetD8Async", uintptr(p), uintptr(v), uintptr(n), uintptr(s))
}

// CopyHtoD copies src to device address dst, synchronously.
func (c *Context) CopyHtoD(dst Ptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	err := c.do("cuMemcpyHtoD_v2", uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src)))
	runtime.KeepAlive(src)
	return err
}

// CopyDtoH copies len(dst) bytes from device address src, synchronously.
func (c *Context) CopyDtoH(dst []byte, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	err := c.do("cuMemcpyDtoH_v2", uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(len(dst)))
	runtime.KeepAlive(dst)
	return err
}

// CopyDtoD copies n bytes between device addresses.
func (c *Context) CopyDtoD(dst, src Ptr, n int64) error {
	return c.do("cuMemcpyDtoD_v2", uintptr(dst), uintptr(src), uintptr(n))
}

// CopyHtoDAsync queues a copy of src to dst on s. src must stay alive and
// unchanged until the stream has passed the copy (SyncStream).
func (c *Context) CopyHtoDAsync(dst Ptr, src []byte, s Stream) error {
	if len(src) == 0 {
		return nil
	}
	return c.do("cuMemcpyHtoDAsync_v2", uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src)), uintptr(s))
}

// CopyDtoHAsync queues a copy of device memory into dst on s; dst holds the
// data once the stream has passed the copy.
func (c *Context) CopyDtoHAsync(dst []byte, src Ptr, s Stream) error {
	if len(dst) == 0 {
		return nil
	}
	return c.do("cuMemcpyDtoHAsync_v2", uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(len(dst)), uintptr(s))
}

// CopyDtoDAsync queues a device-to-device copy on s.
func (c *Context) CopyDtoDAsync(dst, src Ptr, n int64, s Stream) error {
	return c.do("cuMemcpyDtoDAsync_v2", uintptr(dst), uintptr(src), uintptr(n), uintptr(s))
}

// Module is loaded device code.
type Module uintptr

// LoadModule loads a CUBIN, fatbin or NUL-terminated PTX image.
func (c *Context) LoadModule(image []byte) (Module, error) {
	if len(image) == 0 {
		return 0, fmt.Errorf("cuda: empty module image")
	}
	var m uintptr
	err := c.do("cuModuleLoadData", uintptr(unsafe.Pointer(&m)), uintptr(unsafe.Pointer(&image[0])))
	runtime.KeepAlive(image)
	return Module(m), err
}

// Unload unloads m.
func (c *Context) Unload(m Module) error { return c.do("cuModuleUnload", uintptr(m)) }

// Function is a kernel entry point of a module.
type Function uintptr

// Function looks up the kernel name (its extern "C" name) in m.
func (c *Context) Function(m Module, name string) (Function, error) {
	var f uintptr
	cname := dl.CString(name)
	err := c.do("cuModuleGetFunction", uintptr(unsafe.Pointer(&f)), uintptr(m), uintptr(unsafe.Pointer(&cname[0])))
	runtime.KeepAlive(cname)
	if err != nil {
		return 0, fmt.Errorf("kernel %s: %w", name, err)
	}
	return Function(f), nil
}

// ActiveBlocks is how many blocks of f, of block threads and shared bytes
// of dynamic shared memory each, one multiprocessor holds at once (the
// limit of its registers, shared memory and threads).
func (c *Context) ActiveBlocks(f Function, block, shared int) (int, error) {
	var n int32
	err := c.do("cuOccupancyMaxActiveBlocksPerMultiprocessor", uintptr(unsafe.Pointer(&n)), uintptr(f), uintptr(block), uintptr(shared))
	return int(n), err
}

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z int }

// Launch queues kernel f on s. Each argument is one kernel parameter: Ptr,
// int32, uint32, int64, uint64, int (passed as int32), float32, or []byte
// for a struct passed by value (its bytes laid out as the C struct).
func (c *Context) Launch(f Function, grid, block Dim3, shared int, s Stream, args ...any) error {
	vals, ptrs, err := packArgs(args)
	if err != nil {
		return err
	}
	grid, block = fillDims(grid), fillDims(block)
	err = c.do("cuLaunchKernel", uintptr(f),
		uintptr(grid.X), uintptr(grid.Y), uintptr(grid.Z),
		uintptr(block.X), uintptr(block.Y), uintptr(block.Z),
		uintptr(shared), uintptr(s), uintptr(unsafe.Pointer(&ptrs[0])), 0)
	runtime.KeepAlive(vals)
	runtime.KeepAlive(ptrs)
	runtime.KeepAlive(args)
	return err
}

// packArgs lays out kernel arguments for the driver: vals holds the scalar
// values and ptrs the address of each argument (a []byte's first byte for
// a struct), plus a trailing nil.
func packArgs(args []any) (vals []uint64, ptrs []unsafe.Pointer, err error) {
	vals = make([]uint64, len(args))
	ptrs = make([]unsafe.Pointer, len(args)+1)
	for i, a := range args {
		if v, ok := a.([]byte); ok {
			if len(v) == 0 {
				return nil, nil, fmt.Errorf("cuda: launch argument %d: empty struct", i)
			}
			ptrs[i] = unsafe.Pointer(&v[0])
			continue
		}
		switch v := a.(type) {
		case Ptr:
			vals[i] = uint64(v)
		case int32:
			vals[i] = uint64(uint32(v))
		case uint32:
			vals[i] = uint64(v)
		case int:
			if v != int(int32(v)) {
				return nil, nil, fmt.Errorf("cuda: launch argument %d: int %d overflows int32", i, v)
			}
			vals[i] = uint64(uint32(int32(v)))
		case int64:
			vals[i] = uint64(v)
		case uint64:
			vals[i] = v
		case float32:
			vals[i] = uint64(math.Float32bits(v))
		default:
			return nil, nil, fmt.Errorf("cuda: launch argument %d: unsupported type %T", i, a)
		}
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	return vals, ptrs, nil
}

// fillDims sets unset (zero) Y and Z sizes to 1.
func fillDims(d Dim3) Dim3 {
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	return d
}

// Event marks a point in a stream.
type Event uintptr

// NewEvent creates an event that records timing.
func (c *Context) NewEvent() (Event, error) {
	var e uintptr
	err := c.do("cuEventCreate", uintptr(unsafe.Pointer(&e)), 0)
	return Event(e), err
}

// Record marks e at the current end of s.
func (c *Context) Record(e Event, s Stream) error {
	return c.do("cuEventRecord", uintptr(e), uintptr(s))
}

// SyncEvent waits until e has been reached.
func (c *Context) SyncEvent(e Event) error { return c.do("cuEventSynchronize", uintptr(e)) }

// Elapsed returns the milliseconds between two recorded events.
func (c *Context) Elapsed(start, end Event) (float32, error) {
	var ms float32
	err := c.do("cuEventElapsedTime", uintptr(unsafe.Pointer(&ms)), uintptr(start), uintptr(end))
	return ms, err
}

// DestroyEvent destroys e.
func (c *Context) DestroyEvent(e Event) error { return c.do("cuEventDestroy_v2", uintptr(e)) }
