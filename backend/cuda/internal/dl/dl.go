// Package dl opens shared libraries at run time and calls their C functions
// without cgo. It is the one place of backend/cuda that knows how a C call is
// made, so the driver, NVRTC and cuBLASLt bindings stay plain Go.
package dl

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// ErrUnsupportedOS is returned on systems where the CUDA libraries cannot be
// loaded.
var ErrUnsupportedOS = errors.New("CUDA is only supported on linux")

// Lib is an opened shared library.
type Lib struct {
	// Path is the name the library was opened by.
	Path   string
	handle uintptr

	mu   sync.Mutex
	syms map[string]uintptr
}

// Open tries names in order and returns the first library that opens. The
// error lists why every candidate failed.
func Open(names ...string) (*Lib, error) {
	var why []string
	for _, n := range names {
		h, err := open(n)
		if err == nil {
			return &Lib{Path: n, handle: h, syms: map[string]uintptr{}}, nil
		}
		if errors.Is(err, ErrUnsupportedOS) {
			return nil, err
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, n) {
			msg = n + ": " + msg
		}
		why = append(why, msg)
	}
	return nil, errors.New(strings.Join(why, "; "))
}

// Func returns the address of the C function name.
func (l *Lib) Func(name string) (uintptr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.syms[name]; ok {
		return p, nil
	}
	p, err := sym(l.handle, name)
	if err != nil {
		return 0, fmt.Errorf("%s: symbol %s: %w", l.Path, name, err)
	}
	if p == 0 {
		return 0, fmt.Errorf("%s: symbol %s not found", l.Path, name)
	}
	l.syms[name] = p
	return p, nil
}

// CString returns s as a NUL-terminated byte slice. The caller keeps the
// slice alive for as long as C may read it.
func CString(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// GoString copies the NUL-terminated C string at p.
func GoString(p uintptr) string {
	if p == 0 {
		return ""
	}
	var n int
	for *(*byte)(unsafe.Add(unsafe.Pointer(nil), p+uintptr(n))) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), p)), n))
}
