package driver

import (
	"fmt"
	"unsafe"
)

// optionalNames are resolved by Init when the driver has them; the methods
// that use them return ErrNoGraphs otherwise.
var optionalNames = []string{
	"cuStreamBeginCapture_v2", "cuStreamEndCapture", "cuStreamIsCapturing",
	"cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy",
}

// ErrNoGraphs is returned by the graph methods when the driver lacks the
// stream-capture entry points (CUDA < 11.4).
var ErrNoGraphs = fmt.Errorf("cuda: this driver has no CUDA graph support (stream capture needs CUDA 11.4 or later)")

// HasGraphs reports whether the driver can capture and replay graphs.
func HasGraphs() bool { return Init() == nil && hasGraphs() }

func hasGraphs() bool {
	for _, n := range optionalNames {
		if fns[n] == 0 {
			return false
		}
	}
	return true
}

// Graph is stream work captured once and instantiated, so that it can be
// replayed with one launch: every kernel, copy and memset keeps the
// arguments it was captured with.
type Graph struct {
	graph, exec uintptr
}

// captureRelaxed is CU_STREAM_CAPTURE_MODE_RELAXED: other threads (and
// this one) may make calls that are unsafe during capture, such as
// cuMemAlloc; only work queued on the capturing stream is recorded.
const captureRelaxed = 2

// BeginCapture starts recording the work queued on s (not the legacy
// default stream) into a graph instead of running it, until EndCapture.
// A call that synchronizes s during the capture fails and invalidates it.
func (c *Context) BeginCapture(s Stream) error {
	if !hasGraphs() {
		return ErrNoGraphs
	}
	return c.do("cuStreamBeginCapture_v2", uintptr(s), captureRelaxed)
}

// Capturing reports whether s is recording.
func (c *Context) Capturing(s Stream) (bool, error) {
	if !hasGraphs() {
		return false, ErrNoGraphs
	}
	var st int32 // CUstreamCaptureStatus: 0 none, 1 active, 2 invalidated
	err := c.do("cuStreamIsCapturing", uintptr(s), uintptr(unsafe.Pointer(&st)))
	return st != 0, err
}

// EndCapture stops recording on s and instantiates what was recorded. If
// the capture was invalidated (an illegal call during it), the error says
// so and nothing needs to be destroyed.
func (c *Context) EndCapture(s Stream) (*Graph, error) {
	if !hasGraphs() {
		return nil, ErrNoGraphs
	}
	g := &Graph{}
	if err := c.do("cuStreamEndCapture", uintptr(s), uintptr(unsafe.Pointer(&g.graph))); err != nil {
		return nil, err
	}
	if err := c.do("cuGraphInstantiateWithFlags", uintptr(unsafe.Pointer(&g.exec)), g.graph, 0); err != nil {
		c.do("cuGraphDestroy", g.graph)
		return nil, err
	}
	return g, nil
}

// LaunchGraph queues one replay of g on s.
func (c *Context) LaunchGraph(g *Graph, s Stream) error {
	if g == nil || g.exec == 0 {
		return fmt.Errorf("cuda: launch of a destroyed graph")
	}
	return c.do("cuGraphLaunch", g.exec, uintptr(s))
}

// DestroyGraph frees g; replays already queued complete first.
func (c *Context) DestroyGraph(g *Graph) error {
	if g == nil {
		return nil
	}
	var first error
	if g.exec != 0 {
		first = c.do("cuGraphExecDestroy", g.exec)
		g.exec = 0
	}
	if g.graph != 0 {
		if err := c.do("cuGraphDestroy", g.graph); err != nil && first == nil {
			first = err
		}
		g.graph = 0
	}
	return first
}
