// Package kernels holds rlx's CUDA C kernels (embedded *.cu files) and
// builds them for a device: NVRTC compiles each file for the GPU's
// architecture on first use, the result is cached on disk, and the module
// is loaded into the device's context.
package kernels

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

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

// Flags are the NVRTC options every kernel is compiled with.
var Flags = []string{"--std=c++17", "-default-device"}

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
		img, hit, err := nvrtc.CompileCached(src, f, opts, ver)
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
