package dl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ToolkitCandidates lists where a CUDA toolkit library may be, most
// specific first: the file named by the environment variable env, the names
// alone (the dynamic linker's search path), then each name under CUDA_HOME,
// CUDA_PATH and the toolkit's default install directories. The toolkit is
// often installed without being on the linker's path, hence the directories.
func ToolkitCandidates(env string, names ...string) []string {
	var out []string
	if p := os.Getenv(env); p != "" {
		out = append(out, p)
	}
	out = append(out, names...)
	var dirs []string
	if h := os.Getenv("CUDA_HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, "lib64"), filepath.Join(h, "lib"))
	}
	if h := os.Getenv("CUDA_PATH"); h != "" {
		dirs = append(dirs, filepath.Join(h, "lib64"))
	}
	dirs = append(dirs, "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/targets/sbsa-linux/lib")
	for _, d := range dirs {
		for _, n := range names {
			out = append(out, filepath.Join(d, n))
		}
	}
	return out
}

// Library says which shared library Bind opens and what it looks up there.
type Library struct {
	// Candidates are the names or paths to try, in order.
	Candidates []string
	// Required are the entry points every use needs; one missing fails Bind,
	// so that it is reported once, up front, not at the first call.
	Required []string
	// Optional are entry points of later releases that only some features
	// need; those the library lacks are left out of the table.
	Optional []string
	// NotFound is the caller's error for "no usable library": every error of
	// Bind wraps it, except ErrUnsupportedOS, which is returned as it is.
	NotFound error
	// OldRelease is added to the error of a missing required entry point,
	// whose likely cause is an old release ("driver too old?").
	OldRelease string
}

// Bind opens the first candidate that loads and returns the name it was
// opened by and the addresses of its entry points by C name.
func Bind(lib Library) (path string, fns map[string]uintptr, err error) {
	l, err := Open(lib.Candidates...)
	if err != nil {
		if errors.Is(err, ErrUnsupportedOS) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("%w: %v", lib.NotFound, err)
	}
	fns = make(map[string]uintptr, len(lib.Required)+len(lib.Optional))
	for _, n := range lib.Required {
		p, err := l.Func(n)
		if err != nil {
			if lib.OldRelease != "" {
				return "", nil, fmt.Errorf("%w: %v (%s)", lib.NotFound, err, lib.OldRelease)
			}
			return "", nil, fmt.Errorf("%w: %v", lib.NotFound, err)
		}
		fns[n] = p
	}
	for _, n := range lib.Optional {
		if p, err := l.Func(n); err == nil {
			fns[n] = p
		}
	}
	return l.Path, fns, nil
}
