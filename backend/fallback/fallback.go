// Package fallback combines a device backend with a host backend: nodes the
// device cannot run execute on the host, with their inputs copied out of
// device memory and their result copied back. All planned memory stays on
// the device; only the fallback kernels see host copies.
//
// It is how a GPU backend still runs every op of the catalog: the compiler
// asks Supports, and a node the device rejects but the host accepts gets a
// host kernel wrapped in transfers. Fallbacks are listed by Fallbacks so a
// CLI can report them.
package fallback

import (
	"context"
	"fmt"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Backend runs on Device, falling back to Host for unsupported nodes.
type Backend struct {
	Device, Host backend.Backend

	mu        sync.Mutex
	fallbacks map[string]int
}

// New combines a device and a host backend.
func New(device, host backend.Backend) *Backend {
	return &Backend{Device: device, Host: host, fallbacks: map[string]int{}}
}

var _ backend.Backend = (*Backend)(nil)

// Name implements backend.Backend.
func (b *Backend) Name() string { return b.Device.Name() + "+" + b.Host.Name() }

// Supports implements backend.Backend: a node either backend runs.
func (b *Backend) Supports(n *ir.Node) error {
	derr := b.Device.Supports(n)
	if derr == nil {
		return nil
	}
	if herr := b.Host.Supports(n); herr != nil {
		return fmt.Errorf("%w; host fallback: %w", derr, herr)
	}
	return nil
}

// Fallbacks counts, per op name, the nodes prepared on the host.
func (b *Backend) Fallbacks() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.fallbacks))
	for k, v := range b.fallbacks {
		out[k] = v
	}
	return out
}

// Prepare implements backend.Backend.
func (b *Backend) Prepare(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	if b.Device.Supports(n) == nil {
		return b.Device.Prepare(n, consts)
	}
	k, err := b.Host.Prepare(n, consts)
	if err != nil {
		return nil, err
	}
	// Constant inputs (weights: an embedding table, MoE experts) are read
	// from their host bytes, not copied out of device memory every run.
	hc := make([]backend.Buffer, len(n.Inputs))
	for i, t := range consts {
		if t == nil || i >= len(hc) {
			continue
		}
		if hc[i], err = b.Host.Wrap(t.Data); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	b.fallbacks[n.Op.String()]++
	b.mu.Unlock()
	return &hostKernel{b: b, k: k, node: n, consts: hc}, nil
}

// hostKernel runs a host kernel on copies of device views.
type hostKernel struct {
	b    *Backend
	k    backend.Kernel
	node *ir.Node
	// consts[i] holds input i's bytes on the host when it is a constant.
	consts []backend.Buffer
}

// Run implements backend.Kernel: copy in, run on the host, copy back.
func (h *hostKernel) Run(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	dev, host := h.b.Device, h.b.Host
	if err := dev.Sync(); err != nil {
		return err
	}
	var bufs []backend.Buffer
	defer func() {
		for _, x := range bufs {
			host.Free(x)
		}
	}()
	toHost := func(v backend.Tensor, copyIn bool) (backend.Tensor, []byte, error) {
		nb := v.Bytes()
		data := make([]byte, nb)
		if copyIn {
			if err := dev.Read(v, data); err != nil {
				return backend.Tensor{}, nil, err
			}
		}
		buf, err := host.Alloc(nb)
		if err != nil {
			return backend.Tensor{}, nil, err
		}
		bufs = append(bufs, buf)
		t := backend.Tensor{Buf: buf, DType: v.DType, Shape: v.Shape}
		if copyIn {
			if err := host.Write(t, data); err != nil {
				return backend.Tensor{}, nil, err
			}
		}
		return t, data, nil
	}
	hins := make([]backend.Tensor, len(ins))
	for i, v := range ins {
		if i < len(h.consts) && h.consts[i] != nil && h.consts[i].Size() == v.Bytes() {
			hins[i] = backend.Tensor{Buf: h.consts[i], DType: v.DType, Shape: v.Shape}
			continue
		}
		t, _, err := toHost(v, true)
		if err != nil {
			return fmt.Errorf("fallback %v: input %d: %w", h.node.Op, i, err)
		}
		hins[i] = t
	}
	var hout backend.Tensor
	var data []byte
	if out.Buf != nil {
		var err error
		if hout, data, err = toHost(out, false); err != nil {
			return err
		}
	}
	if err := h.k.Run(env, hins, hout); err != nil {
		return err
	}
	if err := host.Sync(); err != nil {
		return err
	}
	// Kernels may write their inputs (a KV cache, a state): copy back all
	// views the host kernel could have changed.
	if h.node.Op == ir.OpAttention || h.node.Op == ir.OpAssign {
		for i, v := range ins {
			if h.node.Inputs[i].Op != ir.OpState {
				continue
			}
			d := make([]byte, v.Bytes())
			if err := host.Read(hins[i], d); err != nil {
				return err
			}
			if err := dev.Write(v, d); err != nil {
				return err
			}
		}
	}
	if out.Buf == nil {
		return nil
	}
	if err := host.Read(hout, data); err != nil {
		return err
	}
	return dev.Write(out, data)
}

// Alloc implements backend.Backend (device memory).
func (b *Backend) Alloc(n int64) (backend.Buffer, error) { return b.Device.Alloc(n) }

// Wrap implements backend.Backend (device memory).
func (b *Backend) Wrap(data []byte) (backend.Buffer, error) { return b.Device.Wrap(data) }

// Write implements backend.Backend.
func (b *Backend) Write(dst backend.Tensor, src []byte) error { return b.Device.Write(dst, src) }

// Read implements backend.Backend.
func (b *Backend) Read(src backend.Tensor, dst []byte) error { return b.Device.Read(src, dst) }

// Execute implements backend.Backend: the device executes every launch
// (host kernels do their own transfers).
func (b *Backend) Execute(ctx context.Context, env *backend.Env, ls []backend.Launch) error {
	return b.Device.Execute(ctx, env, ls)
}

// Sync implements backend.Backend.
func (b *Backend) Sync() error { return b.Device.Sync() }

// Free implements backend.Backend.
func (b *Backend) Free(x backend.Buffer) { b.Device.Free(x) }
