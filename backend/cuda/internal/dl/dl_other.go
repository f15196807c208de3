//go:build !linux

package dl

func open(string) (uintptr, error) { return 0, ErrUnsupportedOS }

func sym(uintptr, string) (uintptr, error) { return 0, ErrUnsupportedOS }

// Call is never reached on systems where Open always fails.
func Call(fn uintptr, args ...uintptr) uintptr { panic(ErrUnsupportedOS) }
