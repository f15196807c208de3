// Package backend defines what a device must implement to run compiled
// programs: memory, kernels for the ops of the IR catalog, a capability
// query, and the execution of a flat list of kernel launches.
//
// The compiler (package compile) owns everything device-independent: graph
// passes, buffer lifetimes and the memory plan. A backend only prepares one
// kernel per node (pre-packing weights as it likes), allocates buffers, and
// runs launches in order. backend/cpu is the reference implementation;
// backend/cuda implements the same interface through purego.
package backend

import (
	"context"
	"fmt"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Buffer is a block of device memory.
type Buffer interface {
	// Size is the buffer's length in bytes.
	Size() int64
}

// Tensor is a contiguous row-major view into a buffer.
type Tensor struct {
	Buf   Buffer
	Off   int64
	DType tensor.DType
	Shape []int
}

// Bytes is the storage size of the view.
func (t Tensor) Bytes() int64 {
	n, _ := tensor.Bytes(t.DType, t.Shape)
	return n
}

// Env carries the run-time binding of symbols to kernels whose attributes
// hold symbolic dims (an attention's past length, a slice's start). The
// executor updates it before each run; kernels read it while running.
type Env struct {
	Bind map[string]int
}

// Dim evaluates d under the current binding.
func (e *Env) Dim(d ir.Dim) (int, error) { return d.Eval(e.Bind) }

// Kernel runs one node of a program.
type Kernel interface {
	// Run computes out from ins. Views are contiguous and hold the shapes
	// of the node's inputs and result for the current binding.
	Run(env *Env, ins []Tensor, out Tensor) error
}

// Launch is one kernel call of a planned program.
type Launch struct {
	Node   *ir.Node
	Kernel Kernel
	Ins    []Tensor
	Out    Tensor
	// Release lists views whose last use is this launch: a backend in
	// poison mode overwrites them after the launch to catch a memory plan
	// that would let a later launch read them.
	Release []Tensor
}

// Backend is a device that runs compiled programs.
type Backend interface {
	// Name identifies the backend ("cpu", "cuda:0").
	Name() string
	// Supports returns nil when the backend can run node n, or an error
	// saying why not (the compiler then places n on the host backend).
	Supports(n *ir.Node) error
	// Prepare builds the kernel for n. consts[i] is the host value of input
	// i when it is a Param or Const (nil otherwise): a kernel may pre-pack
	// it, and then ignores that input's view at run time.
	Prepare(n *ir.Node, consts []*tensor.Tensor) (Kernel, error)
	// Alloc returns zeroed device memory.
	Alloc(bytes int64) (Buffer, error)
	// Wrap makes a buffer holding data. A host backend may use data in place
	// (weights stay mmapped); a device backend copies it.
	Wrap(data []byte) (Buffer, error)
	// Write copies host bytes into a view; Read copies a view out.
	Write(dst Tensor, src []byte) error
	Read(src Tensor, dst []byte) error
	// Execute runs launches in order, checking ctx between them. A launch
	// whose kernel this backend did not prepare (a host fallback, see
	// backend/fallback) is run by calling its Run method.
	Execute(ctx context.Context, env *Env, launches []Launch) error
	// Sync waits for all work submitted so far.
	Sync() error
	// Free releases a buffer from Alloc or Wrap.
	Free(Buffer)
}

// ErrUnsupported is wrapped by Supports errors.
var ErrUnsupported = fmt.Errorf("unsupported")

// Unsupported builds a Supports error for node n.
func Unsupported(backend string, n *ir.Node, why string) error {
	return fmt.Errorf("%s: %v on %v%v: %s: %w", backend, n.Op, n.DType, n.Shape, why, ErrUnsupported)
}
