//go:build linux && amd64

package dl

import "unsafe"

//go:linkname runtimeCgocall runtime.cgocall
func runtimeCgocall(fn uintptr, arg unsafe.Pointer) int32

// call16ABI0 is the address of rlx_cuda_call16 (call16_amd64.s).
var call16ABI0 uintptr

type call16Args struct {
	fn uintptr
	a  [16]uintptr
	r1 uintptr
}

// Call16 is Call for functions of up to 16 integer or pointer arguments.
//
//go:uintptrescapes
func Call16(fn uintptr, args ...uintptr) uintptr {
	if len(args) > 16 {
		panic("dl: Call16 with more than 16 arguments")
	}
	c := &call16Args{fn: fn}
	copy(c.a[:], args)
	runtimeCgocall(call16ABI0, unsafe.Pointer(c))
	return c.r1
}

// Has16 reports whether Call16 works on this system.
const Has16 = true
