//go:build linux

package dl

import "github.com/ebitengine/purego"

func open(name string) (uintptr, error) {
	return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

func sym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }

// Call calls the C function at fn with up to 15 integer or pointer
// arguments and returns its integer result. Go memory passed by address must
// be converted with uintptr(unsafe.Pointer(p)) in the call expression itself
// so that it stays alive during the call.
//
//go:uintptrescapes
func Call(fn uintptr, args ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, args...)
	return r
}
